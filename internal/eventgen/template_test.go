package eventgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// A template restamped with another time decodes to the same event at that
// time, for every kind of event the mix holds.
func TestTemplateSetsTheEventTime(t *testing.T) {
	g, dec := newGen(t, 11)
	at := time.Date(2027, 3, 1, 12, 30, 15, 250e6, time.UTC)
	for _, r := range g.Mixed(300) {
		tpl, err := eventgen.NewTemplate(r)
		if err != nil {
			t.Fatalf("%s: %v", r.EventType, err)
		}
		before, err := dec.Decode(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := dec.Decode(context.Background(), tpl.At(at.UnixMilli()))
		if err != nil {
			t.Fatalf("%s restamped does not decode: %v", r.EventType, err)
		}
		if !ev.Header.Timestamp.Equal(at) || ev.Header.EventID != before.Header.EventID || ev.Header.EventType != r.EventType || string(tpl.Key()) != string(r.Key) {
			t.Fatalf("%s restamped to %v decodes as %+v", r.EventType, at, ev.Header)
		}
	}
}
