package consumer

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// Many keys over several partitions, no failures: every event is published
// exactly once, in key order, and the committed offsets reach the end.
func TestDeliversEveryEventOnceInKeyOrder(t *testing.T) {
	bubble(t, 4, true, func(t *testing.T, h *harness) {
		const keys, perKey = 20, 25
		recs := keyedRecords(keys, perKey, "org-%02d")
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

// A key whose publish does not finish (the publisher keeps retrying it)
// parks only that key: other keys of the partition keep flowing, the commit
// never passes the stuck record, and once it recovers the key's events
// arrive in order.
func TestStuckKeyParksOnlyThatKey(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		recs := []*kgo.Record{rec("B", 0, ""), rec("C", 0, ""), rec("A", 0, "")} // A0 is offset 2
		for i := 1; i < 10; i++ {
			recs = append(recs, rec("B", i, ""), rec("C", i, ""))
		}
		// More of A than one run holds, so that some wait behind the stuck one.
		const moreA = 13
		for i := 1; i <= moreA; i++ {
			recs = append(recs, rec("A", i, ""))
		}
		h.produce(recs...)
		r := h.start("a", h.config(), func(p *fakePublisher) { p.hold("A") })

		h.eventually("B and C published", func() bool { return h.sink.count() == 20 })
		time.Sleep(10 * time.Second) // many commit intervals
		for _, p := range h.sink.snapshot() {
			if p.key == "A" {
				t.Errorf("A%d published while A0 is stuck", p.seq)
			}
		}
		if got := h.committed()[0]; got != 2 {
			t.Errorf("committed offset %d while offset 2 is stuck, want 2", got)
		}
		if got := metricValue(r.e.metrics.parkedKeys); got != 1 {
			t.Errorf("bridge_parked_keys = %v, want 1", got)
		}

		r.pub.release("A")
		h.eventually("everything published", func() bool { return h.sink.count() == 21+moreA })
		h.eventually("commits at the end", h.committedToEnd)
		var order []int
		for _, p := range h.sink.snapshot() {
			if p.key == "A" {
				order = append(order, p.seq)
			}
		}
		if !slices.Equal(order, seqs(moreA+1)) {
			t.Errorf("A published in order %v, want %v", order, seqs(moreA+1))
		}
		if got := metricValue(r.e.metrics.parkedKeys); got != 0 {
			t.Errorf("bridge_parked_keys = %v after recovery, want 0", got)
		}
	})
}

// Permanent translate and publish errors are dead-lettered with the original
// key, value, headers and timestamp and every bridge header; the partition
// keeps flowing, and the next event of the failed one's scope (its key and
// the topic it was routed to) goes only after the dead letter is
// acknowledged.
func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		ts := time.Date(2026, 11, 2, 9, 30, 0, 123_000_000, time.UTC)
		undecodable := rec("k1", 1, "tperm")
		undecodable.Timestamp = ts
		undecodable.Headers = []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-abc-01")}, {Key: deadletter.HeaderErrorClass, Value: []byte("stale")},
			{Key: deadletter.HeaderReplayCount, Value: []byte("2")}}
		noKey := rec("org-x", 0, "tperm")
		noKey.Key = nil
		h.produce(
			rec("k1", 0, ""),                // 0
			undecodable,                     // 1
			rec("k1", 2, ""),                // 2
			rec("k2", 0, "pperm,offloaded"), // 3: a pointer SNS refused
			rec("k2", 1, ""),                // 4
			noKey,                           // 5
			rec("k3", 0, "ttoolarge"),       // 6: routed to arnA, then failed
			rec("k3", 1, ""),                // 7
		)
		var dlqEndAtK3Seq1 int64 = -1
		r := h.start("a", h.config(), func(p *fakePublisher) {
			p.onPublish = func(e *sns.Entry) {
				if k, seq, _ := parseValue(e.Body); k == "k3" && seq == 1 {
					dlqEndAtK3Seq1 = h.c.PartitionInfo(dlqTopic, 0).HighWatermark
				}
			}
		})
		h.eventually("good events published", func() bool { return h.sink.count() == 4 })
		h.eventually("commits at the end", h.committedToEnd)

		dls := h.deadLetters()
		if len(dls) != 4 {
			t.Fatalf("%d dead letters, want 4", len(dls))
		}
		byOffset := make(map[string]*kgo.Record)
		for _, d := range dls {
			byOffset[headerMap(d)[deadletter.HeaderSourceOffset]] = d
		}
		if d := byOffset["6"]; d == nil || d.Offset >= dlqEndAtK3Seq1 {
			t.Errorf("k3 seq 1 was published before the dead letter of k3 seq 0 was acknowledged (dead-letter end then: %d)", dlqEndAtK3Seq1)
		}
		wants := map[string]map[string]string{
			"1": {deadletter.HeaderErrorClass: "permanent", deadletter.HeaderErrorReason: "undecodable", deadletter.HeaderErrorSNSCode: "",
				deadletter.HeaderEventID: "ev-k1-1", deadletter.HeaderEventOrgID: "k1", deadletter.HeaderTargetTopicARN: "", deadletter.HeaderAttempts: "1",
				deadletter.HeaderSourceTimestamp: "2026-11-02T09:30:00.123Z"},
			"3": {deadletter.HeaderErrorClass: "permanent", deadletter.HeaderErrorReason: "sns_rejected", deadletter.HeaderErrorSNSCode: "InvalidParameter",
				deadletter.HeaderEventID: "ev-k2-0", deadletter.HeaderEventOrgID: "k2", deadletter.HeaderTargetTopicARN: arnA, deadletter.HeaderAttempts: "1",
				deadletter.HeaderOffloadObject: "s3://large/ev-k2-0.json"},
			"5": {deadletter.HeaderErrorReason: "undecodable", deadletter.HeaderEventID: "ev-org-x-0", deadletter.HeaderEventOrgID: "org-x"},
			"6": {deadletter.HeaderErrorReason: "too_large", deadletter.HeaderEventID: "ev-k3-0", deadletter.HeaderTargetTopicARN: arnA},
		}
		for off, want := range wants {
			d := byOffset[off]
			if d == nil {
				t.Errorf("no dead letter for offset %s", off)
				continue
			}
			hm := headerMap(d)
			for _, name := range []string{deadletter.HeaderErrorClass, deadletter.HeaderErrorReason, deadletter.HeaderErrorMessage, deadletter.HeaderErrorSNSCode,
				deadletter.HeaderSourceTopic, deadletter.HeaderSourcePartition, deadletter.HeaderSourceOffset, deadletter.HeaderSourceTimestamp, deadletter.HeaderEventID,
				deadletter.HeaderEventType, deadletter.HeaderEventOrgID, deadletter.HeaderTargetTopicARN, deadletter.HeaderAttempts, deadletter.HeaderFailedAt, deadletter.HeaderInstance, deadletter.HeaderVersion} {
				if _, ok := hm[name]; !ok {
					t.Errorf("offset %s: header %s missing", off, name)
				}
			}
			want[deadletter.HeaderSourceTopic], want[deadletter.HeaderSourcePartition], want[deadletter.HeaderVersion], want[deadletter.HeaderEventType] = srcTopic, "0", "test", "ticket.created"
			for k, v := range want {
				if hm[k] != v {
					t.Errorf("offset %s: header %s = %q, want %q", off, k, hm[k], v)
				}
			}
			if _, err := time.Parse(deadletter.TimestampLayout, hm[deadletter.HeaderFailedAt]); err != nil {
				t.Errorf("offset %s: %s: %v", off, deadletter.HeaderFailedAt, err)
			}
			if hm[deadletter.HeaderInstance] == "" || hm[deadletter.HeaderErrorMessage] == "" {
				t.Errorf("offset %s: empty instance or message header", off)
			}
			n := 0
			for _, hd := range d.Headers {
				if hd.Key == deadletter.HeaderErrorClass {
					n++
				}
			}
			if n != 1 {
				t.Errorf("offset %s: %d %s headers, want the source's stale one replaced", off, n, deadletter.HeaderErrorClass)
			}
		}
		if d := byOffset["1"]; d != nil {
			if string(d.Key) != "k1" || string(d.Value) != "k1|1|tperm" || !d.Timestamp.Equal(ts) {
				t.Errorf("dead letter lost the original record: key %q value %q timestamp %v", d.Key, d.Value, d.Timestamp)
			}
			if headerMap(d)[deadletter.HeaderReplayCount] != "2" {
				t.Errorf("a replayed record that failed again lost its %s header", deadletter.HeaderReplayCount)
			}
			if headerMap(d)["traceparent"] != "00-abc-01" {
				t.Error("dead letter lost the original traceparent header")
			}
		}
		if d := byOffset["5"]; d != nil && d.Key != nil {
			t.Errorf("dead letter of a keyless record has key %q", d.Key)
		}
		if got := metricValue(r.e.metrics.deadLetters.WithLabelValues("undecodable")); got != 2 {
			t.Errorf("bridge_dead_letters_total{reason=undecodable} = %v, want 2", got)
		}
	})
}

