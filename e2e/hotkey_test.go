//go:build integration

package e2e

import (
	"cmp"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// TestHotOrganizationDoesNotSlowItsNeighbours: 1,000 organizations produce
// 180 events/s in all for 44 s (the first 4 a warm-up), the same events at
// the same moments to two 3-partition topics, each with a bridge of the same
// configuration and an SNS double of its own that answers after 15 ms; on
// the second topic a hot organization adds 120 events/s (40 % of its events;
// a fifth of its limit of 10 events per SNS round trip, which leaves room
// for the longer round trips of a loaded machine), on the same partitions.
// The others' p99 end-to-end latency (produced to accepted by SNS) with the
// hot organization stays within 2x of theirs without it. The two runs share
// the machine at the same time, so that its load weighs on both alike (on a
// loaded 2-core machine, stalls of a few hundred milliseconds decide a p99
// measured in turns). /debug/keys, read near the end, lists the hot
// organization first by rate, with about its share of what was produced.
// Every event arrives, each organization's in order.
func TestHotOrganizationDoesNotSlowItsNeighbours(t *testing.T) {
	const (
		othersRate = 180.0 // events/s of the 1,000 organizations together
		hotRate    = 120.0 // events/s of the hot organization
		warmUp     = 4 * time.Second
		measured   = 40 * time.Second
		// snsRoundTrip is how long SNS takes to answer; the hot
		// organization's limit is 10 events per round trip.
		snsRoundTrip = 15 * time.Millisecond
	)
	type run struct {
		name       string
		topic, dlq string
		s          *sink
		b          *testenv.Bridge
		produced   []position
	}
	var runs [2]*run
	for i, name := range []string{"without", "with"} {
		topic, dlq := sourceTopic(t, 3)
		r := &run{name: name, topic: topic, dlq: dlq, s: newSink(t, true)}
		// SNS answers after an in-region round trip: the hot organization
		// then sends runs of a few events.
		r.s.srv.Inject(&snstest.Fault{Action: "PublishBatch", Latency: snsRoundTrip})
		r.b = testenv.StartBridge(t, "bridge-"+name, doubleConfig(t, topic, r.s))
		runs[i] = r
	}
	without, with := runs[0], runs[1]

	mix := orgMix{orgs: 1000, hot: hotRate / (othersRate + hotRate)}
	g := newMixedEvents(t, 21, mix, eventgen.Options{})
	total := warmUp + measured
	// Made before the clock starts: encoding them on time would weigh on
	// the latencies measured.
	others := prepare(t, int(othersRate*total.Seconds())+1, func() eventgen.Record { return g.rest.TicketUpdated(600) })
	hot := prepare(t, int(hotRate*total.Seconds())+1, func() eventgen.Record { return g.hot.TicketUpdated(600) })

	start := time.Now().Add(100 * time.Millisecond)
	rate := func(perSecond float64) func(time.Duration) int {
		return func(elapsed time.Duration) int { return int(perSecond * elapsed.Seconds()) }
	}
	prod := produceAtRates(t, start, total,
		scheduled{others, rate(othersRate), []string{without.topic, with.topic}},
		scheduled{hot, rate(hotRate), []string{with.topic}})

	// /debug/keys near the end: its rates are over the last ~10 s.
	time.Sleep(time.Until(start.Add(total - 500*time.Millisecond)))
	keys, err := hotKeys(with.b, 10)
	if err != nil {
		t.Fatalf("reading /debug/keys: %v", err)
	}
	<-prod.done
	sentAt, err := prod.result()
	if err != nil {
		t.Fatalf("producing: %v", err)
	}
	for _, r := range runs {
		r.produced = prod.positions(r.topic)
		if !waitFor(2*time.Minute, func() bool { return len(r.s.missing(r.produced)) == 0 }) {
			t.Fatalf("run %s the hot organization: events never accepted: %s", r.name, describe(r.s.missing(r.produced)))
		}
		r.s.checkOrder(t, r.produced, 0)
	}

	// The others' latencies after the warm-up. The p99 of all of them is
	// what is asserted: a hot organization that held back its partition
	// would delay a third of them, far more than 1 %. Its neighbours on its
	// partition alone are fewer, so a stall of one process weighs more on
	// their p99; it is logged.
	hotPartition := int32(-1)
	for _, p := range with.produced {
		if p.key == g.hotKey {
			hotPartition = p.partition
			break
		}
	}
	type latencies struct{ others, neighbours, hot []time.Duration }
	var lat [2]latencies
	for i, r := range runs {
		for _, p := range r.produced {
			at := sentAt[p.eventID]
			if at.Before(start.Add(warmUp)) {
				continue
			}
			a, _ := r.s.firstAccepted(p.eventID)
			d := a.at.Sub(at)
			switch {
			case p.key == g.hotKey:
				lat[i].hot = append(lat[i].hot, d)
				continue
			case p.partition == hotPartition:
				lat[i].neighbours = append(lat[i].neighbours, d)
			}
			lat[i].others = append(lat[i].others, d)
		}
	}
	without99, with99 := p99(lat[0].others), p99(lat[1].others)
	t.Logf("the 1,000 others: p99 %v (%d events) without the hot organization, %v (%d events) with it; on its partition %v and %v (%d events)",
		without99, len(lat[0].others), with99, len(lat[1].others), p99(lat[0].neighbours), p99(lat[1].neighbours), len(lat[1].neighbours))
	t.Logf("the hot organization: %d events, p99 %v", len(lat[1].hot), p99(lat[1].hot))
	if len(lat[0].others) < 1000 || len(lat[1].others) != len(lat[0].others) {
		t.Errorf("%d and %d events of the others measured; want the same, at least 1,000", len(lat[0].others), len(lat[1].others))
	} else if with99 > 2*without99 {
		t.Errorf("the others' p99 end-to-end latency is %v with the hot organization, more than twice the %v without it", with99, without99)
	}

	slices.SortStableFunc(keys, func(a, b consumer.KeyStats) int { return cmp.Compare(b.RatePerSecond, a.RatePerSecond) })
	if len(keys) == 0 {
		t.Fatal("/debug/keys listed no key")
	}
	top := keys[0]
	t.Logf("/debug/keys: first by rate %s at %.0f/s, %.0f %% of the rate, p50 %.3fs, p99 %.3fs, backlog %d, at its limit %v (%d keys listed)",
		top.KeyHash, top.RatePerSecond, 100*top.RateShare, top.LatencyP50Seconds, top.LatencyP99Seconds, top.BacklogEvents, top.AtLimit, len(keys))
	if top.Key != g.hotKey {
		t.Errorf("/debug/keys: first by rate is %s (%.0f/s), not the hot organization", top.KeyHash, top.RatePerSecond)
	}
	if math.Abs(top.RateShare-mix.hot) > 0.1 {
		t.Errorf("/debug/keys: the hot organization's rate share is %.2f; it produced %.2f of the events", top.RateShare, mix.hot)
	}

	for _, r := range runs {
		if dead := readAll(t, r.dlq); len(dead) != 0 {
			t.Errorf("run %s the hot organization: %d events dead-lettered", r.name, len(dead))
		}
		if err := r.b.Stop(30 * time.Second); err != nil {
			t.Errorf("stopping bridge %s: %v", r.b.Name, err)
		}
	}
}

// p99 is the 99th percentile of ds (nearest rank), 0 for none.
func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(math.Ceil(0.99*float64(len(s))))-1]
}
