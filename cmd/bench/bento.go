package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// bentoEnvelope is the Bloblang that turns a decoded event into what the
// bridge publishes: the event itself as the body, a generated event id for
// a custom object event without one, and the six attributes
// (thena-events.md §2) as the only metadata, which aws_sns sends as String
// message attributes. schema_registry_decode (avro_raw_json) renders
// timestamp-millis as Unix milliseconds: custom object events keep them,
// as the bridge does; the others get ISO-8601 with milliseconds, as the
// bridge writes them (formatted in two parts: a float division would round
// some milliseconds off).
const bentoEnvelope = `meta = deleted()
let id = this.eventId | uuid_v4()
root = this
root.eventId = $id
meta ` + mapping.AttrEventName + ` = this.eventType
meta ` + mapping.AttrEventID + ` = $id
meta ` + mapping.AttrEventTimestamp + ` = if this.eventType.has_prefix("` + mapping.CustomObjectPrefix + `") { this.timestamp.string() } else { "%s.%03dZ".format((this.timestamp / 1000).floor().ts_format("2006-01-02T15:04:05", "UTC"), this.timestamp % 1000) }
meta ` + mapping.AttrUserID + ` = this.actor.id
meta ` + mapping.AttrUserType + ` = this.actor.type
meta ` + mapping.AttrOrganizationID + ` = this.orgId
`

// bentoParams is what a Bento pipeline of the benchmark is told.
type bentoParams struct {
	brokers              []string
	topic, group         string
	registry             string
	endpoint             string
	arnEvents, arnCustom string
	inflight             int
}

// bentoConfig is the pipeline: kafka_franz (the bridge's fetch sizes and
// commit period) -> schema_registry_decode -> the envelope -> one aws_sns
// output per topic (custom objects to their own, as the bridge routes),
// each with inflight Publish calls in flight. Bento's own HTTP server and
// metrics are off; logs are warnings only.
func bentoConfig(p bentoParams) ([]byte, error) {
	sns := func(arn string) map[string]any {
		return map[string]any{"aws_sns": map[string]any{
			"topic_arn":     arn,
			"endpoint":      p.endpoint,
			"region":        bridgeproc.Region,
			"credentials":   map[string]any{"id": "test", "secret": "test"},
			"max_in_flight": p.inflight,
		}}
	}
	cfg := map[string]any{
		"http":    map[string]any{"enabled": false},
		"logger":  map[string]any{"level": "WARN", "format": "logfmt"},
		"metrics": map[string]any{"none": map[string]any{}},
		"input": map[string]any{"kafka_franz": map[string]any{
			"seed_brokers":              p.brokers,
			"topics":                    []string{p.topic},
			"consumer_group":            p.group,
			"start_from_oldest":         true,
			"commit_period":             "5s",
			"fetch_max_bytes":           "16MiB",
			"fetch_max_partition_bytes": "256KiB",
		}},
		"pipeline": map[string]any{"processors": []any{
			map[string]any{"schema_registry_decode": map[string]any{"url": p.registry, "avro_raw_json": true}},
			map[string]any{"mapping": bentoEnvelope},
		}},
		"output": map[string]any{"switch": map[string]any{"cases": []any{
			map[string]any{"check": `@` + mapping.AttrEventName + `.has_prefix("` + mapping.CustomObjectPrefix + `")`, "output": sns(p.arnCustom)},
			map[string]any{"output": sns(p.arnEvents)},
		}}},
	}
	return yaml.Marshal(cfg)
}

// startBento runs the -bento binary with the pipeline for topic, group and sk.
func (h *harness) startBento(ctx context.Context, sk *sink, topic, group string) (*bridgeproc.Child, error) {
	o := h.opts
	b, err := bentoConfig(bentoParams{brokers: o.brokerList(), topic: topic, group: group, registry: o.registry,
		endpoint: sk.URL(), arnEvents: sk.arnEvents, arnCustom: sk.arnCustom, inflight: o.inflight})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(h.tmp, group+".bento.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, o.bento, "-c", path)
	cmd.Stdout, cmd.Stderr, cmd.Env = h.stderr, h.stderr, bridgeproc.Env(os.Environ())
	return bridgeproc.StartChild(cmd)
}
