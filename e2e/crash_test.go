//go:build integration

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// TestCrashLosesNothing: the bridge is killed with SIGKILL in the middle of
// a 100,000-event stream and started again. Every event reaches the FIFO
// topic, each organization's events in order; the only events sent twice
// are records at or past the offset the group had committed when the
// process died, and there are no more of them than what was in flight or
// finished but not yet committed: the configured in-flight limit plus what
// SNS accepted in the last two commit intervals before the kill.
// (SNS side: the double, see double_test.go.)
func TestCrashLosesNothing(t *testing.T) {
	const (
		n              = 100_000
		maxBuffered    = 1 << 20
		commitInterval = 100 * time.Millisecond
		// maxInFlight bounds the records held unfinished: every record
		// costs more than 256 bytes of the buffer (its key and value, its
		// SNS message and the bookkeeping).
		maxInFlight = maxBuffered / 256
	)
	topic, dlq := sourceTopic(t, 6)
	s := newSink(t, true)
	produced := produceMany(t, topic, 4, 50, n)

	cfg := doubleConfig(t, topic, s)
	cfg.Set("kafka.max_buffered_bytes", maxBuffered)
	cfg.Set("kafka.max_buffered_bytes_per_partition", maxBuffered/4)
	cfg.Set("kafka.commit_interval", commitInterval.String())
	group := cfg.Get("kafka.group_id").(string)

	start := time.Now()
	first := testenv.StartBridge(t, "first", cfg)
	if !waitFor(3*time.Minute, func() bool { return s.acceptedCount() >= n*3/10 }) {
		t.Fatalf("only %d of %d events accepted before the crash", s.acceptedCount(), n)
	}
	first.Kill()
	killed := time.Now()
	atKill := s.acceptedCount()
	finishedUncommitted := s.acceptedSince(killed.Add(-2 * commitInterval))
	rate := float64(atKill) / time.Since(start).Seconds()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(testenv.KafkaClient(t))
	committedAtKill, err := committed(ctx, adm, group, topic)
	if err != nil {
		t.Fatalf("committed offsets after the crash: %v", err)
	}
	attemptsAtKill := s.attemptsOf()
	t.Logf("killed after %d accepted events (%.0f/s); committed %v", atKill, rate, committedAtKill)

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
	s.checkOrder(t, produced)

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
	t.Logf("%d events sent twice after the crash (in-flight limit %d, %d accepted in the last %v)", dups, maxInFlight, finishedUncommitted, 2*commitInterval)
	if early > 0 {
		t.Errorf("%d events below the committed offset were sent again", early)
	}
	if dups > maxInFlight+finishedUncommitted {
		t.Errorf("%d duplicates after a crash, more than the in-flight limit %d plus the %d events finished in the last %v", dups, maxInFlight, finishedUncommitted, 2*commitInterval)
	}
	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d events dead-lettered", len(dead))
	}
	if err := second.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping the bridge: %v", err)
	}
}
