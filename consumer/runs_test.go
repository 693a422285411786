package consumer

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// keyRecords are n events of key, seq from first on, with behaviours by seq.
func keyRecords(key string, first, n int, behaviours map[int]string) []*kgo.Record {
	var recs []*kgo.Record
	for seq := first; seq < first+n; seq++ {
		recs = append(recs, rec(key, seq, behaviours[seq]))
	}
	return recs
}

// startHeld starts an engine whose publisher holds everything until the
// partition's records are all translated, then lets go: the runs it then
// sees are as long as the engine makes them.
func (h *harness) startHeld(cfg Config, setup ...func(*fakePublisher)) *running {
	h.t.Helper()
	r := h.start("a", cfg, append(setup, func(p *fakePublisher) { p.hold("*") })...)
	time.Sleep(5 * time.Second) // bubble time: every record fetched and translated
	r.pub.release("*")
	return r
}

// publishedSeqs are the seqs of key published, in order.
func (h *harness) publishedSeqs(key string) []int {
	var out []int
	for _, p := range h.sink.snapshot() {
		if p.key == key {
			out = append(out, p.seq)
		}
	}
	return out
}

// A key's ready events ride together, up to MaxRunPerKey and what the
// publisher's RunLimit allows in entries and bytes; MaxRunPerKey 1 gives
// back one event per key in flight.
func TestRunsCarryAKeysEventsTogether(t *testing.T) {
	size := len(rec("K", 10, "").Value) // the entry size of each: seqs 10 to 54
	for _, tc := range []struct {
		name         string
		maxRun       int
		limitEntries int
		limitBytes   int
		want         int // the longest run
	}{
		{"MaxRunPerKey", 10, 10, 1 << 20, 10},
		{"the publisher's entry limit", 10, 4, 1 << 20, 4},
		{"the publisher's byte limit", 10, 10, 3*size + 1, 3},
		{"MaxRunPerKey 1: one event in flight per key", 1, 10, 1 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, 1, true, func(t *testing.T, h *harness) {
				const n = 45
				h.produce(keyRecords("K", 10, n, nil)...)
				cfg := h.config()
				cfg.MaxRunPerKey = tc.maxRun
				r := h.startHeld(cfg, func(p *fakePublisher) {
					p.delay = 10 * time.Millisecond
					p.runEntries, p.runBytes = tc.limitEntries, tc.limitBytes
				})
				h.eventually("all published", func() bool { return h.sink.count() == n })
				h.eventually("commits at the end", h.committedToEnd)
				if got := h.publishedSeqs("K"); !slices.Equal(got, seqs(n + 10)[10:]) {
					t.Errorf("published %v, want 10..%d in order", got, n+9)
				}
				if got := slices.Max(r.pub.runLengths()); got != tc.want {
					t.Errorf("longest run %d, want %d (runs %v)", got, tc.want, r.pub.runLengths())
				}
				if got := r.pub.peakOut(scopeID{"K", arnA}); got != 1 {
					t.Errorf("%d runs of a strict key out at once, want 1", got)
				}
			})
		})
	}
}

// A run whose middle entry keeps failing: the entries before it are done,
// it and the entries after it are retried together until they succeed, and
// the key's next run waits for all of them.
func TestFailureInsideARunIsRetriedInOrder(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		h.produce(keyRecords("A", 0, 12, map[int]string{2: "pfail2"})...)
		h.produce(keyRecords("B", 0, 3, nil)...)
		cfg := h.config()
		cfg.MaxRunPerKey = 5
		h.startHeld(cfg)
		h.eventually("all published", func() bool { return h.sink.count() == 15 })
		h.eventually("commits at the end", h.committedToEnd)
		if got := h.publishedSeqs("A"); !slices.Equal(got, seqs(12)) {
			t.Errorf("A published %v, want 0..11 once each, in order", got)
		}
		if dls := h.deadLetters(); len(dls) != 0 {
			t.Errorf("%d dead letters for a transient failure", len(dls))
		}
	})
}

// A run whose earlier entry is rejected for good: it is dead-lettered while
// the later entries publish (not an order break: it is never delivered),
// and the key's next run waits until the dead letter is acknowledged.
func TestDeadLetterInsideARunLetsLaterEntriesPublish(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		h.produce(keyRecords("B", 0, 10, map[int]string{1: "pperm"})...)
		var dlqEndAtB4 int64 = -1
		cfg := h.config()
		cfg.MaxRunPerKey = 4
		h.startHeld(cfg, func(p *fakePublisher) {
			p.onPublish = func(e *sns.Entry) {
				if k, seq, _ := parseValue(e.Body); k == "B" && seq == 4 {
					dlqEndAtB4 = h.c.PartitionInfo(dlqTopic, 0).HighWatermark
				}
			}
		})
		h.eventually("the rest published", func() bool { return h.sink.count() == 9 })
		h.eventually("commits at the end", h.committedToEnd)
		if got, want := h.publishedSeqs("B"), []int{0, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(got, want) {
			t.Errorf("B published %v, want %v", got, want)
		}
		dls := h.deadLetters()
		if len(dls) != 1 || headerMap(dls[0])[deadletter.HeaderSourceOffset] != "1" {
			t.Fatalf("dead letters %v, want the record at offset 1", dls)
		}
		if dlqEndAtB4 < 1 {
			t.Errorf("B's next run went out before the dead letter of B1 was acknowledged (dead-letter end then: %d)", dlqEndAtB4)
		}
	})
}

