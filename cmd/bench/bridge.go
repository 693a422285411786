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
)

// bridgeOverrides are the keys the harness sets in every bridge's
// configuration, current or base revision: addresses, a fresh group, the
// schemas, the SNS calls in flight and quiet logs. Everything else keeps
// that revision's config.yaml defaults.
func (h *harness) bridgeOverrides(sk *sink, topic, group, listen, framing string) map[string]any {
	o := h.opts
	m := map[string]any{
		"kafka.brokers":             o.brokerList(),
		"kafka.group_id":            group,
		"kafka.topics":              []string{topic},
		"kafka.reset_offset":        "earliest",
		"kafka.client_id":           "bench-bridge",
		"sns.region":                bridgeproc.Region,
		"sns.endpoint":              sk.URL(),
		"sns.max_inflight_batches":  o.inflight,
		"http.listen":               listen,
		"log.level":                 "warn",
		"routing.default_topic_arn": "",
		"schemas.local_dir":         o.schemas,
		"schemas.registry_url":      "",
	}
	if framing == framingRegistry {
		m["schemas.local_dir"], m["schemas.registry_url"] = "", o.registry
	}
	return m
}

// routes are the bridge's two standard routes to sk's topics; relaxed adds
// the -relaxed-route key=value to each.
func (h *harness) routes(sk *sink, relaxed bool) ([]map[string]any, error) {
	rs := []map[string]any{
		{"pattern": "custom-object:*", "topic_arn": sk.arnCustom},
		{"pattern": "*", "topic_arn": sk.arnEvents},
	}
	if relaxed {
		k, v, ok := strings.Cut(h.opts.relaxedRoute, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-relaxed-route %q: want key=value", h.opts.relaxedRoute)
		}
		for _, r := range rs {
			r[k] = v
		}
	}
	return rs, nil
}

// bridgeConfig is the configuration of contender c (bridge or base): the
// revision's own config.yaml with bridgeOverrides set. A key the revision's
// file does not have is left out, except those a bridge cannot run without.
func (h *harness) bridgeConfig(c contender, sk *sink, topic, group, listen, framing string) (bridgeproc.Config, error) {
	template := h.currentConfig
	if c.kind == cBase {
		template = h.base.config
	}
	cfg, err := cloneConfig(template)
	if err != nil {
		return nil, err
	}
	if err := applyOverrides(cfg, h.bridgeOverrides(sk, topic, group, listen, framing)); err != nil {
		return nil, fmt.Errorf("%s config: %w", c.kind, err)
	}
	rs, err := h.routes(sk, c.order == vRelaxed)
	if err != nil {
		return nil, err
	}
	cfg.Set("routing.routes", rs)
	return cfg, nil
}

// requiredKeys must exist in every revision's config.yaml: without them the
// harness cannot point a bridge at its Kafka topic and sink.
var requiredKeys = []string{"kafka.brokers", "kafka.group_id", "kafka.topics", "sns.endpoint", "http.listen", "routing.routes"}

// applyOverrides sets each key of m in cfg that cfg already has (so a
// revision that lacks a key is not given one it would refuse) and fails
// when a required key is missing.
func applyOverrides(cfg bridgeproc.Config, m map[string]any) error {
	for _, k := range requiredKeys {
		if !cfg.Has(k) {
			return fmt.Errorf("its config.yaml has no %s", k)
		}
	}
	for k, v := range m {
		if cfg.Has(k) {
			cfg.Set(k, v)
		}
	}
	return nil
}

// startBridge starts contender c (the current bridge or the base revision)
// on topic (whose values carry framing's schema ids) as group, publishing to
// sk, its /metrics on a free loopback port.
func (h *harness) startBridge(ctx context.Context, c contender, sk *sink, topic, framing, group string, stdout io.Writer) (*bridgeproc.Bridge, error) {
	listen, err := bridgeproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	cfg, err := h.bridgeConfig(c, sk, topic, group, listen, framing)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(h.tmp, group+".yaml")
	if err := cfg.WriteFile(path); err != nil {
		return nil, err
	}
	bin := h.opts.bridgeBin
	if c.kind == cBase {
		bin = h.base.binary
	}
	return bridgeproc.Start(ctx, bridgeproc.Options{
		Binary: bin, Config: path, Env: bridgeproc.Env(os.Environ()),
		Stdout: stdout, Stderr: h.stderr, Addr: listen,
	})
}

// progressGauges are the bridge's work-in-progress metrics shown in the
// progress lines: they tell where events wait (a revision without one of
// them shows the others).
var progressGauges = []string{"bridge_inflight_events", "bridge_sns_inflight_entries", "bridge_parked_keys", "bridge_paused_partitions", "bridge_keys_at_limit", "bridge_sns_send_rate_limit"}

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
		if hasSeries(m, g) {
			fmt.Fprintf(&sb, ", %s %s", strings.TrimPrefix(g, "bridge_"), strconv.FormatFloat(m.Sum(g), 'g', -1, 64))
		}
	}
	return sb.String()
}

// hasSeries reports whether m holds a series of metric name.
func hasSeries(m bridgeproc.Metrics, name string) bool {
	for series := range m {
		if n, _, _ := strings.Cut(series, "{"); n == name {
			return true
		}
	}
	return false
}
