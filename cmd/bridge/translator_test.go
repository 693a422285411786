package main

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// A record that fails after routing (too large for its topic) still names
// the event and the topic it was meant for, so its dead letter says both.
func TestTranslateFailureKeepsWhatWasLearnt(t *testing.T) {
	s, err := loadSettingsForTool("absent.yaml", "../../schemas", "", commandEnv{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	tt, err := newToolTranslator(s, 262144)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := eventgen.New(3, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := gen.TooLarge()
	out, err := tt.tr.Translate(context.Background(), &kgo.Record{Topic: "thena.events", Key: rec.Key, Value: rec.Value})
	if failure.ReasonOf(err) != failure.ReasonTooLarge {
		t.Fatalf("err %v, want too_large", err)
	}
	if out.Entry != nil {
		t.Error("a failed translation carries an entry to publish")
	}
	if out.RoutedARN != "arn:aws:sns:us-east-1:123456789012:thena-events" || out.EventID == "" || out.EventType != rec.EventType || out.OrgID == "" {
		t.Errorf("failed translation lost what it knew: %+v", out)
	}
}

// The values the decoder sanitized and the custom object timestamps that
// look like seconds are counted per record, the latter also logged once per
// event type, and both events are still published as given.
func TestTranslatorCountsWhatProducersGotWrong(t *testing.T) {
	s, err := loadSettingsForTool("absent.yaml", "../../schemas", "", commandEnv{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	src, err := s.schemaSource()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	tr, err := buildTranslator(s, src, nil, reg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	gen, err := eventgen.New(5, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(eventType string, change func(nat map[string]any)) *kgo.Record {
		t.Helper()
		r, err := gen.Record(eventType)
		if err != nil {
			t.Fatal(err)
		}
		change(r.Natural)
		name := eventgen.CustomObjectEvent
		if !strings.HasPrefix(eventType, "custom-object:") {
			name = eventgen.TicketEvent
		}
		value, err := gen.Source().Encode(name, r.Natural)
		if err != nil {
			t.Fatal(err)
		}
		return &kgo.Record{Topic: "thena.events", Key: r.Key, Value: value}
	}
	inSeconds := func(nat map[string]any) { nat["timestamp"] = 1795756110 }
	odd := func(nat map[string]any) {
		deal := nat["eventData"].(map[string]any)["deal"].(map[string]any)
		deal["name"] = "Enterprise \xffLicense"
		deal["score"] = math.NaN()
		deal["ratio"] = []any{math.Inf(1), "x\xfe"}
	}
	for _, rec := range []*kgo.Record{
		encode("custom-object:deal:created", inSeconds),
		encode("custom-object:deal:created", inSeconds),
		encode("custom-object:invoice:updated", inSeconds),
		encode("custom-object:deal:updated", odd),
		encode("ticket:created", func(map[string]any) {}),
	} {
		out, err := tr.Translate(context.Background(), rec)
		if err != nil || out.Entry == nil {
			t.Fatalf("not published: %v", err)
		}
	}
	for _, c := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"bridge_suspect_timestamps_total", map[string]string{"event_type": "custom-object:deal:created"}, 2},
		{"bridge_suspect_timestamps_total", map[string]string{"event_type": "custom-object:invoice:updated"}, 1},
		{"bridge_sanitized_values_total", map[string]string{"kind": "invalid_utf8"}, 2},
		{"bridge_sanitized_values_total", map[string]string{"kind": "non_finite_number"}, 2},
	} {
		if got := counterValue(t, reg, c.metric, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
	if n := strings.Count(logs.String(), "looks like Unix seconds"); n != 2 {
		t.Errorf("%d warnings for two event types, want one each:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"event_type":"custom-object:deal:created"`) || strings.Contains(logs.String(), "Enterprise") {
		t.Errorf("warning lacks the event type or carries payload content:\n%s", logs.String())
	}
}

// counterValue is the value of the counter name with exactly labels in reg,
// 0 when there is none.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
