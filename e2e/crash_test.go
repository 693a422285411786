//go:build integration

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// TestCrashLosesNothing: the bridge is killed with SIGKILL in the middle of
// a 50,000-event stream and started again, with the events spread over 50
// organizations, and again with a hot organization on top (35 % of the
// events, which ride same-key runs of up to 10). Every event reaches the
// FIFO topic, each organization's events in order; the only events sent
// twice are records at or past the offset the group had committed when the
// process died, and there are no more of them than what was held unfinished
// or finished but not yet committed: the records kafka.max_buffered_bytes
// lets the bridge hold plus what SNS accepted in the last commit interval
// (the default, 1 s) and a commit's round trip before the kill. (SNS side: the double, see double_test.go.)
func TestCrashLosesNothing(t *testing.T) {
	for _, m := range mixes(50) {
		t.Run(m.name, func(t *testing.T) { testCrash(t, m) })
	}
}

func testCrash(t *testing.T, m orgMix) {
	const (
		n            = 50_000
		maxBuffered  = 1 << 20
		perPartition = maxBuffered / 4
		// The default commit interval, and one commit's round trip: a crash
		// replays at most what the buffers hold plus about a second of
		// traffic (issue 11: kafka.commit_interval 1s).
		commitInterval = consumer.DefaultCommitInterval
		commitWindow   = commitInterval + 250*time.Millisecond
		// maxHeld bounds the records the bridge holds between its last
		// commit and the kill. Polling stops once the buffers count
		// maxBuffered bytes, and the poll before it took about a
		// partition's bound (consumer/doc.go); every record held counts at
		// least its bookkeeping in those bytes, 248 bytes (consumer's
		// heldCost) for a finished one waiting behind an unfinished one,
		// and more for any other: its key, value and SNS message too.
		maxHeld = (maxBuffered + perPartition) / 248
	)
	topic, dlq := sourceTopic(t, 6)
	s := newSink(t, true)
	produced := produceMany(t, topic, 4, m, n)

	cfg := doubleConfig(t, topic, s)
	cfg.Set("kafka.max_buffered_bytes", maxBuffered)
	cfg.Set("kafka.max_buffered_bytes_per_partition", perPartition)
	cfg.Set("kafka.commit_interval", commitInterval.String())
	group := cfg.Get("kafka.group_id").(string)

	start := time.Now()
	first := testenv.StartBridge(t, "first", cfg)
	if !waitFor(3*time.Minute, func() bool { return s.acceptedCount() >= n*3/10 }) {
		t.Fatalf("only %d of %d events accepted before the crash", s.acceptedCount(), n)
	}
	// What the bridge holds, read as close to the kill as can be.
	before, err := first.Scrape()
	if err != nil {
		t.Fatalf("scraping the bridge before the crash: %v", err)
	}
	first.Kill()
	killed := time.Now()
	atKill := s.acceptedCount()
	rate := float64(atKill) / time.Since(start).Seconds()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(testenv.KafkaClient(t))
	committedAtKill, err := committed(ctx, adm, group, topic)
	if err != nil {
		t.Fatalf("committed offsets after the crash: %v", err)
	}
	attemptsAtKill := s.attemptsOf()
	// Counted once the dead process's last calls are answered: an entry in
	// a call SNS read before the kill may be accepted after it.
	finishedUncommitted := s.acceptedSince(killed.Add(-commitWindow))
	t.Logf("killed after %d accepted events (%.0f/s), holding %.0f records (%.0f bytes) just before; committed %v", atKill, rate,
		before.Sum("bridge_inflight_events"), before.Sum("bridge_buffered_bytes"), committedAtKill)

	// Nothing committed past an event that was not accepted.
	accepted := map[string]int{}
	for id := range attemptsAtKill {
		if s.isAccepted(id) {
			accepted[id] = 1
		}
	}
	if bad := committedPastUndelivered(produced, committedAtKill, accepted); len(bad) > 0 {
		t.Errorf("the group had committed past %s events SNS never accepted", describe(bad))
	}

	second := testenv.StartBridge(t, "second", cfg)
	if !waitFor(4*time.Minute, func() bool { return s.acceptedCount() >= n }) {
		t.Fatalf("after the restart, events never accepted: %s", describe(s.missing(produced)))
	}
	if missing := s.missing(produced); len(missing) > 0 {
		t.Fatalf("events lost: %s", describe(missing))
	}
	// Nothing fails inside a run here: no order break may happen.
	s.checkOrder(t, produced, 0)
	logBusiest(t, produced)

	// Duplicates: events sent again after the restart. Each must be a record
	// the dead process had not committed.
	attempts := s.attemptsOf()
	dups, early := 0, 0
	for _, p := range produced {
		if attempts[p.eventID] > 1 {
			dups += attempts[p.eventID] - 1
			if p.offset < committedAtKill[p.partition] {
				early++
			}
		}
	}
	t.Logf("%d events sent twice after the crash (at most %d records held, %d accepted from %v before the kill)", dups, maxHeld, finishedUncommitted, commitWindow)
	if early > 0 {
		t.Errorf("%d events below the committed offset were sent again", early)
	}
	if dups > maxHeld+finishedUncommitted {
		t.Errorf("%d duplicates after a crash, more than the %d records the buffers hold plus the %d events accepted from %v before the kill", dups, maxHeld, finishedUncommitted, commitWindow)
	}
	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d events dead-lettered", len(dead))
	}
	if err := second.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping the bridge: %v", err)
	}
}
