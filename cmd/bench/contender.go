package main

import (
	"fmt"
	"slices"
	"strings"
)

// Contender kinds, in report order.
const (
	cBridge     = "bridge"
	cBase       = "base" // the bridge built at -base-rev (or -base-bin)
	cBento      = "bento"
	cRawConsume = "raw-consume"
	cRawPublish = "raw-publish"
	cPerMessage = "per-message"
	cPipeline   = "pipeline"
)

var kinds = []string{cBridge, cBase, cBento, cRawConsume, cRawPublish, cPerMessage, cPipeline}

// Variants, as name suffixes in this order: the topic and order
// (-fifo, -relaxed), an SNS that pushes back (-quota, -throttle), and a sink
// that answers after -sink-latency (-slow-sink).
const (
	vFIFO      = "fifo"
	vRelaxed   = "relaxed"
	vQuota     = "quota"
	vThrottle  = "throttle"
	slowSuffix = "-slow-sink"
)

// contender is one way of draining the backlog: a kind and its variants.
type contender struct {
	kind string
	// order is "" (strict order on standard topics), vFIFO (the bridge
	// publishing to .fifo topics) or vRelaxed (routes with ordering: relaxed).
	order string
	// push is "" (a sink that takes everything), vQuota (-quota messages/s
	// per topic) or vThrottle (a storm of -storm-share random throttling for
	// -storm-for).
	push string
	slow bool // the sink answers after -sink-latency
}

// service reports whether the contender is a long-running process the
// harness stops once the sink has every event (the bridges and Bento), as
// opposed to a worker that exits by itself.
func (c contender) service() bool { return c.kind == cBridge || c.kind == cBase || c.kind == cBento }

// bridgeLike is the current bridge or the base revision's.
func (c contender) bridgeLike() bool { return c.kind == cBridge || c.kind == cBase }

func (c contender) String() string {
	s := c.kind
	for _, v := range []string{c.order, c.push} {
		if v != "" {
			s += "-" + v
		}
	}
	if c.slow {
		s += slowSuffix
	}
	return s
}

// parseContender reads a contender name: KIND[-fifo|-relaxed][-quota|-throttle][-slow-sink].
func parseContender(name string) (contender, error) {
	var c contender
	rest := name
	if r, ok := strings.CutSuffix(rest, slowSuffix); ok {
		c.slow, rest = true, r
	}
	c.push, rest = cutVariant(rest, vQuota, vThrottle)
	c.order, rest = cutVariant(rest, vFIFO, vRelaxed)
	c.kind = rest
	switch {
	case !slices.Contains(kinds, c.kind):
		return c, fmt.Errorf("%q: unknown kind %q (one of %s)", name, c.kind, strings.Join(kinds, ", "))
	case c.kind == cRawConsume && (c.slow || c.push != "" || c.order != ""):
		return c, fmt.Errorf("%q: raw-consume publishes nothing, so it has no variants", name)
	case c.order == vFIFO && !c.bridgeLike():
		return c, fmt.Errorf("%q: only bridge and base publish to FIFO topics", name)
	case c.order == vRelaxed && c.kind != cBridge:
		return c, fmt.Errorf("%q: only the current bridge has relaxed order", name)
	case c.push != "" && (c.kind == cRawPublish || c.kind == cPerMessage):
		return c, fmt.Errorf("%q: %s does not retry, so it cannot drain a sink that throttles", name, c.kind)
	}
	return c, nil
}

// cutVariant cuts one of the variants (at most one) off the end of name.
func cutVariant(name string, variants ...string) (variant, rest string) {
	for _, v := range variants {
		if r, ok := strings.CutSuffix(name, "-"+v); ok {
			return v, r
		}
	}
	return "", name
}

// rank orders contenders in reports: by kind, then order, push and latency.
func (c contender) rank() int {
	k := slices.Index(kinds, c.kind)
	o := slices.Index([]string{"", vFIFO, vRelaxed}, c.order)
	p := slices.Index([]string{"", vQuota, vThrottle}, c.push)
	s := 0
	if c.slow {
		s = 1
	}
	return ((k*3+o)*3+p)*2 + s
}

// mustContender parses a name the harness itself recorded.
func mustContender(name string) contender {
	c, err := parseContender(name)
	if err != nil {
		panic(err)
	}
	return c
}

// with returns c with its kind replaced.
func (c contender) with(kind string) contender { c.kind = kind; return c }

// defaultContenders run unless -contenders says otherwise.
var defaultContenders = []string{"bridge", "bridge-slow-sink", "raw-consume", "raw-publish", "per-message"}

// counterparts adds, for every bridge contender, the base revision's
// (when base is set; not for relaxed order, which it lacks) and Bento's
// (when bento is set; standard topics, strict order), so that both appear
// beside the bridge in every table.
func counterparts(cs []contender, base, bento bool) []contender {
	out := slices.Clone(cs)
	has := func(c contender) bool { return slices.Contains(out, c) }
	for _, c := range cs {
		if c.kind != cBridge {
			continue
		}
		if b := c.with(cBase); base && c.order != vRelaxed && !has(b) {
			out = append(out, b)
		}
		if b := c.with(cBento); bento && c.order == "" && !has(b) {
			out = append(out, b)
		}
	}
	return out
}
