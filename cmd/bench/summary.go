package main

import (
	"cmp"
	"fmt"
	"slices"
)

// summary is one contender's statistics over its repetitions on one
// backlog shape.
type summary struct {
	name                             string
	c                                contender
	shape                            shape
	double                           bool // measured against the count-only double
	rate, cpu, rss, reqs, sink, busy stat
	throttled                        stat // share of the entries
	duplicates                       int64
	orderBreaks                      stat
	refused                          map[string]int64
	quota                            float64
	// storm: the rate before and during it, and the recovery times (a
	// negative one, the backlog running out first, counts as not back).
	before, during, recovery stat
	notRecovered             int
	n                        int
}

// shapes returns the backlog shapes of r's runs in the order they first
// appear, the invocation's own first.
func (r *report) shapes() []shape {
	var out []shape
	seen := map[string]bool{}
	main := r.opts.shape().key()
	for _, x := range r.runs {
		if k := x.Shape.key(); !seen[k] {
			seen[k] = true
			out = append(out, x.Shape)
		}
	}
	slices.SortStableFunc(out, func(a, b shape) int {
		switch {
		case a.key() == main && b.key() != main:
			return -1
		case b.key() == main && a.key() != main:
			return 1
		}
		return 0
	})
	return out
}

// mainShape is the shape the classic targets and the bar plot are about:
// the invocation's own when it ran, else the first.
func (r *report) mainShape() (shape, bool) {
	sh := r.shapes()
	if len(sh) == 0 {
		return shape{}, false
	}
	return sh[0], true
}

// summaries is every (shape, contender) pair's summary, in report order:
// by shape (as shapes orders them), then contender rank.
func (r *report) summaries() []summary {
	type key struct {
		shape, contender string
		double           bool
	}
	by := map[key][]runResult{}
	for _, x := range r.runs {
		k := key{x.Shape.key(), x.Contender, x.Sink == sinkDouble}
		by[k] = append(by[k], x)
	}
	var out []summary
	for _, sh := range r.shapes() {
		var keys []key
		for k := range by {
			if k.shape == sh.key() {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b key) int {
			return cmp.Or(cmp.Compare(mustContender(a.contender).rank(), mustContender(b.contender).rank()), cmp.Compare(btoi(a.double), btoi(b.double)))
		})
		for _, k := range keys {
			s := summarize(k.contender, sh, by[k])
			s.double = k.double
			out = append(out, s)
		}
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func summarize(name string, sh shape, xs []runResult) summary {
	var rate, cpu, rss, reqs, sink, busy, thr, breaks, before, during, recovery []float64
	s := summary{name: name, c: mustContender(name), shape: sh, n: len(xs), refused: map[string]int64{}}
	for _, x := range xs {
		sink = append(sink, x.SinkCPUSeconds/float64(x.Events)*1e6)
		busy = append(busy, x.MachineBusy*100)
		rate = append(rate, x.rate())
		cpu = append(cpu, x.cpuPerEvent()*1e6)
		rss = append(rss, float64(x.MaxRSS)/(1<<20))
		reqs = append(reqs, x.requestsPerEvent())
		thr = append(thr, 100*x.throttledShare())
		breaks = append(breaks, x.OrderBreaks)
		s.duplicates += x.Duplicates
		s.quota = max(s.quota, x.Quota)
		for k, v := range x.Refused {
			s.refused[k] += v
		}
		if st := x.Storm; st != nil {
			before = append(before, st.Before)
			during = append(during, st.During)
			if st.Recovery < 0 {
				s.notRecovered++
			} else {
				recovery = append(recovery, st.Recovery)
			}
		}
	}
	s.rate, s.cpu, s.rss, s.reqs, s.sink, s.busy = stats(rate), stats(cpu), stats(rss), stats(reqs), stats(sink), stats(busy)
	s.throttled, s.orderBreaks = stats(thr), stats(breaks)
	s.before, s.during, s.recovery = stats(before), stats(during), stats(recovery)
	return s
}

// find returns the summary of contender name, measured with the lean
// sink, on the first shape that match reports true for, if any ran.
func find(ss []summary, name string, match func(shape) bool) (summary, bool) {
	for _, s := range ss {
		if s.name == name && !s.double && match(s.shape) {
			return s, true
		}
	}
	return summary{}, false
}

// uniform matches the uniform shape over orgs organizations.
func uniform(orgs int) func(shape) bool {
	return func(s shape) bool { return s.Zipf == 0 && s.Orgs == orgs }
}

// uniformLike finds the uniform counterpart of sh: the same organizations
// and, when that ran, the same number of events.
func uniformLike(ss []summary, name string, sh shape) (summary, bool) {
	if x, ok := find(ss, name, func(s shape) bool { return uniform(sh.Orgs)(s) && s.Events == sh.Events }); ok {
		return x, true
	}
	return find(ss, name, uniform(sh.Orgs))
}

// zipfShape matches any Zipf shape.
func zipfShape(s shape) bool { return s.Zipf > 0 }

// sameShape matches sh.
func sameShape(sh shape) func(shape) bool {
	return func(s shape) bool { return s.key() == sh.key() }
}

// anyShape matches every shape.
func anyShape(shape) bool { return true }

// rowName is x's row label: its contender's name, and the sink when it was
// the count-only double.
func (r *report) rowName(x summary) string {
	if x.double {
		return r.contenderName(x.c) + ", **count-only SNS double** as the sink"
	}
	return r.contenderName(x.c)
}

// contenderName is c's row label in the report.
func (r *report) contenderName(c contender) string {
	var name string
	switch c.kind {
	case cBridge:
		name = "**bridge** (`bridge run`)"
	case cBase:
		name = "base revision"
		if r.baseLabel != "" {
			name = fmt.Sprintf("base revision %s", r.baseLabel)
		}
		name += " (`bridge run`)"
	case cBento:
		name = "Bento (kafka_franz, schema_registry_decode, Bloblang, aws_sns)"
	case cRawConsume:
		return "raw consume (franz-go group, commits, nothing else)"
	case cRawPublish:
		name = "raw publish (PublishBatch of ready-made messages)"
	case cPerMessage:
		name = "one `Publish` per message (Watermill/Bento style)"
	case cPipeline:
		name = "bridge packages in process (diagnostic)"
		if r.opts.fetchMaxWait > 0 {
			name = fmt.Sprintf("bridge packages in process, franz-go FetchMaxWait %s (diagnostic)", r.opts.fetchMaxWait)
		}
	}
	switch c.order {
	case vFIFO:
		name += ", FIFO topics"
	case vRelaxed:
		name += ", `ordering: relaxed`"
	}
	switch c.push {
	case vQuota:
		name += fmt.Sprintf(", sink quota %g messages/s per topic", r.opts.quota)
	case vThrottle:
		name += fmt.Sprintf(", %.0f %% throttled for %s", 100*r.opts.stormShare, r.opts.stormFor)
	}
	if c.slow {
		name += fmt.Sprintf(", sink adds %s per call", r.opts.sinkLatency)
	} else if c.service() {
		name += ", sink answers at once"
	}
	return name
}