// When the dead-letter topic cannot be written, the failing record's scope
// stays blocked and nothing is committed past it; once the topic exists the
// dead letter is written and the commit moves on.
func TestDeadLetterTopicUnavailable(t *testing.T) {
	bubble(t, 1, false, func(t *testing.T, h *harness) {
		h.produce(rec("k1", 0, ""), rec("k1", 1, "ttoolarge"), rec("k1", 2, ""), rec("k2", 0, ""), rec("k2", 1, ""), rec("k2", 2, ""))
		r := h.start("a", h.config())
		h.eventually("k1 seq 0 and k2 published", func() bool { return h.sink.count() == 4 })
		time.Sleep(20 * time.Second)
		for _, p := range h.sink.snapshot() {
			if p.key == "k1" && p.seq == 2 {
				t.Error("k1 seq 2 published while the dead letter of k1 seq 1 is not written")
			}
		}
		if got := h.committed()[0]; got != 1 {
			t.Errorf("committed %d while offset 1 is not dead-lettered, want 1", got)
		}
		if got := metricValue(r.e.metrics.retries.WithLabelValues("kafka")); got == 0 {
			t.Error("no dead-letter produce retries counted")
		}

		if err := h.c.CreateTopic(dlqTopic, 1, nil); err != nil {
			t.Fatal(err)
		}
		h.eventually("k1 seq 2 published", func() bool { return h.sink.count() == 5 })
		h.eventually("commits at the end", h.committedToEnd)
		if dls := h.deadLetters(); len(dls) != 1 || headerMap(dls[0])[deadletter.HeaderSourceOffset] != "1" {
			t.Errorf("dead letters %v, want the record at offset 1", dls)
		}
	})
}

