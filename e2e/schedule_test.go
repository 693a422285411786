//go:build integration

package e2e

// Producing prepared events at set rates, each stamped with the time it is
// handed to Kafka, for the proofs that measure latency or a rate over time.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// prepared is a generated event whose event time is set when it is sent.
type prepared struct {
	tpl eventgen.Template
	// id is its event id, "" for a custom object event without one: the
	// bridge makes its id from its Kafka position.
	id string
}

// prepare makes n events with next.
func prepare(t *testing.T, n int, next func() eventgen.Record) []prepared {
	t.Helper()
	out := make([]prepared, n)
	for i := range out {
		r := next()
		tpl, err := eventgen.NewTemplate(r)
		if err != nil {
			t.Fatalf("%s: %v", r.EventType, err)
		}
		id, _ := r.Natural["eventId"].(string)
		out[i] = prepared{tpl, id}
	}
	return out
}

// scheduled is a stream of prepared events, how many of them are due at a
// time since the start, and the topics each goes to.
type scheduled struct {
	events []prepared
	due    func(elapsed time.Duration) int
	topics []string
}

// rateProducer produces prepared events on a schedule, and remembers when
// it handed each to the Kafka client (stamped with that time as its event
// time) and where each went.
type rateProducer struct {
	halter
	mu       sync.Mutex
	produced map[string][]position // by topic
	sentAt   map[string]time.Time  // by event id
	err      error
}

// produceAtRates produces the events of each stream as they fall due, from
// start for length (or until halted); done is closed once every record is
// acknowledged.
func produceAtRates(t *testing.T, start time.Time, length time.Duration, streams ...scheduled) *rateProducer {
	t.Helper()
	cl := testenv.KafkaClient(t, kgo.ProducerLinger(0))
	ids := registryIDs(t)
	rp := &rateProducer{halter: newHalter(), produced: map[string][]position{}, sentAt: map[string]time.Time{}}
	var acked sync.WaitGroup
	send := func(e prepared, topics []string) {
		now := time.Now()
		value := reframeWith(ids, e.tpl.At(now.UnixMilli()))
		for _, topic := range topics {
			acked.Add(1)
			cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: e.tpl.Key(), Value: value}, func(rec *kgo.Record, err error) {
				defer acked.Done()
				rp.mu.Lock()
				defer rp.mu.Unlock()
				if err != nil {
					rp.err = err
					return
				}
				id := e.id
				if id == "" {
					id = mapping.GeneratedEventID(mapping.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset})
				}
				rp.sentAt[id] = now
				rp.produced[topic] = append(rp.produced[topic], position{rec.Partition, rec.Offset, id, string(rec.Key)})
			})
		}
	}
	go func() {
		defer close(rp.done)
		defer acked.Wait()
		select {
		case <-rp.stop:
			return
		case <-time.After(time.Until(start)):
		}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		sent := make([]int, len(streams))
		for {
			elapsed := min(time.Since(start), length)
			for i, st := range streams {
				for n := min(st.due(elapsed), len(st.events)); sent[i] < n; sent[i]++ {
					send(st.events[sent[i]], st.topics)
				}
			}
			if elapsed >= length {
				return
			}
			select {
			case <-rp.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(rp.halt)
	return rp
}

// result returns when each event was handed to Kafka, and the first produce
// error; call it once done is closed.
func (rp *rateProducer) result() (map[string]time.Time, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.sentAt, rp.err
}

// positions returns what was produced to topic.
func (rp *rateProducer) positions(topic string) []position {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.produced[topic]
}
