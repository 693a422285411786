package translate

import (
	"context"
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
func newTranslator(t *testing.T, reg prometheus.Registerer) *Translator {
	t.Helper()
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	routing := mapping.Config{Routes: mapping.StandardRoutes(ticketARN, customARN)}
	m, err := mapping.NewMapper(routing, AssumedTopics(routing.TopicARNs(), sns.DefaultMaxMessageSize))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(dec, m, reg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func generator(t *testing.T, seed int64) *eventgen.Generator {
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
