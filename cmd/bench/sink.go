package main

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// Topic names the sink serves: the bridge's two standard routes.
const (
	sinkTopicEvents = "thena-events"
	sinkTopicCustom = "thena-custom-object-events"
)

// sink is the SNS double the contenders publish to, on loopback, keeping
// only counts, the first and last acceptance time and (while latency is
// being recorded) end-to-end latencies.
type sink struct {
	srv       *snstest.Server
	arnEvents string
	arnCustom string

	accepted    atomic.Int64
	first, last atomic.Int64 // Unix nanoseconds

	// recordFrom, when not zero, makes the sink note the latency of every
	// message whose event time is at or after it (Unix milliseconds).
	recordFrom atomic.Int64
	mu         sync.Mutex
	latencies  []time.Duration
	unparsed   int64
}

func newSink(latency time.Duration) (*sink, error) {
	s := &sink{}
	s.srv = snstest.NewServer(snstest.Options{CountOnly: true, OnAccept: s.onAccept})
	var err error
	if s.arnEvents, err = s.srv.CreateTopic(sinkTopicEvents, nil); err != nil {
		return nil, err
	}
	if s.arnCustom, err = s.srv.CreateTopic(sinkTopicCustom, nil); err != nil {
		return nil, err
	}
	if latency > 0 {
		s.srv.Inject(&snstest.Fault{Action: "PublishBatch", Latency: latency})
		s.srv.Inject(&snstest.Fault{Action: "Publish", Latency: latency})
	}
	return s, nil
}

// onAccept runs for each accepted message, under the double's lock.
func (s *sink) onAccept(m *snstest.Message) {
	now := time.Now()
	s.accepted.Add(1)
	s.first.CompareAndSwap(0, now.UnixNano())
	s.last.Store(now.UnixNano())
	from := s.recordFrom.Load()
	if from == 0 {
		return
	}
	at, err := mapping.ParseEventTimestamp(m.Attributes["event_timestamp"].StringValue)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.unparsed++
		return
	}
	if at.UnixMilli() >= from {
		s.latencies = append(s.latencies, now.Sub(at))
	}
}

// requests is how many Publish and PublishBatch calls the sink answered.
func (s *sink) requests() int64 {
	return int64(s.srv.Calls("Publish") + s.srv.Calls("PublishBatch"))
}

// percentiles returns the recorded latencies' quantiles qs.
func (s *sink) percentiles(qs ...float64) []time.Duration {
	s.mu.Lock()
	l := append([]time.Duration(nil), s.latencies...)
	s.mu.Unlock()
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	out := make([]time.Duration, len(qs))
	if len(l) == 0 {
		return out
	}
	for i, q := range qs {
		k := int(q*float64(len(l)) + 0.5)
		if k >= len(l) {
			k = len(l) - 1
		}
		out[i] = l[k]
	}
	return out
}

func (s *sink) close() { s.srv.Close() }