// Stopping halfway and starting a new member in the same group: every
// record is published at least once, and a record published by both runs
// is one the first run had not committed.
func TestRestartResumesFromCommittedWatermark(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drain time.Duration
	}{
		{"graceful", 5 * time.Second},
		{"drain deadline passes", 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, 2, true, func(t *testing.T, h *harness) {
				const keys, perKey = 10, 40
				recs := keyedRecords(keys, perKey, "org-%d")
				h.produce(recs...)
				cfg := h.config()
				cfg.DrainTimeout = tc.drain
				cfg.MaxRunPerKey = 2 // 20 round trips per key: run 1 stops halfway
				slow := func(p *fakePublisher) { p.delay = 50 * time.Millisecond }
				r1 := h.start("run1", cfg, slow)
				h.eventually("a third published", func() bool { return h.sink.count() >= keys*perKey/3 })
				r1.stop()
				committed := h.committed()
				first := h.sink.count()
				if first >= keys*perKey {
					t.Fatal("run 1 finished everything; the test stops it too late")
				}

				h.start("run2", cfg, slow)
				h.eventually("every event published", h.publishedAll(keys*perKey))
				h.eventually("commits at the end", h.committedToEnd)

				inRun1 := make(map[string]bool)
				for _, p := range h.sink.snapshot() {
					if p.stream == "run1" {
						inRun1[p.position] = true
						continue
					}
					if !inRun1[p.position] {
						continue
					}
					var part int32
					var off int64
					fmt.Sscanf(p.position, srcTopic+"/%d/%d", &part, &off)
					if off < committed[part] {
						t.Errorf("%s published again although run 1 committed %d", p.position, committed[part])
					}
				}
			})
		})
	}
}

