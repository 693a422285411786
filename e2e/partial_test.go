//go:build integration

package e2e

import (
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// TestPartialBatchFailuresAndThrottling: SNS answers PublishBatch with some
// entries failed (Throttled, InternalError: transient), and throttles whole
// requests for a while; the events are spread over 20 organizations, and
// again with a hot organization on top (35 % of the events). Only the failed
// entries are sent again, each organization's events are accepted in order
// but for the order breaks the bridge counts (bridge_order_breaks_total
// equals the events subscribers saw before an earlier one of their
// organization: a failed entry retried after a later entry of its run went
// through), nothing is dead-lettered, and every event arrives.
func TestPartialBatchFailuresAndThrottling(t *testing.T) {
	for _, m := range mixes(20) {
		t.Run(m.name, func(t *testing.T) { testPartialFailures(t, m) })
	}
}

func testPartialFailures(t *testing.T, mix orgMix) {
	const n = 3000
	topic, dlq := sourceTopic(t, 3)
	s := newSink(t, true)

	// Half the entries fail once, chosen by a hash of the event id: a
	// quarter as Throttled, a quarter as InternalError. On its retry an
	// entry goes through.
	var mu sync.Mutex
	failed := map[string]string{} // event id -> code it failed with
	pick := func(code string, bucket uint32) func(snstest.Message) bool {
		return func(m snstest.Message) bool {
			id := m.Attributes["event_id"].StringValue
			h := fnv.New32a()
			h.Write([]byte(id))
			if b := h.Sum32() % 12; b < bucket || b > bucket+2 {
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			if _, done := failed[id]; done {
				return false
			}
			failed[id] = code
			return true
		}
	}
	defer s.srv.FailEntries(pick("Throttled", 0), "Throttled", false)()
	defer s.srv.FailEntries(pick("InternalError", 3), "InternalError", false)()
	// And the first 20 PublishBatch calls are throttled as a whole.
	defer s.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "Throttling", Status: 400, Times: 20})()

	produced := produceMany(t, topic, 11, mix, n)
	cfg := doubleConfig(t, topic, s)
	b := testenv.StartBridge(t, "bridge", cfg)

	if !waitFor(2*time.Minute, func() bool { return len(s.missing(produced)) == 0 }) {
		t.Fatalf("events never accepted: %s", describe(s.missing(produced)))
	}
	time.Sleep(time.Second) // let stray retries, if any, arrive

	attempts := s.attemptsOf()
	mu.Lock()
	nFailed := len(failed)
	retriedGood, wrong := 0, 0
	for _, p := range produced {
		want := 1
		if _, ok := failed[p.eventID]; ok {
			want = 2
		}
		switch got := attempts[p.eventID]; {
		case got == want:
		case got > want && want == 1:
			retriedGood++
		default:
			if wrong < 5 {
				t.Errorf("event %s was sent %d times, want %d", p.eventID, got, want)
			}
			wrong++
		}
	}
	mu.Unlock()
	if nFailed < n/10 {
		t.Fatalf("only %d entries failed; the fault did not bite", nFailed)
	}
	if retriedGood > 0 {
		t.Errorf("%d entries SNS had accepted were sent again: only failed entries may be retried", retriedGood)
	}
	if wrong > 0 {
		t.Errorf("%d failed entries were not sent exactly twice", wrong)
	}
	m := checkNothingDeadLettered(t, b, dlq)
	breaks := m.Sum("bridge_order_breaks_total")
	s.checkOrder(t, produced, int(breaks))
	if breaks == 0 {
		t.Errorf("bridge_order_breaks_total is 0: no run had a failed entry before an accepted one, the faults did not reach inside runs")
	}
	for _, code := range []string{"Throttled", "InternalError", "Throttling"} {
		if m.Sum("bridge_sns_retries_total", `code="`+code+`"`) == 0 {
			t.Errorf("bridge_sns_retries_total{code=%q} is 0", code)
		}
	}
	logBusiest(t, produced)
	t.Logf("%d events, %d entries failed once, %d PublishBatch calls, %.0f order breaks counted and seen", n, nFailed, s.srv.Calls("PublishBatch"), breaks)
	if err := b.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping the bridge: %v", err)
	}
}
