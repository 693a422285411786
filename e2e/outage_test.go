//go:build integration

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// position is where one produced event sits in Kafka.
type position struct {
	partition int32
	offset    int64
	eventID   string
	key       string
}

// streamProducer produces one event every interval until stopped, and
// remembers where each went.
type streamProducer struct {
	halter
	mu       sync.Mutex
	produced []position
	err      error
}

func startStream(t *testing.T, topic string, g *mixedEvents, interval time.Duration) *streamProducer {
	t.Helper()
	cl := testenv.KafkaClient(t)
	registryIDs(t) // before the goroutine: it may fail the test
	sp := &streamProducer{halter: newHalter()}
	go func() {
		defer close(sp.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-sp.stop:
				return
			case <-tick.C:
			}
			r := g.ticket(800)
			rec := &kgo.Record{Topic: topic, Key: r.Key, Value: reframeWith(registered.ids, r.Value)}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := cl.ProduceSync(ctx, rec).FirstErr()
			cancel()
			sp.mu.Lock()
			if err != nil {
				sp.err = err
			} else {
				sp.produced = append(sp.produced, position{rec.Partition, rec.Offset, r.Natural["eventId"].(string), string(r.Key)})
			}
			sp.mu.Unlock()
		}
	}()
	t.Cleanup(sp.halt)
	return sp
}

func (sp *streamProducer) snapshot() ([]position, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]position(nil), sp.produced...), sp.err
}

// committedPastUndelivered lists the records below a committed offset that had not
// reached the subscriber: each is an offset committed past an undelivered
// event.
func committedPastUndelivered(produced []position, offsets map[int32]int64, delivered map[string]int) []string {
	var bad []string
	for _, p := range produced {
		if p.offset < offsets[p.partition] && delivered[p.eventID] == 0 {
			bad = append(bad, fmt.Sprintf("%d/%d (%s)", p.partition, p.offset, p.eventID))
		}
	}
	return bad
}

// TestSNSOutageWaitsAndLosesNothing: events flow through a TCP proxy to
// moto; the proxy resets every connection for 30 s while events keep being
// produced, spread over 12 organizations, and again with a hot organization
// on top (35 % of the events). The topic's breaker opens
// (bridge_sns_breaker_state 2), the partitions feeding it pause once their
// buffers (small here) fill, no offset is committed past an event that had
// not reached the SQS subscriber, nothing is dead-lettered, and once SNS
// answers again every event arrives. (A standard topic and queue: SQS keeps
// no order, so order is proved on the double, see blocked_test.go.)
//
// The outage is refused connections (reset by the proxy) for both mixes, and
// hung connections (accepted, never answered) for the spread one. Once SNS
// answers again, the first event is published within
// maxRecovery.
func TestSNSOutageWaitsAndLosesNothing(t *testing.T) {
	for _, m := range mixes(12) {
		t.Run(m.name, func(t *testing.T) { testSNSOutage(t, m, false) })
	}
	t.Run("hung_connections", func(t *testing.T) { testSNSOutage(t, mixes(12)[0], true) })
}

// maxRecovery is how soon after SNS answers again the bridge publishes,
// with its default breaker and timeouts (issue: within 2 s).
const maxRecovery = 2 * time.Second

