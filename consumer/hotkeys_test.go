package consumer

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/keyhash"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The heavy hitters find a hot key among 100,000 keys seen once each, keep
// at most trackedKeys counters, measure its rate and latencies, and forget
// it soon after it cools down.
func TestHeavyHittersStayBoundedAndFollowTheHotKey(t *testing.T) {
	hh := newHeavyHitters()
	now := time.Unix(1_000_000, 0)
	tick := func() { now = now.Add(time.Millisecond) } // 1,000 events/s in all
	for i := range 100_000 {
		hh.observe(fmt.Sprintf("org-%06d", i), time.Time{}, now)
		tick()
		if i%3 == 0 { // a third of the traffic: about 333 events/s
			hh.observe("org-hot", now.Add(-2*time.Second), now)
			tick()
		}
	}
	if len(hh.byKey) > trackedKeys || len(hh.hitters) > trackedKeys {
		t.Fatalf("tracking %d keys (%d counters), want at most %d", len(hh.byKey), len(hh.hitters), trackedKeys)
	}
	keys, total := hh.snapshot(now)
	i := slices.IndexFunc(keys, func(k hitterStats) bool { return k.key == "org-hot" })
	if i < 0 {
		t.Fatal("the hot key is not tracked")
	}
	hot := keys[i]
	for _, k := range keys {
		if k.key != hot.key && k.rate >= hot.rate {
			t.Errorf("%s rates %v, at least the hot key's %v", k.key, k.rate, hot.rate)
		}
	}
	if share := hot.rate / total; math.Abs(share-0.25) > 0.03 {
		t.Errorf("hot key rate %v of %v (share %.2f), want a quarter", hot.rate, total, share)
	}
	if hot.p50 != 2 || hot.p99 != 2 {
		t.Errorf("hot key latency p50 %v, p99 %v; want 2s", hot.p50, hot.p99)
	}

	// Another key takes over for a minute, among the same churn: the first
	// one is forgotten.
	for i := range 60_000 {
		hh.observe(fmt.Sprintf("new-%06d", i), time.Time{}, now)
		tick()
		if i%3 == 0 {
			hh.observe("org-hot-2", time.Time{}, now)
			tick()
		}
	}
	if hh.byKey["org-hot"] != nil {
		t.Error("a key cold for a minute is still tracked")
	}
	if hh.byKey["org-hot-2"] == nil {
		t.Error("the new hot key is not tracked")
	}
}

// HotKeys over 100,000 distinct keys returns at most n per list, hottest
// first.
func TestHotKeysIsBoundedWithManyKeys(t *testing.T) {
	e, err := New(Config{Brokers: []string{"127.0.0.1:1"}, GroupID: group, Topics: []string{srcTopic}}, &fakeTranslator{}, newPublisher("x", &sink{}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100_000 {
		// Real time, as HotKeys reads it: slow runs (-race) still end
		// with the last seconds' events in the rate window.
		now := time.Now()
		e.hot.observe(fmt.Sprintf("org-%06d", i), time.Time{}, now)
		if i%4 == 0 {
			e.hot.observe("org-hot", now.Add(-time.Second), now)
		}
	}
	got := e.HotKeys(5)
	if len(got) != 5 {
		t.Fatalf("HotKeys(5) returned %d keys, want 5 (no backlog, so only the rate list)", len(got))
	}
	if got[0].Key != "org-hot" || got[0].KeyHash != keyhash.Of("org-hot") || !got[0].Tracked || got[0].RateShare < 0.15 || got[0].LatencyP50Seconds < 1 {
		t.Errorf("first key %+v, want org-hot with its hash, a fifth of the rate and 1s latency", got[0])
	}
}

// A hot key fills its partition's buffer without stopping the other keys
// while there is room; when the buffer fills, the partition pauses with
// reason hot_key and logs it once, naming the key by its hash only.
// HotKeys ranks it first, at its limit, with most of the backlog.
func TestHotKeyFillsTheBufferWithoutStoppingOthers(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		const hot = "org-hot-7f3a"
		var recs []*kgo.Record
		for i := range 30 {
			recs = append(recs, rec(hot, i, ""), rec(fmt.Sprintf("org-%02d", i), 0, ""))
		}
		h.produce(recs...)
		h.logs = &syncBuffer{}
		cfg := h.config()
		cfg.MaxBufferedBytesPerPartition = 60 * bufferedCost(recs[0])
		r := h.start("a", cfg, func(p *fakePublisher) { p.hold(hot) })
		h.eventually("the other keys published", func() bool { return h.sink.count() == 30 })
		if got := metricValue(r.e.metrics.paused); got != 0 {
			t.Fatal("partition paused with room in its buffer")
		}

		h.produce(keyRecords(hot, 30, 60, nil)...)
		h.eventually("paused at a full buffer", func() bool { return metricValue(r.e.metrics.paused) == 1 })
		h.eventually("the pause counted", func() bool {
			return metricValue(r.e.metrics.partitionPauses.WithLabelValues(pauseHotKey)) == 1
		})
		if got := metricValue(r.e.metrics.keysAtLimit); got != 1 {
			t.Errorf("bridge_keys_at_limit = %v, want 1", got)
		}
		ks := r.e.HotKeys(3)
		if len(ks) == 0 || ks[0].Key != hot || !ks[0].AtLimit || ks[0].BacklogShare < 0.9 || ks[0].ParkedSeconds <= 0 {
			t.Errorf("HotKeys(3) = %+v, want %s first, at its limit, with most of the backlog, parked", ks, hot)
		}
		lines := h.logs.lines("partition paused: one key holds most of its buffer")
		if len(lines) != 1 {
			t.Fatalf("%d hot-key pause lines, want 1", len(lines))
		}
		if lines[0]["key_hash"] != keyhash.Of(hot) || lines[0]["share"].(float64) <= 0.5 {
			t.Errorf("hot-key line %v, want key_hash %s and a share over half", lines[0], keyhash.Of(hot))
		}
		for k, v := range lines[0] {
			if strings.Contains(fmt.Sprint(v), hot) {
				t.Errorf("hot-key line carries the raw key in %s", k)
			}
		}

		r.pub.release(hot)
		h.eventually("everything published", func() bool { return h.sink.count() == 120 })
		h.eventually("resumed", func() bool { return metricValue(r.e.metrics.paused) == 0 })
		h.eventually("commits at the end", h.committedToEnd)
		if got := metricValue(r.e.metrics.keysAtLimit); got != 0 {
			t.Errorf("bridge_keys_at_limit = %v after draining, want 0", got)
		}
	})
}
