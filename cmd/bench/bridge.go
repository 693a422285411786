package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// startBridge starts the bridge binary on topic as group, publishing to sk:
// config.yaml's defaults except for the addresses, a fresh group, the local
// schemas and -inflight, its /metrics on a free loopback port.
func (h *harness) startBridge(ctx context.Context, sk *sink, topic, group string, stdout io.Writer) (*bridgeproc.Bridge, error) {
	o := h.opts
	listen, err := bridgeproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	cfg := bridgeproc.NewConfig(bridgeproc.Base{
		Brokers: o.brokerList(), GroupID: group, Topics: []string{topic},
		SchemasDir: o.schemas, SNSEndpoint: sk.srv.URL,
		Routes: []mapping.Route{{Pattern: "custom-object:*", TopicARN: sk.arnCustom}, {Pattern: "*", TopicARN: sk.arnEvents}},
	})
	cfg.Set("kafka.reset_offset", "earliest").Set("kafka.client_id", "bench-bridge")
	cfg.Set("sns.max_inflight_batches", o.inflight).Set("http.listen", listen).Set("log.level", "warn")
	path := filepath.Join(h.tmp, group+".yaml")
	if err := cfg.WriteFile(path); err != nil {
		return nil, err
	}
	return bridgeproc.Start(ctx, bridgeproc.Options{
		Binary: o.bridgeBin, Config: path, Env: bridgeproc.Env(os.Environ()),
		Stdout: stdout, Stderr: h.stderr, Addr: listen,
	})
}

// progressGauges are the bridge's work-in-progress metrics shown in the
// progress lines: they tell where events wait.
var progressGauges = []string{"bridge_inflight_events", "bridge_sns_inflight_entries", "bridge_parked_keys", "bridge_paused_partitions"}

// gauges reads progressGauges from the bridge's /metrics, briefly.
func gauges(b *bridgeproc.Bridge) string {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	m, err := b.Metrics(ctx)
	if err != nil {
		return ""
	}
	var sb strings.Builder
	for _, g := range progressGauges {
		if v, ok := m[g]; ok {
			fmt.Fprintf(&sb, ", %s %s", strings.TrimPrefix(g, "bridge_"), strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	return sb.String()
}
