package consumer

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// series reads the gauge family name from reg by "topic/partition", and
// checks that each series names the consumer group.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := make(map[string]string)
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["group"] != group {
				t.Errorf("%s%v: group label %q, want %q", name, l, l["group"], group)
			}
			out[l["topic"]+"/"+l["partition"]] = m.GetGauge().GetValue()
		}
	}
	return out
}

// The member is in its group from its first assignment; it is out while its
// group is lost and it cannot rejoin, and in again once it has; and out
// once it stopped.
func TestHealthFollowsTheGroup(t *testing.T) {
	bubble(t, 2, true, func(t *testing.T, h *harness) {
		r := h.start("a", h.config())
		h.eventually("in the group", func() bool { return r.e.Health().InGroup })
		if got := r.e.Health().Owned; got != 2 {
			t.Errorf("owns %d partitions, want 2", got)
		}

		var refuse atomic.Bool
		refuse.Store(true)
		joins := h.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.JoinGroup}, Err: kerr.CoordinatorNotAvailable, Count: -1,
			When: func(kmsg.Request) bool { return refuse.Load() }})
		h.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Heartbeat}, Err: kerr.UnknownMemberID})
		h.eventually("out of the group", func() bool { return !r.e.Health().InGroup })
		time.Sleep(5 * time.Second) // joins keep failing
		if hl := r.e.Health(); hl.InGroup || hl.Owned != 0 {
			t.Errorf("while joins fail: %+v, want out of the group with nothing owned", hl)
		}
		refuse.Store(false)
		joins.Remove()
		h.eventually("back in the group", func() bool { return r.e.Health().InGroup && r.e.Health().Owned == 2 })
		r.stop()
		if r.e.Health().InGroup {
			t.Error("in the group after Run returned")
		}
	})
}

// While records wait and none finishes, LastProgress stays where work last
// moved; it moves again when they finish. Records that arrive at an idle
// engine start the clock: idleness before them is no stall.
func TestHealthReportsWorkThatDoesNotMove(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		r := h.start("a", h.config(), func(p *fakePublisher) { p.hold("A") })
		h.eventually("in the group", func() bool { return r.e.Health().InGroup })
		time.Sleep(time.Minute) // idle
		produced := time.Now()
		h.produce(rec("A", 0, ""))
		h.eventually("A0 waiting", func() bool { return r.e.Health().Waiting == 1 })
		time.Sleep(time.Minute)
		hl := r.e.Health()
		if hl.Waiting != 1 || hl.LastProgress.Before(produced) || time.Since(hl.LastProgress) < time.Minute {
			t.Errorf("A0 held for a minute: %+v; want 1 waiting, no progress since it arrived at %v", hl, produced)
		}
		if len(hl.WaitingByTopic) != 1 || hl.WaitingByTopic[arnA] != 1 {
			t.Errorf("waiting by topic %v, want A0 waiting on %s", hl.WaitingByTopic, arnA)
		}
		r.pub.release("A")
		h.eventually("A0 published", func() bool { return h.sink.count() == 1 })
		if hl := r.e.Health(); hl.Waiting != 0 || time.Since(hl.LastProgress) > time.Second || len(hl.WaitingByTopic) != 0 {
			t.Errorf("after A0 finished: %+v", hl)
		}
	})
}