// Members join and leave during the flow: nothing is lost, no event is
// published before the earlier events of its key (across members), and no
// member's commit rewinds a partition (which is what a commit for a
// partition the member no longer owns would do).
func TestRebalanceLosesNothingAndNeverRewindsCommits(t *testing.T) {
	realTime(t, 6, true, func(t *testing.T, h *harness) {
		var mu sync.Mutex
		var rewinds []string
		last := make(map[int32]int64)
		h.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.OffsetCommit}, Observe: true, Count: -1, When: func(req kmsg.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			for _, tt := range req.(*kmsg.OffsetCommitRequest).Topics {
				for _, p := range tt.Partitions {
					if p.Offset < last[p.Partition] {
						rewinds = append(rewinds, fmt.Sprintf("partition %d: %d after %d", p.Partition, p.Offset, last[p.Partition]))
					}
					last[p.Partition] = p.Offset
				}
			}
			return true
		}})

		const keys, perKey = 24, 40
		recs := keyedRecords(keys, perKey, "org-%02d")
		h.produce(recs...)
		// Runs of 4, one round trip per 200ms: about 2s of flow, so that
		// the members join and leave while runs are out.
		cfg := h.config()
		cfg.MaxRunPerKey = 4
		slow := func(p *fakePublisher) { p.delay = 200 * time.Millisecond }
		a := h.start("a", cfg, slow)
		h.start("b", cfg, slow)
		if _, err := h.c.WaitGroupStable(context.Background(), group, 2); err != nil {
			t.Fatal(err)
		}
		h.eventually("a fifth published", func() bool { return h.sink.count() >= keys*perKey/5 })
		h.start("c", cfg, slow)
		if _, err := h.c.WaitGroupStable(context.Background(), group, 3); err != nil {
			t.Fatal(err)
		}
		h.eventually("half published", func() bool { return h.sink.count() >= keys*perKey/2 })
		a.stop()
		h.eventually("every event published", h.publishedAll(keys*perKey))
		h.eventually("commits at the end", h.committedToEnd)

		streams := make(map[string]int)
		for _, p := range h.sink.snapshot() {
			streams[p.stream]++
		}
		if len(streams) != 3 {
			t.Errorf("publishes per member %v, want all three members to have published", streams)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rewinds {
			t.Errorf("commit rewound %s", r)
		}
	})
}

// A full buffer pauses the partition's fetching; it resumes once the stuck
// key recovers, and every record is then delivered in order.
func TestFullBufferPausesPartition(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		const n = 60
		var recs []*kgo.Record
		for i := range n {
			recs = append(recs, rec("A", i, ""))
		}
		h.produce(recs...)
		cfg := h.config()
		cfg.MaxBufferedBytesPerPartition = 10 * bufferedCost(recs[0])
		cfg.MaxBufferedBytes = 100 * bufferedCost(recs[0])
		r := h.start("a", cfg, func(p *fakePublisher) { p.hold("A") })
		h.eventually("partition paused", func() bool { return metricValue(r.e.metrics.paused) == 1 })
		time.Sleep(10 * time.Second)
		if got := metricValue(r.e.metrics.consumed.WithLabelValues(srcTopic)); got > 2*10 {
			t.Errorf("%v records consumed while paused with a buffer of 10 records' bytes", got)
		}
		if got := r.e.client().PauseFetchPartitions(nil); len(got[srcTopic]) != 1 {
			t.Errorf("paused partitions %v, want %s/0", got, srcTopic)
		}
		if got := metricValue(r.e.metrics.partitionPauses.WithLabelValues(pauseHotKey)); got != 1 {
			t.Errorf("bridge_partition_pauses_total{reason=hot_key} = %v for a buffer full of one key, want 1", got)
		}

		r.pub.release("A")
		h.eventually("everything published", func() bool { return h.sink.count() == n })
		h.eventually("commits at the end", h.committedToEnd)
		if got := metricValue(r.e.metrics.paused); got != 0 {
			t.Errorf("bridge_paused_partitions = %v after draining", got)
		}
		if got := metricValue(r.e.metrics.consumed.WithLabelValues(srcTopic)); got != n {
			t.Errorf("%v records consumed, want %d", got, n)
		}
		if got := metricValue(r.e.metrics.bufferedBytes); got != 0 {
			t.Errorf("bridge_buffered_bytes = %v after draining, want 0", got)
		}
	})
}

