package translate

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

const (
	ticketARN = "arn:aws:sns:us-east-1:123456789012:thena-events"
	customARN = "arn:aws:sns:us-east-1:123456789012:thena-custom-object-events"
)

// newTranslator builds a Translator on the embedded schemas and the standard
// routes, as the operator tools do without a config file.
func newTranslator(t testing.TB, reg prometheus.Registerer, opts ...Option) *Translator {
	t.Helper()
	return newRoutedTranslator(t, mapping.Config{Routes: mapping.StandardRoutes(ticketARN, customARN)}, reg, opts...)
}

// newRoutedTranslator builds a Translator on the embedded schemas and routing.
func newRoutedTranslator(t testing.TB, routing mapping.Config, reg prometheus.Registerer, opts ...Option) *Translator {
	t.Helper()
	return newSizedTranslator(t, routing, sns.DefaultMaxMessageSize, reg, opts...)
}

// newSizedTranslator is newRoutedTranslator with every topic's size limit
// maxSize.
func newSizedTranslator(t testing.TB, routing mapping.Config, maxSize int, reg prometheus.Registerer, opts ...Option) *Translator {
	t.Helper()
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.NewMapper(routing, AssumedTopics(routing.TopicARNs(), maxSize))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(dec, m, reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func generator(t testing.TB, seed int64) *eventgen.Generator {
	t.Helper()
	g, err := eventgen.New(seed, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// A record that fails after routing (too large for its topic) still names
// the event and the topic it was meant for, so its dead letter says both.
func TestTranslateFailureKeepsWhatWasLearnt(t *testing.T) {
	tr := newTranslator(t, nil)
	rec := generator(t, 3).TooLarge()
	out, err := tr.Translate(context.Background(), &kgo.Record{Topic: "thena.events", Key: rec.Key, Value: rec.Value})
	if failure.ReasonOf(err) != failure.ReasonTooLarge {
		t.Fatalf("err %v, want too_large", err)
	}
	if out.Entry != nil {
		t.Error("a failed translation carries an entry to publish")
	}
	if out.RoutedARN != ticketARN || out.EventID == "" || out.EventType != rec.EventType || out.OrgID == "" {
		t.Errorf("failed translation lost what it knew: %+v", out)
	}
}

// An event whose large field is replaced to fit is published and counted in
// bridge_truncations_total by its type.
func TestTranslateCountsTruncations(t *testing.T) {
	reg := prometheus.NewRegistry()
	tr := newTranslator(t, reg)
	rec := generator(t, 4).HugeComment()
	out, err := tr.Translate(context.Background(), &kgo.Record{Topic: "thena.events", Key: rec.Key, Value: rec.Value})
	if err != nil {
		t.Fatal(err)
	}
	if out.Entry == nil || out.Entry.TopicARN != ticketARN || out.Entry.EventType != "ticket:comment:added" || out.Entry.Size > sns.DefaultMaxMessageSize {
		t.Fatalf("translated %+v", out)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() == "bridge_truncations_total" {
				counted[m.GetLabel()[0].GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	if counted["ticket:comment:added"] != 1 || len(counted) != 1 {
		t.Errorf("bridge_truncations_total by event type: %v, want ticket:comment:added 1", counted)
	}
	if _, err := New(tr.decoder, tr.mapper, reg); err == nil {
		t.Error("a second Translator registered the same counter")
	}
}

// The values the decoder sanitized and the custom object timestamps that
// look like seconds are counted per record, the latter also logged once per
// event type, and both events are still published as given.
func TestTranslateCountsWhatProducersGotWrong(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	tr := newTranslator(t, reg, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	gen := generator(t, 5)
	encode := func(eventType string, change func(nat map[string]any)) *kgo.Record {
		t.Helper()
		r, err := gen.Record(eventType)
		if err != nil {
			t.Fatal(err)
		}
		change(r.Natural)
		name := eventgen.CustomObjectEvent
		if !strings.HasPrefix(eventType, mapping.CustomObjectPrefix) {
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
		{"bridge_sanitized_values_total", map[string]string{"kind": SanitizedInvalidUTF8}, 2},
		{"bridge_sanitized_values_total", map[string]string{"kind": SanitizedNonFinite}, 2},
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

// A route's ordering reaches the delivery engine: events of a relaxed route
// carry Outbound.Relaxed, those of strict (and default) routes do not.
func TestTranslateCarriesRouteOrdering(t *testing.T) {
	routing := mapping.Config{Routes: []mapping.Route{
		{Pattern: "custom-object:*", TopicARN: customARN, Ordering: mapping.OrderingRelaxed},
		{Pattern: "ticket:*", TopicARN: ticketARN},
	}}
	tr := newRoutedTranslator(t, routing, nil)
	gen := generator(t, 6)
	for _, c := range []struct {
		eventType string
		relaxed   bool
	}{
		{"custom-object:deal:created", true},
		{"ticket:created", false},
	} {
		r, err := gen.Record(c.eventType)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tr.Translate(context.Background(), &kgo.Record{Topic: "thena.events", Key: r.Key, Value: r.Value})
		if err != nil {
			t.Fatal(err)
		}
		if out.Relaxed != c.relaxed {
			t.Errorf("%s: Outbound.Relaxed = %v, want %v", c.eventType, out.Relaxed, c.relaxed)
		}
	}
}

// `bridge translate` shows a fair_group route's group id on a standard topic
// without calling the topic FIFO.
func TestExplainFairGroup(t *testing.T) {
	routing := mapping.Config{Routes: []mapping.Route{{Pattern: "*", TopicARN: ticketARN, FairGroup: true}}}
	tr := newRoutedTranslator(t, routing, nil)
	r, err := generator(t, 7).Record("ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	out := tr.Explain(context.Background(), &kgo.Record{Topic: "thena.events", Key: r.Key, Value: r.Value}, sns.DefaultMaxMessageSize)
	if !out.OK || out.FIFO || out.GroupID != string(r.Key) || out.DedupID != "" {
		t.Errorf("Explain: ok %v fifo %v group %q dedup %q; want a standard topic with group %q and no dedup id",
			out.OK, out.FIFO, out.GroupID, out.DedupID, r.Key)
	}
}

// A record's W3C trace context headers reach the SNS entry as attributes;
// a record without them gets the six attributes only.
func TestTranslateCarriesTraceContext(t *testing.T) {
	tr := newTranslator(t, nil)
	r, err := generator(t, 8).Record("ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct {
		name    string
		headers []kgo.RecordHeader
		want    map[string]string
	}{
		{"w3c headers", []kgo.RecordHeader{{Key: "traceparent", Value: []byte(parent)}, {Key: "tracestate", Value: []byte("a=b")}},
			map[string]string{"traceparent": parent, "tracestate": "a=b"}},
		{"capitalised as over HTTP", []kgo.RecordHeader{{Key: "Traceparent", Value: []byte(parent)}},
			map[string]string{"traceparent": parent}},
		{"none", []kgo.RecordHeader{{Key: "content-type", Value: []byte("avro")}}, map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &kgo.Record{Topic: "thena.events", Partition: 2, Offset: 9, Key: r.Key, Value: r.Value, Headers: c.headers}
			out, err := tr.Translate(context.Background(), rec)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, a := range out.Entry.Attributes[6:] {
				got[a.Name] = a.Value
			}
			if len(got) != len(c.want) || got["traceparent"] != c.want["traceparent"] || got["tracestate"] != c.want["tracestate"] {
				t.Errorf("trace attributes %q, want %q", got, c.want)
			}
			if out.Entry.Source != (sns.Source{Topic: "thena.events", Partition: 2, Offset: 9}) {
				t.Errorf("Entry.Source %+v", out.Entry.Source)
			}
		})
	}
}