func testSNSOutage(t *testing.T, mix orgMix, hung bool) {
	const outage = 30 * time.Second
	topic, dlq := sourceTopic(t, 3)
	ticketARN := testenv.SNSTopic(t, false, nil)
	queue := testenv.SubscribeQueue(t, ticketARN, "")
	reader := testenv.ReadQueue(t, queue.URL)
	proxy := newFaultProxy(t, hostPort(t, testenv.SNSEndpoint(t)))

	// The default breaker, backoff and timeouts: what recovery time users get.
	cfg := baseConfig(t, topic, proxy.url(), [2]string{"*", ticketARN})
	// About five of these events (a record and its SNS message, some
	// 7 KiB each): at 5 events/s over 3 partitions every partition fills
	// within the outage, the hot organization's first.
	cfg.Set("kafka.max_buffered_bytes_per_partition", 32<<10)
	group := cfg.Get("kafka.group_id").(string)
	b := testenv.StartBridge(t, "bridge", cfg)

	g := newMixedEvents(t, 3, mix, eventgen.Options{})
	// 5 events/s: well within what moto and SQS carry on a loaded machine
	// (about 11/s read back), so the backlog of the outage drains quickly.
	stream := startStream(t, topic, g, 200*time.Millisecond)
	if !waitFor(time.Minute, func() bool { return reader.Count() >= 15 }) {
		t.Fatalf("only %d events reached SQS before the outage", reader.Count())
	}

	adm := kadm.NewClient(testenv.KafkaClient(t))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	if hung {
		proxy.hang()
	} else {
		proxy.cut()
	}
	cutAt := time.Now()
	var (
		maxBreaker, maxPaused, maxUnusable float64
		consumed                           []float64 // one sample a second
		commits                            []map[int32]int64
	)
	for time.Since(cutAt) < outage {
		m, err := b.Scrape()
		if err != nil {
			t.Fatalf("scraping /metrics during the outage: %v", err)
		}
		maxBreaker = max(maxBreaker, m.Max("bridge_sns_breaker_state"))
		maxUnusable = max(maxUnusable, m.Max("bridge_sns_unusable"))
		maxPaused = max(maxPaused, m.Sum("bridge_paused_partitions"))
		consumed = append(consumed, m.Sum("bridge_records_consumed_total"))
		if offs, err := committed(ctx, adm, group, topic); err == nil {
			commits = append(commits, offs)
		}
		time.Sleep(time.Second)
	}
	// SNS is still cut off: whatever reaches SQS now was published before.
	time.Sleep(3 * time.Second)
	delivered := reader.IDs()
	produced, _ := stream.snapshot()
	for _, offs := range commits {
		if bad := committedPastUndelivered(produced, offs, delivered); len(bad) > 0 {
			t.Errorf("during the outage the group committed %v, past %d events that had not reached SQS: %v", offs, len(bad), bad[:min(5, len(bad))])
			break
		}
	}
	before, err := b.Scrape()
	if err != nil {
		t.Fatalf("scraping /metrics: %v", err)
	}
	published := before.Sum("bridge_sns_published_total")
	proxy.restore()
	restoredAt := time.Now()
	var recovery time.Duration
	if waitFor(time.Minute, func() bool {
		m, err := b.Scrape()
		return err == nil && m.Sum("bridge_sns_published_total") > published
	}) {
		recovery = time.Since(restoredAt)
		t.Logf("first event published %v after SNS answered again", recovery.Round(10*time.Millisecond))
		if recovery > maxRecovery {
			t.Errorf("first event published %v after SNS answered again, want within %v", recovery.Round(10*time.Millisecond), maxRecovery)
		}
	} else {
		t.Errorf("nothing published within a minute of SNS answering again")
	}
	t.Logf("outage: breaker state reached %v, paused partitions reached %v, %d events produced so far, %d delivered", maxBreaker, maxPaused, len(produced), len(delivered))

	// Refused connections open the breaker. Hung ones keep it mostly
	// half-open (its probes wait for the response timeout, so a once-a-second
	// sample may never see it open), but never closed.
	want := 2.0 // open
	if hung {
		want = 1 // half-open
	}
	if maxBreaker < want {
		t.Errorf("bridge_sns_breaker_state reached %v during a %v outage, want at least %v", maxBreaker, outage, want)
	}
	if maxUnusable != 1 {
		t.Errorf("bridge_sns_unusable never showed 1 during a %v outage", outage)
	}
	// Fetching pauses: the gauge says so, or consumption stood still for the
	// last 10 s of the outage while events kept being produced.
	stalled := len(consumed) > 10 && consumed[len(consumed)-1] == consumed[len(consumed)-11]
	if maxPaused == 0 && !stalled {
		t.Errorf("fetching did not pause: bridge_paused_partitions stayed 0 and records consumed went %v", consumed)
	}

	time.Sleep(5 * time.Second) // events keep coming after the recovery too
	stream.halt()
	produced, err = stream.snapshot()
	if err != nil {
		t.Fatalf("producing: %v", err)
	}
	var missing []string
	if !waitFor(2*time.Minute, func() bool {
		got := reader.IDs()
		missing = missing[:0]
		for _, p := range produced {
			if got[p.eventID] == 0 {
				missing = append(missing, p.eventID)
			}
		}
		return len(missing) == 0
	}) {
		t.Errorf("%d of %d events never reached SQS after the outage, e.g. %v", len(missing), len(produced), missing[:min(5, len(missing))])
	}
	dups := 0
	for _, n := range reader.IDs() {
		dups += n - 1
	}
	t.Logf("%d events produced, all delivered, %d duplicates", len(produced), dups)
	logBusiest(t, produced)

	m := checkNothingDeadLettered(t, b, dlq)
	logPauses(t, m)
	if n := m.Max("bridge_sns_breaker_state"); n != 0 {
		t.Errorf("bridge_sns_breaker_state = %v after recovery, want 0 (closed)", n)
	}
	if err := b.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping the bridge: %v", err)
	}
}
