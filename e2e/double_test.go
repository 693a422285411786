//go:build integration

package e2e

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// Measured on the shared 2-core machine: the bridge got 33 events/s into
// moto through a standard topic with one SQS queue subscribed, and SQS handed
// them back at 11/s (a FIFO topic and queue: 3/s read back; 16 parallel
// PublishBatch callers without the bridge: 14/s). 100,000 events would take
// from 50 minutes to hours, so the proofs that need that volume (crash,
// rebalance) and those that need per-entry fault injection (partial batches,
// throttling) publish to sns/snstest instead: a real SNS Query-protocol
// endpoint on 127.0.0.1, served by this test process, with the real Kafka and
// registry. The bridge does about 7,000 events/s into it.

// sink is the SNS double with a record of what the bridge sent it.
type sink struct {
	srv *snstest.Server
	arn string // the topic newSink made; addTopic makes more

	mu       sync.Mutex
	attempts map[string]int        // entries that reached per-entry judgement, by event id
	first    map[string]acceptance // each event's first acceptance, by event id
	times    []time.Time           // when each acceptance happened, in order
}

// acceptance is when and where a topic first accepted an event.
type acceptance struct {
	seq   int // its place among the first acceptances of every topic
	topic string
	at    time.Time
}

// newSink starts the double with one topic (FIFO when fifo is true). Every
// PublishBatch entry that reaches per-entry judgement is counted by event
// id; every event's first acceptance is remembered (the double keeps only
// counts, so 100,000 events cost little).
func newSink(t *testing.T, fifo bool) *sink {
	t.Helper()
	s := &sink{attempts: map[string]int{}, first: map[string]acceptance{}}
	s.srv = snstest.NewServer(snstest.Options{CountOnly: true, OnAccept: func(m *snstest.Message) {
		now := time.Now()
		id := m.Attributes["event_id"].StringValue
		s.mu.Lock()
		if _, ok := s.first[id]; !ok {
			s.first[strings.Clone(id)] = acceptance{seq: len(s.first), topic: m.TopicARN, at: now}
		}
		s.times = append(s.times, now)
		s.mu.Unlock()
	}})
	t.Cleanup(s.srv.Close)
	s.arn = s.addTopic(t, "", fifo)
	// An entry fault that never fires, added first: it sees every entry.
	s.srv.Inject(&snstest.Fault{Action: "PublishBatch", Entry: func(m snstest.Message) bool {
		s.mu.Lock()
		s.attempts[m.Attributes["event_id"].StringValue]++
		s.mu.Unlock()
		return false
	}})
	return s
}

// addTopic creates another topic on the double, named after the test and
// suffix (FIFO when fifo is true), and returns its ARN.
func (s *sink) addTopic(t *testing.T, suffix string, fifo bool) string {
	t.Helper()
	name := testenv.Name(t, "", 200) + suffix
	attrs := map[string]string{}
	if fifo {
		name += ".fifo"
		attrs["FifoTopic"] = "true"
	}
	arn, err := s.srv.CreateTopic(name, attrs)
	if err != nil {
		t.Fatal(err)
	}
	return arn
}

func (s *sink) acceptedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.first)
}

// acceptedSince counts the messages the topics accepted at or after since.
func (s *sink) acceptedSince(since time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := len(s.times) - 1; i >= 0 && !s.times[i].Before(since); i-- {
		n++
	}
	return n
}

func (s *sink) isAccepted(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.first[id]
	return ok
}

// firstAccepted returns the first acceptance of id, if any.
func (s *sink) firstAccepted(id string) (acceptance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.first[id]
	return a, ok
}

func (s *sink) attemptsOf() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.attempts))
	for k, v := range s.attempts {
		out[k] = v
	}
	return out
}