// A record whose decoding hangs (a schema registry that does not answer)
// marks its partition stalled in translation within a second, with a log
// line and the gauge, and Health says every partition with work is stalled;
// all of it clears when the record decodes. A transient failure marks it at
// once, and a partition that still moves keeps the engine from counting as
// stalled as a whole.
func TestTranslateStallShowsWithinASecond(t *testing.T) {
	bubble(t, 2, true, func(t *testing.T, h *harness) {
		h.logs = &syncBuffer{}
		// Keys A and D hash to different partitions.
		recs := []*kgo.Record{rec("A", 0, "tsleep20"), rec("D", 0, "ttrans1000000")}
		h.produce(recs...)
		if recs[0].Partition == recs[1].Partition {
			t.Fatalf("A and B are both on partition %d", recs[0].Partition)
		}
		r := h.start("a", h.config(), func(p *fakePublisher) { p.hold("F") })
		h.eventually("A0 and D0 fetched", func() bool { return r.e.Health().Waiting == 2 })
		fetched := time.Now()
		h.eventually("both partitions stalled", func() bool { return metricValue(r.e.metrics.translateStalled) == 2 })
		if took := time.Since(fetched); took > slowTranslate+stallCheckEvery {
			t.Errorf("stalls showed %v after the records were fetched", took)
		}
		hl := r.e.Health()
		if hl.TranslateStalled != 2 || hl.TranslateStalledSince.IsZero() {
			t.Errorf("Health %+v: want both partitions stalled, since a common time", hl)
		}
		if n := len(h.logs.lines("translation stalled: one record has been decoding for over a second (schema registry slow or down?); later records of the partition wait")); n != 1 {
			t.Errorf("%d slow-decode lines, want 1 (for A0)", n)
		}
		time.Sleep(25 * time.Second)
		h.eventually("A0 published", func() bool { return h.sink.count() == 1 })
		if got := metricValue(r.e.metrics.translateStalled); got != 1 {
			t.Errorf("bridge_translate_stalled_partitions = %v after A0 decoded, want 1 (D0)", got)
		}
		if n := len(h.logs.lines("translation recovered")); n != 1 {
			t.Errorf("%d recovery lines, want 1", n)
		}
		if hl := r.e.Health(); hl.TranslateStalled != 1 || hl.TranslateStalledSince.IsZero() {
			t.Errorf("Health %+v: D's partition stalled and A's holds nothing: still every partition with work is stalled", hl)
		}
		h.produce(rec("F", 0, "")) // on A's partition; its publish is held
		h.eventually("F0 waiting", func() bool { return r.e.Health().Waiting == 2 })
		if hl := r.e.Health(); !hl.TranslateStalledSince.IsZero() {
			t.Errorf("Health %+v: A's partition holds work and is not stalled", hl)
		}
		r.stop()
		if got := metricValue(r.e.metrics.translateStalled); got != 0 {
			t.Errorf("bridge_translate_stalled_partitions = %v after the stop", got)
		}
	})
}

// The committed offset lag comes from the brokers on a timer, so it is
// there before the first commit and grows while nothing finishes; the age of
// the oldest unfinished record grows with it; both fall to zero once
// everything is published and committed. Both series carry the group.
func TestLagMovesWhileNothingFinishes(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		h.produce(keyedRecords(2, 5, "org-%d")...)
		cfg := h.config()
		cfg.LagInterval = time.Second
		r := h.start("a", cfg, func(p *fakePublisher) { p.hold("*") })
		key := fmt.Sprintf("%s/0", srcTopic)
		h.eventually("lag 10", func() bool { return series(t, r.reg, "bridge_committed_offset_lag")[key] == 10 })
		h.produce(keyedRecords(1, 5, "org-%d")...)
		h.eventually("lag 15", func() bool { return series(t, r.reg, "bridge_committed_offset_lag")[key] == 15 })
		time.Sleep(30 * time.Second)
		if age := series(t, r.reg, "bridge_oldest_unfinished_age_seconds")[key]; age < 30 || age > 40 {
			t.Errorf("oldest unfinished record is %vs old after 30s held, want about 30", age)
		}
		r.pub.release("*")
		h.eventually("everything published", func() bool { return h.sink.count() == 15 })
		h.eventually("lag 0", func() bool { return series(t, r.reg, "bridge_committed_offset_lag")[key] == 0 })
		if age, ok := series(t, r.reg, "bridge_oldest_unfinished_age_seconds")[key]; !ok || age != 0 {
			t.Errorf("oldest unfinished age %v (present %v) with nothing unfinished, want 0", age, ok)
		}
	})
}