// A blocked target topic holds only the scopes for it: the same key's
// events for another topic keep flowing, and fetching goes on, until the
// buffer fills with the blocked topic's events; then the partition pauses
// (reason topic_blocked) and resumes once the topic recovers.
func TestBlockedTopicHoldsOnlyItsScopes(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		var first []*kgo.Record
		for seq := range 20 {
			beh := ""
			if seq%2 == 1 {
				beh = "arnB"
			}
			first = append(first, rec("K", seq, beh))
		}
		h.produce(first...)
		cfg := h.config()
		cfg.MaxBufferedBytesPerPartition = 40 * bufferedCost(first[0])
		r := h.start("a", cfg, func(p *fakePublisher) { p.hold(arnB) })
		r.e.TopicBlocked(arnB, true)
		h.eventually("K's arnA events published", func() bool { return h.sink.count() == 10 })
		if got := metricValue(r.e.metrics.paused); got != 0 {
			t.Fatalf("partition paused with room in its buffer")
		}
		h.produce(rec("L", 0, ""))
		h.eventually("a record fetched after the block published", func() bool { return h.sink.count() == 11 })

		var more []*kgo.Record
		for seq := 20; seq < 80; seq++ {
			more = append(more, rec("K", seq, "arnB"))
		}
		h.produce(more...)
		h.eventually("paused at a full buffer", func() bool { return metricValue(r.e.metrics.paused) == 1 })
		time.Sleep(time.Second) // the reason is counted once the records that filled it are translated
		if got := metricValue(r.e.metrics.partitionPauses.WithLabelValues(pauseTopicBlocked)); got != 1 {
			t.Errorf("bridge_partition_pauses_total{reason=topic_blocked} = %v, want 1", got)
		}
		for _, p := range h.sink.snapshot() {
			if p.arn == arnB {
				t.Errorf("%s published to the blocked topic", p.position)
			}
		}

		r.e.TopicBlocked(arnB, false)
		r.pub.release(arnB)
		h.eventually("everything published", func() bool { return h.sink.count() == 81 })
		h.eventually("resumed", func() bool { return metricValue(r.e.metrics.paused) == 0 })
		h.eventually("commits at the end", h.committedToEnd)
	})
}

// A transient translate error is retried with backoff and then delivered;
// one that never clears holds its partition (nothing is committed past it)
// and does not keep the engine from shutting down.
func TestTransientTranslateErrorsRetry(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		h.produce(rec("A", 0, ""), rec("A", 1, "ttrans3"), rec("B", 0, ""), rec("C", 0, "ttrans1000000"), rec("D", 0, ""))
		r := h.start("a", h.config())
		h.eventually("A, B published", func() bool { return h.sink.count() == 3 })
		h.eventually("committed up to the stuck record", func() bool { return h.committed()[0] == 3 })
		time.Sleep(10 * time.Second)
		if got := h.committed()[0]; got != 3 {
			t.Errorf("committed %d, want 3 (offset 3 never translates)", got)
		}
		if got := metricValue(r.e.metrics.retries.WithLabelValues("registry")); got < 6 {
			t.Errorf("bridge_retries_total{reason=registry} = %v, want at least 6", got)
		}
		if h.sink.count() != 3 {
			t.Errorf("%d published; D is behind the stuck record in offset order and must wait", h.sink.count())
		}
		r.stop() // returns although the translate retry loop never succeeds
	})
}