// orderBreaks lists the order breaks subscribers saw: the produced events
// first accepted before an earlier event (by offset) of their ordering
// scope, the organization (the record key) and the topic. That is what the
// bridge counts in bridge_order_breaks_total: a later event of a run that
// SNS accepted while an earlier one of the run failed and was retried.
// Repeats of an accepted event are ignored (a FIFO topic drops them
// anyway), and so are events never accepted (missing lists those).
func (s *sink) orderBreaks(produced []position) []string {
	type scope struct{ key, topic string }
	type event struct {
		position
		acceptance
	}
	byScope := map[scope][]event{}
	s.mu.Lock()
	for _, p := range produced {
		if a, ok := s.first[p.eventID]; ok {
			byScope[scope{p.key, a.topic}] = append(byScope[scope{p.key, a.topic}], event{p, a})
		}
	}
	s.mu.Unlock()
	var breaks []string
	for sc, evs := range byScope {
		// One key's events are on one partition: offset order is produce order.
		slices.SortFunc(evs, func(a, b event) int { return cmp.Compare(a.offset, b.offset) })
		latest := -1 // the latest acceptance of an earlier event
		for i, e := range evs {
			if e.seq < latest {
				breaks = append(breaks, fmt.Sprintf("organization %s, topic %s: event #%d (%s, offset %d/%d) accepted before an earlier one", sc.key, sc.topic, i, e.eventID, e.partition, e.offset))
			}
			latest = max(latest, e.seq)
		}
	}
	slices.Sort(breaks)
	return breaks
}

// checkOrder checks that, in the order the topics accepted them, each
// organization's events for a topic came in the order they were produced
// but for exactly counted order breaks (bridge_order_breaks_total; 0 where
// nothing failed inside a run).
func (s *sink) checkOrder(t *testing.T, produced []position, counted int) {
	t.Helper()
	breaks := s.orderBreaks(produced)
	if len(breaks) == counted {
		return
	}
	for _, b := range breaks[:min(5, len(breaks))] {
		t.Error(b)
	}
	t.Errorf("%d events accepted before an earlier event of their organization and topic; the bridge counted %d order breaks", len(breaks), counted)
}

// missing returns the produced events the topic never accepted.
func (s *sink) missing(produced []position) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range produced {
		if _, ok := s.first[p.eventID]; !ok {
			out = append(out, p.eventID)
		}
	}
	return out
}

// produceMany produces n ticket events spread over organizations as m
// says, in chunks, and returns where each went.
func produceMany(t *testing.T, topic string, seed int64, m orgMix, n int) []position {
	t.Helper()
	g := newMixedEvents(t, seed, m, eventgen.Options{})
	cl := testenv.KafkaClient(t, kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(20000))
	ids := registryIDs(t)
	out := make([]position, 0, n)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const chunk = 5000
	for start := 0; start < n; start += chunk {
		recs := make([]*kgo.Record, 0, chunk)
		var evIDs []string
		for i := start; i < min(n, start+chunk); i++ {
			r := g.ticket(600)
			recs = append(recs, &kgo.Record{Topic: topic, Key: r.Key, Value: reframeWith(ids, r.Value)})
			evIDs = append(evIDs, r.Natural["eventId"].(string))
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("producing: %v", err)
		}
		for i, r := range recs {
			out = append(out, position{r.Partition, r.Offset, evIDs[i], string(r.Key)})
		}
	}
	return out
}

// doubleConfig is baseConfig publishing to the double: routes (pattern,
// topic ARN) first, then everything else to s.arn.
func doubleConfig(t *testing.T, topic string, s *sink, routes ...[2]string) bridgeproc.Config {
	cfg := baseConfig(t, topic, s.srv.URL, append(routes, [2]string{"*", s.arn})...)
	cfg.Set("sns.backoff_max", "1s")
	cfg.Set("sns.breaker_open_timeout", "1s")
	return cfg
}

func describe(ids []string) string {
	return fmt.Sprintf("%d, e.g. %v", len(ids), ids[:min(5, len(ids))])
}
