//go:build integration

package e2e

import (
	"context"
	"fmt"
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
	arn string

	mu       sync.Mutex
	attempts map[string]int // entries that reached per-entry judgement, by event id
	accepted map[string]bool
	times    []time.Time // when each acceptance happened, in order
}

// newSink starts the double with one topic (FIFO when fifo is true). Every
// PublishBatch entry that reaches per-entry judgement is counted by event
// id; every accepted message is remembered.
func newSink(t *testing.T, fifo bool) *sink {
	t.Helper()
	s := &sink{attempts: map[string]int{}, accepted: map[string]bool{}}
	s.srv = snstest.NewServer(snstest.Options{OnAccept: func(m *snstest.Message) {
		id := strings.Clone(m.Attributes["event_id"].StringValue)
		s.mu.Lock()
		s.accepted[id] = true
		s.times = append(s.times, time.Now())
		s.mu.Unlock()
	}})
	t.Cleanup(s.srv.Close)
	name := testenv.Name(t, "", 200)
	attrs := map[string]string{}
	if fifo {
		name += ".fifo"
		attrs["FifoTopic"] = "true"
	}
	arn, err := s.srv.CreateTopic(name, attrs)
	if err != nil {
		t.Fatal(err)
	}
	s.arn = arn
	// An entry fault that never fires, added first: it sees every entry.
	s.srv.Inject(&snstest.Fault{Action: "PublishBatch", Entry: func(m snstest.Message) bool {
		s.mu.Lock()
		s.attempts[m.Attributes["event_id"].StringValue]++
		s.mu.Unlock()
		return false
	}})
	return s
}

func (s *sink) acceptedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

// acceptedSince counts the messages the topic accepted at or after since.
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
	return s.accepted[id]
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

// checkOrder checks that, in the order the topic accepted them, each
// group's (organization's) events come in the order they were produced.
// Repeats of an event already accepted are ignored (a FIFO topic drops them
// anyway).
func (s *sink) checkOrder(t *testing.T, produced []position) {
	t.Helper()
	index := make(map[string]int, len(produced)) // event id -> position in its key's sequence
	next := map[string]int{}
	for _, p := range produced {
		index[p.eventID] = next[p.key]
		next[p.key]++
	}
	last := map[string]int{}
	seen := map[string]bool{}
	bad := 0
	for _, m := range s.srv.Messages(s.arn) {
		id := m.Attributes["event_id"].StringValue
		if seen[id] {
			continue
		}
		seen[id] = true
		key := m.GroupID
		if key == "" {
			key = m.Attributes["context_organization_id"].StringValue
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		if prev, ok := last[key]; ok && i != prev+1 || !ok && i != 0 {
			if bad < 5 {
				t.Errorf("organization %s: event #%d (%s) accepted after #%d", key, i, id, last[key])
			}
			bad++
		}
		last[key] = i
	}
	if bad > 0 {
		t.Errorf("%d events out of their organization's order", bad)
	}
}

// missing returns the produced events the topic never accepted.
func (s *sink) missing(produced []position) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range produced {
		if !s.accepted[p.eventID] {
			out = append(out, p.eventID)
		}
	}
	return out
}

// produceMany produces n ticket events spread over orgs organizations, in
// chunks, and returns where each went.
func produceMany(t *testing.T, topic string, seed int64, orgs, n int) []position {
	t.Helper()
	g, err := eventgen.New(seed, eventgen.Options{Orgs: orgs})
	if err != nil {
		t.Fatal(err)
	}
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
			r := g.TicketUpdated(600)
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

// doubleConfig is baseConfig publishing to the double.
func doubleConfig(t *testing.T, topic string, s *sink) bridgeproc.Config {
	cfg := baseConfig(t, topic, s.srv.URL, [2]string{"*", s.arn})
	cfg.Set("sns.backoff_max", "1s")
	cfg.Set("sns.breaker_open_timeout", "1s")
	return cfg
}

func describe(ids []string) string {
	return fmt.Sprintf("%d, e.g. %v", len(ids), ids[:min(5, len(ids))])
}
