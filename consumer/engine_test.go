package consumer

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Many keys over several partitions, no failures: every event is published
// exactly once, in key order, and the committed offsets reach the end.
func TestDeliversEveryEventOnceInKeyOrder(t *testing.T) {
	bubble(t, 4, true, func(t *testing.T, h *harness) {
		const keys, perKey = 20, 25
		var recs []*kgo.Record
		for seq := range perKey {
			for k := range keys {
				recs = append(recs, rec(fmt.Sprintf("org-%02d", k), seq, ""))
			}
		}
		h.produce(recs...)
		r := h.start("a", h.config(), func(p *fakePublisher) { p.delay = 5 * time.Millisecond })
		h.eventually("all published", func() bool { return h.sink.count() >= keys*perKey })
		h.eventually("commits at the end", h.committedToEnd)
		time.Sleep(3 * time.Second) // a few more commit intervals: nothing more may arrive

		seen := make(map[string]int)
		for _, p := range h.sink.snapshot() {
			seen[fmt.Sprintf("%s|%d", p.key, p.seq)]++
		}
		if len(seen) != keys*perKey {
			t.Errorf("published %d distinct events, want %d", len(seen), keys*perKey)
		}
		for ev, n := range seen {
			if n != 1 {
				t.Errorf("event %s published %d times", ev, n)
			}
		}
		if got := metricValue(r.e.metrics.consumed.WithLabelValues(srcTopic)); got != keys*perKey {
			t.Errorf("bridge_records_consumed_total = %v, want %d", got, keys*perKey)
		}
		if got := metricValue(r.e.metrics.inflight); got != 0 {
			t.Errorf("bridge_inflight_events = %v after everything finished", got)
		}
		if !r.e.Ready() {
			t.Error("engine not ready while consuming")
		}
		r.stop()
		if r.e.Ready() {
			t.Error("engine still ready after Run returned")
		}
	})
}
