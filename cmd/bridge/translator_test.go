package main

import (
	"context"
	"testing"

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
