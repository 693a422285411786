package consumer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// slowAndFast is perKey events of key "slow" and of each of fast keys
// "fast-N", interleaved, on every partition the keys hash to.
func slowAndFast(slow []string, fast, perKey int) []*kgo.Record {
	var recs []*kgo.Record
	for seq := range perKey {
		for _, k := range slow {
			recs = append(recs, rec(k, seq, ""))
		}
		for f := range fast {
			recs = append(recs, rec(fmt.Sprintf("fast-%d", f), seq, ""))
		}
	}
	return recs
}

// publishedBy counts the events each engine published, and the events
// published more than once.
func (h *harness) publishedBy() (byStream map[string]int, twice []string) {
	byStream = make(map[string]int)
	seen := make(map[string]int)
	for _, p := range h.sink.snapshot() {
		byStream[p.stream]++
		if seen[p.position]++; seen[p.position] == 2 {
			twice = append(twice, p.position)
		}
	}
	return byStream, twice
}

// A clean shutdown with a live publisher uses its drain budget to finish
// the records below the highest one already out: one slow key held the
// watermark while fast keys finished far above it, and the final commit
// still covers everything, so the next owner publishes nothing again.
func TestShutdownFinishesWhatLiesBelowTheHighestHandedOut(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		const perKey, fast = 30, 3
		h.produce(slowAndFast([]string{"slow"}, fast, perKey)...)
		cfg := h.config()
		cfg.DrainTimeout = 15 * time.Second
		slow := func(p *fakePublisher) { p.keyDelay = map[string]time.Duration{"slow": 2 * time.Second} }
		a := h.start("a", cfg, slow)
		h.eventually("the fast keys published", func() bool { return h.sink.count() >= fast*perKey })
		if n := len(h.publishedSeqs("slow")); n >= perKey-cfg.withDefaults().MaxRunPerKey {
			t.Fatalf("the slow key had published %d of %d events before the stop: nothing left to drain", n, perKey)
		}
		a.stop()
		if !h.committedToEnd() {
			t.Errorf("committed %v after a clean stop with a live publisher, want the end %v", h.committed(), h.ends())
		}
		h.start("b", cfg)
		time.Sleep(10 * time.Second) // b joins and would publish whatever was left
		byStream, twice := h.publishedBy()
		if len(twice) > 0 {
			t.Errorf("%d events published twice after a clean stop, e.g. %v", len(twice), twice[:min(5, len(twice))])
		}
		if byStream["b"] != 0 || byStream["a"] != (fast+1)*perKey {
			t.Errorf("published by a %d, by b %d; want all %d by a", byStream["a"], byStream["b"], (fast+1)*perKey)
		}
	})
}

// The drain deadline still bounds the drain: when what lies below the
// highest record out cannot finish in time, it is abandoned at the
// deadline, the commit stops at the first unfinished record, and the next
// owner publishes the rest.
func TestDrainDeadlineBoundsTheFinishingDrain(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		const perKey, fast = 30, 3
		recs := slowAndFast([]string{"slow"}, fast, perKey)
		h.produce(recs...)
		cfg := h.config()
		cfg.DrainTimeout = 3 * time.Second
		a := h.start("a", cfg, func(p *fakePublisher) { p.keyDelay = map[string]time.Duration{"slow": time.Minute} })
		h.eventually("the fast keys published", func() bool { return h.sink.count() >= fast*perKey })
		stopped := time.Now()
		a.stop()
		if took := time.Since(stopped); took > cfg.DrainTimeout+cfg.CommitTimeout {
			t.Errorf("stop took %v with a %v drain deadline", took, cfg.DrainTimeout)
		}
		if got := metricValue(a.e.metrics.abandoned); got == 0 {
			t.Error("nothing abandoned at the drain deadline")
		}
		if got := h.committed()[0]; got != recs[0].Offset {
			t.Errorf("committed %d, want %d: the slow key's first event never finished", got, recs[0].Offset)
		}
		h.start("b", cfg)
		h.eventually("everything published", h.publishedAll(len(recs)))
		h.eventually("commits at the end", h.committedToEnd)
	})
}

// A clean revocation with a live publisher replays nothing: the partition
// that moves finishes what lies below its highest record out before it is
// committed and handed over, so the new owner starts past every event the
// old one published.
func TestCleanRevocationReplaysNothing(t *testing.T) {
	realTime(t, 2, true, func(t *testing.T, h *harness) {
		slowKeys := []string{"slow-0", "slow-1", "slow-2", "slow-3"}
		const perKey, fast = 40, 8
		// A tail of slow events only: still waiting at the revocation, so
		// the new owner has work.
		recs := slowAndFast(slowKeys, fast, perKey)
		for _, k := range slowKeys {
			recs = append(recs, keyRecords(k, perKey, 20, nil)...)
		}
		h.produce(recs...)
		onPartition := map[int32]bool{}
		for _, r := range recs {
			if strings.HasPrefix(string(r.Key), "slow-") {
				onPartition[r.Partition] = true
			}
		}
		if len(onPartition) != 2 {
			t.Fatalf("the slow keys all hash to partitions %v; want some on both", onPartition)
		}
		delays := map[string]time.Duration{}
		for _, k := range slowKeys {
			delays[k] = 500 * time.Millisecond
		}
		slow := func(p *fakePublisher) { p.keyDelay = delays }
		a := h.start("a", h.config(), slow)
		h.eventually("the fast keys published", func() bool { return h.sink.count() >= fast*perKey })
		h.start("b", h.config(), slow)
		h.eventually("a revoked a partition", func() bool { return metricValue(a.e.metrics.rebalances.WithLabelValues("revoked")) == 1 })
		h.eventually("everything published", h.publishedAll(len(recs)))
		h.eventually("commits at the end", h.committedToEnd)
		byStream, twice := h.publishedBy()
		if byStream["b"] == 0 {
			t.Error("b published nothing: no partition moved while work was left")
		}
		if len(twice) > 0 {
			t.Errorf("%d events published twice after a clean revocation, e.g. %v", len(twice), twice[:min(5, len(twice))])
		}
		if got := metricValue(a.e.metrics.abandoned); got != 0 {
			t.Errorf("%v entries abandoned in a clean revocation", got)
		}
	})
}
