//go:build integration

package e2e

import (
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// orgMix is how a proof spreads its events over organizations: evenly over
// orgs of them and, when hot is set, that share of all events to one more
// organization, the hot key of issue 10 (a platform's biggest customer, a
// bulk import). On its partition the hot organization then has most of the
// records, so its events queue up behind each other and go out as same-key
// runs.
type orgMix struct {
	name string // the subtest's
	orgs int
	hot  float64
}

// hotShare is the hot organization's share in the proofs that run with one:
// more than the 30 % issue 10 asks for.
const hotShare = 0.35

// mixes are the rows the delivery proofs (crash, rebalance, partial
// failures, outage) run as subtests: orgs organizations evenly, and the
// same with a hot organization on top.
func mixes(orgs int) []orgMix {
	return []orgMix{{name: "spread", orgs: orgs}, {name: "hot_org", orgs: orgs, hot: hotShare}}
}

// mixedEvents draws events from an orgMix. It is deterministic for a seed
// and not safe for concurrent use.
type mixedEvents struct {
	rest, hot *eventgen.Generator // hot is nil without a hot organization
	share     float64
	n, nHot   int
	// hotKey is the hot organization's id, its events' Kafka key; "" without one.
	hotKey string
}

// newMixedEvents returns the events of m for seed; opts are the
// generators' options but for Orgs.
func newMixedEvents(t *testing.T, seed int64, m orgMix, opts eventgen.Options) *mixedEvents {
	t.Helper()
	gen := func(seed int64, orgs int) *eventgen.Generator {
		o := opts
		o.Orgs = orgs
		g, err := eventgen.New(seed, o)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	e := &mixedEvents{rest: gen(seed, m.orgs), share: m.hot}
	if m.hot > 0 {
		// A seed of its own: its organization is not one of the others,
		// and its event ids are drawn apart from theirs.
		hotSeed := seed ^ 0x686f74
		e.hot = gen(hotSeed, 1)
		// A generator's organizations depend on its seed alone: a second
		// one names the hot organization without drawing from e.hot.
		e.hotKey = string(gen(hotSeed, 1).TicketUpdated(0).Key)
	}
	return e
}

// next is the generator of the next event: the hot one whenever that keeps
// the hot organization's share of the events so far at m.hot, so the share
// holds for any number of events, however few.
func (e *mixedEvents) next() *eventgen.Generator {
	e.n++
	if e.hot != nil && float64(e.nHot) < e.share*float64(e.n) {
		e.nHot++
		return e.hot
	}
	return e.rest
}

// ticket returns a ticket:updated event of about size bytes.
func (e *mixedEvents) ticket(size int) eventgen.Record { return e.next().TicketUpdated(size) }

// logBusiest logs the share of the events the busiest organization had:
// what a proof ran with.
func logBusiest(t *testing.T, produced []position) {
	t.Helper()
	count := map[string]int{}
	top := ""
	for _, p := range produced {
		count[p.key]++
		if count[p.key] > count[top] {
			top = p.key
		}
	}
	if len(produced) > 0 {
		t.Logf("%d events over %d organizations, the busiest with %.1f %%", len(produced), len(count), 100*float64(count[top])/float64(len(produced)))
	}
}