// With an empty record key the event's orgId is the ordering key.
func TestEmptyKeyOrdersByOrgID(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		noKey := func(org string, seq int) *kgo.Record { r := rec(org, seq, ""); r.Key = nil; return r }
		h.produce(noKey("org-z", 0), noKey("org-y", 0), noKey("org-z", 1))
		r := h.start("a", h.config(), func(p *fakePublisher) { p.hold("org-z") })
		h.eventually("org-y published", func() bool { return h.sink.count() == 1 })
		time.Sleep(5 * time.Second)
		if h.sink.count() != 1 {
			t.Fatal("org-z seq 1 published while org-z seq 0 is held")
		}
		r.pub.release("org-z")
		h.eventually("all published", func() bool { return h.sink.count() == 3 })
	})
}

// A member that loses its partitions (a fatal group error) drops their
// state without committing; after it rejoins, the records it had not
// finished are delivered, and the commit never passed the stuck record.
func TestLostPartitionsAreRedeliveredNotCommitted(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		var mu sync.Mutex
		maxCommitBeforeRelease := int64(-1)
		released := false
		h.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.OffsetCommit}, Observe: true, Count: -1, When: func(req kmsg.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			for _, tt := range req.(*kmsg.OffsetCommitRequest).Topics {
				for _, p := range tt.Partitions {
					if !released {
						maxCommitBeforeRelease = max(maxCommitBeforeRelease, p.Offset)
					}
				}
			}
			return true
		}})
		h.produce(rec("B", 0, ""), rec("A", 0, ""), rec("B", 1, ""))
		r := h.start("a", h.config(), func(p *fakePublisher) { p.hold("A") })
		h.eventually("B published", func() bool { return h.sink.count() == 2 })
		h.eventually("committed up to A0", func() bool { return h.committed()[0] == 1 })

		h.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Heartbeat}, Err: kerr.UnknownMemberID})
		h.eventually("partitions lost", func() bool { return metricValue(r.e.metrics.rebalances.WithLabelValues("lost")) == 1 })
		h.eventually("reassigned and B1 fetched again", func() bool { return h.sink.count() == 3 })
		mu.Lock()
		released = true
		before := maxCommitBeforeRelease
		mu.Unlock()
		if before != 1 {
			t.Errorf("highest commit while A0 was unfinished: %d, want 1", before)
		}
		r.pub.release("A")
		h.eventually("A0 published", func() bool {
			for _, p := range h.sink.snapshot() {
				if p.key == "A" {
					return true
				}
			}
			return false
		})
		h.eventually("commits at the end", h.committedToEnd)
	})
}

// A publisher that hands back an error it should have retried does not
// lose the event or dead-letter it: the engine publishes it again.
func TestNonPermanentPublishErrorIsPublishedAgain(t *testing.T) {
	bubble(t, 1, true, func(t *testing.T, h *harness) {
		h.produce(rec("A", 0, "pbroken"), rec("A", 1, ""))
		cfg := h.config()
		cfg.MaxRunPerKey = 1 // one entry handed back; runs_test.go has one inside a run
		r := h.start("a", cfg)
		h.eventually("both published", func() bool { return h.sink.count() == 2 })
		h.eventually("commits at the end", h.committedToEnd)
		if dls := h.deadLetters(); len(dls) != 0 {
			t.Errorf("%d dead letters for a transient error", len(dls))
		}
		if got := metricValue(r.e.metrics.errors.WithLabelValues("transient", failure.ReasonSNSUnavail)); got != 1 {
			t.Errorf("bridge_errors_total{class=transient,reason=sns_unavailable} = %v, want 1", got)
		}
	})
}