// A publisher that hands back entries of a run (a broken contract): the
// engine publishes them again, in order, before anything newer of the key.
func TestEntriesHandedBackInsideARunArePublishedAgainInOrder(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		h.produce(keyRecords("A", 0, 8, map[int]string{1: "pbroken"})...)
		cfg := h.config()
		cfg.MaxRunPerKey = 4
		r := h.startHeld(cfg)
		h.eventually("all published", func() bool { return h.sink.count() == 8 })
		h.eventually("commits at the end", h.committedToEnd)
		if got := h.publishedSeqs("A"); !slices.Equal(got, seqs(8)) {
			t.Errorf("A published %v, want 0..7 once each, in order", got)
		}
		// A1 and the rest of its run came back (how many follow it in the
		// run depends on how many were translated when the run formed),
		// and each counts once.
		back := r.pub.handedBack.Load()
		if back < 1 {
			t.Fatal("the publisher handed nothing back")
		}
		if got := metricValue(r.e.metrics.errors.WithLabelValues("transient", failure.ReasonSNSUnavail)); got != float64(back) {
			t.Errorf("bridge_errors_total{class=transient,reason=sns_unavailable} = %v, want %d (the entries handed back)", got, back)
		}
	})
}

// Revocation while runs are partly answered: the entries answered are
// committed past, the rest of the run is not, and the next owner publishes
// it.
func TestRevocationMidRunCommitsOnlyWhatFinished(t *testing.T) {
	realTime(t, 2, true, func(t *testing.T, h *harness) {
		var recs []*kgo.Record
		for k := range 8 {
			recs = append(recs, keyRecords(fmt.Sprintf("org-%d", k), 0, 5, map[int]string{2: "phold"})...)
		}
		h.produce(recs...)
		cfg := h.config()
		cfg.DrainTimeout = time.Second
		a := h.start("a", cfg, func(p *fakePublisher) { p.holdPhold = true })
		h.eventually("a published every seq 0 and 1", func() bool { return h.sink.count() == 16 })
		b := h.start("b", cfg, func(p *fakePublisher) { p.hold("*") }) // b finishes nothing until told
		h.eventually("a revoked a partition", func() bool { return metricValue(a.e.metrics.rebalances.WithLabelValues("revoked")) == 1 })

		// The first unfinished record of each partition is its first seq 2.
		firstHeld := make(map[int32]int64)
		for _, p := range h.c.PartitionInfos(srcTopic) {
			firstHeld[p.Partition] = -1
		}
		for _, r := range recs {
			if _, seq, _ := parseValue(string(r.Value)); seq == 2 && (firstHeld[r.Partition] < 0 || r.Offset < firstHeld[r.Partition]) {
				firstHeld[r.Partition] = r.Offset
			}
		}
		h.eventually("a committed at revocation", func() bool {
			c := h.committed()
			for p, off := range firstHeld {
				if off >= 0 && c[p] != off {
					return false
				}
			}
			return true
		})
		time.Sleep(2 * time.Second) // commit intervals: nothing moves past the unfinished runs
		for p, off := range firstHeld {
			if got := h.committed()[p]; off >= 0 && got != off {
				t.Errorf("partition %d committed %d, want %d (its first unfinished record)", p, got, off)
			}
		}

		b.pub.release("*")
		a.stop() // b gets everything
		h.eventually("everything published", h.publishedAll(len(recs)))
		h.eventually("commits at the end", h.committedToEnd)
	})
}

// A relaxed scope has up to MaxInflightPerKey runs out at once, a strict one
// one, however long their backlogs.
func TestRelaxedScopesHaveSeveralRunsInFlight(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		var recs []*kgo.Record
		for seq := range 40 {
			recs = append(recs, rec("R", seq, "relaxed"), rec("S", seq, ""))
		}
		h.produce(recs...)
		cfg := h.config()
		cfg.MaxRunPerKey = 2
		cfg.MaxInflightPerKey = 3
		r := h.startHeld(cfg, func(p *fakePublisher) { p.delay = 100 * time.Millisecond })
		h.eventually("all published", func() bool { return h.sink.count() == 80 })
		h.eventually("commits at the end", h.committedToEnd)
		if got := r.pub.peakOut(scopeID{"R", arnA}); got != 3 {
			t.Errorf("%d runs of the relaxed key out at once, want 3", got)
		}
		if got := r.pub.peakOut(scopeID{"S", arnA}); got != 1 {
			t.Errorf("%d runs of the strict key out at once, want 1", got)
		}
		if got := len(h.publishedSeqs("R")); got != 40 {
			t.Errorf("R published %d events, want 40", got)
		}
	})
}
