package main

import (
	"sort"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/benchsink"
)

// Topic names the sink serves: the bridge's two standard routes, with
// ".fifo" for -fifo contenders.
const (
	sinkTopicEvents = "thena-events"
	sinkTopicCustom = "thena-custom-object-events"
)

// sink is the SNS endpoint of one run and its two topics.
type sink struct {
	*benchsink.Server
	arnEvents, arnCustom string
}

// newSink starts the sink contender c publishes to: its latency, quota and
// topics follow c's variants.
func (h *harness) newSink(c contender) (*sink, error) {
	o := h.opts
	opts := benchsink.Options{Double: o.sinkKind == sinkDouble}
	if c.slow {
		opts.Latency = o.sinkLatency
	}
	if c.push == vQuota {
		opts.Quota = benchsink.Quota{PerSecond: o.quota, Burst: o.quotaBurst}
	}
	srv, err := benchsink.New(opts)
	if err != nil {
		return nil, err
	}
	suffix := ""
	if c.order == vFIFO {
		suffix = ".fifo"
	}
	s := &sink{Server: srv}
	if s.arnEvents, err = srv.CreateTopic(sinkTopicEvents + suffix); err != nil {
		srv.Close()
		return nil, err
	}
	if s.arnCustom, err = srv.CreateTopic(sinkTopicCustom + suffix); err != nil {
		srv.Close()
		return nil, err
	}
	return s, nil
}

// distinct is how many different events the sink accepted.
func (s *sink) distinct() int64 {
	st := s.Stats()
	return st.Accepted - st.Duplicates
}

// percentiles returns the quantiles qs of the latencies recorded for
// events stamped at or after since, and how many there are.
func (s *sink) percentiles(since time.Time, qs ...float64) ([]time.Duration, int) {
	l, _ := s.Latencies(since)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	out := make([]time.Duration, len(qs))
	if len(l) == 0 {
		return out, 0
	}
	for i, q := range qs {
		k := int(q*float64(len(l)) + 0.5)
		if k >= len(l) {
			k = len(l) - 1
		}
		out[i] = l[k]
	}
	return out, len(l)
}