// However large the backlog, the engine holds about MaxBufferedBytes of
// unfinished records: polling stops at the bound and resumes as they
// finish.
func TestBufferedBytesBoundTheBacklogInMemory(t *testing.T) {
	bubble(t, 4, true, func(t *testing.T, h *harness) {
		const keys, perKey = 16, 25
		recs := keyedRecords(keys, perKey, "org-%02d")
		h.produce(recs...)
		cost := bufferedCost(recs[0])
		cfg := h.config()
		cfg.MaxBufferedBytesPerPartition = 10 * cost
		cfg.MaxBufferedBytes = 20 * cost
		r := h.start("a", cfg, func(p *fakePublisher) { p.hold("*") })
		h.eventually("the bound reached", func() bool { return int64(metricValue(r.e.metrics.bufferedBytes)) >= cfg.MaxBufferedBytes })
		time.Sleep(10 * time.Second)
		// One poll may go past the bound by what it takes (about half a
		// partition's bound); nothing more may come while nothing finishes.
		if got := metricValue(r.e.metrics.consumed.WithLabelValues(srcTopic)); got > 20+10 {
			t.Errorf("%v records consumed with a bound of 20 records' bytes and nothing finishing", got)
		}
		r.pub.release("*")
		h.eventually("everything published", func() bool { return h.sink.count() == keys*perKey })
		h.eventually("commits at the end", h.committedToEnd)
	})
}

// A regex subscription that also matches the dead-letter topic does not
// consume the bridge's own dead letters.
func TestRegexSubscriptionSkipsDeadLetterTopics(t *testing.T) {
	bubble(t, 2, true, func(t *testing.T, h *harness) {
		h.produce(rec("k1", 0, ""), rec("k1", 1, "tperm"), rec("k2", 0, ""))
		cfg := h.config()
		cfg.Topics, cfg.TopicRegex = []string{"^events"}, true
		r := h.start("a", cfg)
		h.eventually("published", func() bool { return h.sink.count() == 2 })
		h.eventually("commits at the end", h.committedToEnd)
		time.Sleep(30 * time.Second) // metadata refreshes, commit intervals
		if got := metricValue(r.e.metrics.consumed.WithLabelValues(dlqTopic)); got != 0 {
			t.Errorf("consumed %v records from the dead-letter topic", got)
		}
		if dls := h.deadLetters(); len(dls) != 1 {
			t.Errorf("%d dead letters, want 1", len(dls))
		}
	})
}

// A revoked partition whose publishes do not finish within DrainTimeout is
// abandoned: the old owner cancels them and commits only what finished, and
// the new owner publishes the records.
func TestRevocationAbandonsAtTheDrainDeadline(t *testing.T) {
	realTime(t, 2, true, func(t *testing.T, h *harness) {
		var recs []*kgo.Record
		for k := range 8 {
			for seq := range 5 {
				recs = append(recs, rec(fmt.Sprintf("org-%d", k), seq, ""))
			}
		}
		h.produce(recs...)
		cfg := h.config()
		cfg.DrainTimeout = time.Second
		a := h.start("a", cfg, func(p *fakePublisher) { p.hold("*") }) // a never finishes a publish
		h.eventually("a holds publishes", func() bool { return metricValue(a.e.metrics.inflight) > 0 })
		h.start("b", cfg)
		h.eventually("a revoked a partition", func() bool { return metricValue(a.e.metrics.rebalances.WithLabelValues("revoked")) == 1 })
		if got := metricValue(a.e.metrics.abandoned); got == 0 {
			t.Error("no publish abandoned at the drain deadline")
		}
		a.stop() // abandons the rest; b gets everything
		h.eventually("everything published", h.publishedAll(len(recs)))
		h.eventually("commits at the end", h.committedToEnd)
		for _, p := range h.sink.snapshot() {
			if p.stream == "a" {
				t.Errorf("a published %s although its publisher never finished", p.position)
			}
		}
	})
}
