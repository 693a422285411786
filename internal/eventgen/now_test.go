package eventgen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

func TestNowStampsEventsWithTheCurrentTime(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	g, err := eventgen.New(1, eventgen.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.Mixed(20) {
		ts := r.Natural["timestamp"]
		if strings.HasPrefix(r.EventType, "custom-object:") {
			if ts != at.UnixMilli() {
				t.Errorf("%s: timestamp %v, want %d", r.EventType, ts, at.UnixMilli())
			}
			continue
		}
		if ts != "2030-01-02T03:04:05.678Z" {
			t.Errorf("%s: timestamp %v, want the Now time", r.EventType, ts)
		}
	}
}
