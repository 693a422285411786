//go:build integration

package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// ---- helpers of the recovery proofs ----

// pacedStream produces batch events every interval, spread over the
// topic's partitions by key, until stopped, and remembers where each went
// and when it was produced.
type pacedStream struct {
	halter
	mu       sync.Mutex
	produced []position
	at       map[string]time.Time // event id -> when its produce was acknowledged
	err      error
}

func startPacedStream(t *testing.T, topic string, seed int64, batch int, interval time.Duration) *pacedStream {
	t.Helper()
	g, err := eventgen.New(seed, eventgen.Options{Orgs: 60})
	if err != nil {
		t.Fatal(err)
	}
	ids := registryIDs(t)
	cl := testenv.KafkaClient(t, kgo.ProducerLinger(2*time.Millisecond))
	ps := &pacedStream{halter: newHalter(), at: map[string]time.Time{}}
	go func() {
		defer close(ps.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ps.stop:
				return
			case <-tick.C:
			}
			recs := make([]*kgo.Record, batch)
			evIDs := make([]string, batch)
			for i := range recs {
				r := g.TicketUpdated(400)
				recs[i] = &kgo.Record{Topic: topic, Key: r.Key, Value: reframeWith(ids, r.Value)}
				evIDs[i] = r.Natural["eventId"].(string)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := cl.ProduceSync(ctx, recs...).FirstErr()
			cancel()
			now := time.Now()
			ps.mu.Lock()
			if err != nil {
				ps.err = err
			}
			for i, r := range recs {
				if err == nil {
					ps.produced = append(ps.produced, position{r.Partition, r.Offset, evIDs[i], string(r.Key)})
					ps.at[evIDs[i]] = now
				}
			}
			ps.mu.Unlock()
		}
	}()
	t.Cleanup(ps.halt)
	return ps
}

func (ps *pacedStream) snapshot() ([]position, map[string]time.Time, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return slices.Clone(ps.produced), maps.Clone(ps.at), ps.err
}

// deliveryClock records when the double saw each entry: every attempt, in
// order. Without other faults an entry the double sees is accepted.
type deliveryClock struct {
	mu   sync.Mutex
	seen []sighting
}

type sighting struct {
	id string
	at time.Time
}

func watchDeliveries(s *sink) *deliveryClock {
	c := &deliveryClock{}
	s.srv.Inject(&snstest.Fault{Action: "PublishBatch", Entry: func(m snstest.Message) bool {
		id := strings.Clone(m.Attributes["event_id"].StringValue)
		c.mu.Lock()
		c.seen = append(c.seen, sighting{id, time.Now()})
		c.mu.Unlock()
		return false
	}})
	return c
}

func (c *deliveryClock) sightings() []sighting {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// longestGaps is, per partition, the longest time in [from, to] during
// which none of its events reached SNS: the gaps between deliveries, and
// from the first event produced after from to its partition's first
// delivery. Events go out about every interval on every partition, so a
// gap well above that is a partition nobody delivered.
func longestGaps(produced []position, producedAt map[string]time.Time, seen []sighting, from, to time.Time) map[int32]time.Duration {
	part := make(map[string]int32, len(produced))
	for _, p := range produced {
		part[p.eventID] = p.partition
	}
	last := map[int32]time.Time{}
	for _, p := range produced {
		if at := producedAt[p.eventID]; !at.Before(from) && (last[p.partition].IsZero() || at.Before(last[p.partition])) {
			last[p.partition] = at // the partition has work from here on
		}
	}
	gaps := map[int32]time.Duration{}
	for _, s := range seen {
		p, ok := part[s.id]
		if !ok || s.at.Before(from) || s.at.After(to) || last[p].IsZero() {
			continue
		}
		gaps[p] = max(gaps[p], s.at.Sub(last[p]))
		last[p] = s.at
	}
	return gaps
}

// ownedPartitions reads a bridge's log for the partitions of topic it owns
// now: assigned and not since revoked or lost.
func ownedPartitions(b *testenv.Bridge, topic string) map[int32]bool {
	owned := map[int32]bool{}
	for _, l := range b.LogLines() {
		m, _ := l["partitions"].(map[string]any)
		ids, _ := m[topic].([]any)
		for _, id := range ids {
			f, _ := id.(float64)
			switch l["msg"] {
			case "partitions assigned":
				owned[int32(f)] = true
			case "partitions revoked", "partitions lost; dropped their state without committing":
				delete(owned, int32(f))
			}
		}
	}
	return owned
}

// member is cfg for one replica named instance: a deep copy, with the
// replica's kafka.instance_id, as a pod gets from its name.
func member(t *testing.T, cfg bridgeproc.Config, instance string) bridgeproc.Config {
	t.Helper()
	var clone func(m map[string]any) map[string]any
	clone = func(m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				v = clone(sub)
			}
			out[k] = v
		}
		return out
	}
	return bridgeproc.Config(clone(cfg)).Set("kafka.instance_id", instance)
}

// fmtGaps renders gaps by partition, for the test log.
func fmtGaps(gaps map[int32]time.Duration) string {
	ps := slices.Sorted(maps.Keys(gaps))
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, " %d:%v", p, gaps[p].Round(10*time.Millisecond))
	}
	return strings.TrimSpace(b.String())
}

// settle stops the stream, waits until every produced event was accepted,
// and checks that none was lost and each organization's order held. It
// returns what was produced.
func settle(t *testing.T, ps *pacedStream, s *sink) ([]position, map[string]time.Time) {
	t.Helper()
	ps.halt()
	produced, at, err := ps.snapshot()
	if err != nil {
		t.Fatalf("producing: %v", err)
	}
	if !waitFor(2*time.Minute, func() bool { return len(s.missing(produced)) == 0 }) {
		t.Fatalf("events never delivered: %s", describe(s.missing(produced)))
	}
	s.checkOrder(t, produced, 0)
	return produced, at
}

// duplicates counts the events the double saw more than once.
func duplicates(s *sink) int {
	n := 0
	for _, k := range s.attemptsOf() {
		n += k - 1
	}
	return n
}

// ---- the proofs ----

// TestCrashRestartResumesWithinTenSeconds: two replicas, each a static
// member under its own instance id (the pod name), share a 6-partition
// topic under a steady stream. One is killed with SIGKILL and started again
// at once under the same id, with the default 45 s session timeout. Within
// 10 s of the kill its partitions deliver events produced after the kill
// again: the restarted member rejoins under its id and gets its old
// assignment back, with no rebalance, so the other replica's partitions
// never pause for more than 5 s. Nothing is lost and each organization's
// order holds. (SNS side: the double.)
func TestCrashRestartResumesWithinTenSeconds(t *testing.T) {
	const (
		resumeBound = 10 * time.Second
		pauseBound  = 5 * time.Second
	)
	topic, dlq := sourceTopic(t, 6)
	s := newSink(t, true)
	clock := watchDeliveries(s)
	cfg := doubleConfig(t, topic, s)
	// The default: the restart, not a short session timeout, brings the
	// partitions back.
	cfg.Set("kafka.session_timeout", "45s")
	aCfg, bCfg := member(t, cfg, testenv.Name(t, "a", 60)), member(t, cfg, testenv.Name(t, "b", 60))

	stream := startPacedStream(t, topic, 31, 12, 50*time.Millisecond) // ~240 events/s
	a := testenv.StartBridge(t, "a", aCfg)
	b := testenv.StartBridge(t, "b", bCfg)
	if !waitFor(time.Minute, func() bool { return len(ownedPartitions(a, topic))+len(ownedPartitions(b, topic)) == 6 }) {
		t.Fatalf("partitions owned: a %v, b %v; want all 6", ownedPartitions(a, topic), ownedPartitions(b, topic))
	}
	time.Sleep(3 * time.Second) // steady flow
	aParts := ownedPartitions(a, topic)
	if len(aParts) == 0 {
		t.Fatal("a owns no partition")
	}

	a.Kill()
	killed := time.Now()
	restarted := testenv.LaunchBridge(t, "a-restarted", aCfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	committedAtKill, err := committed(ctx, kadm.NewClient(testenv.KafkaClient(t)), cfg.Get("kafka.group_id").(string), topic)
	if err != nil {
		t.Fatalf("committed offsets after the kill: %v", err)
	}
	restarted.AwaitReady(time.Minute)
	time.Sleep(10 * time.Second) // the window both bounds are measured in
	produced, at := settle(t, stream, s)

	// First delivery, per partition of a's, of an event produced after the kill.
	part := map[string]int32{}
	for _, p := range produced {
		part[p.eventID] = p.partition
	}
	resumed := map[int32]time.Duration{}
	for _, sg := range clock.sightings() {
		p, ok := part[sg.id]
		if _, seen := resumed[p]; !ok || seen || !aParts[p] || at[sg.id].Before(killed) {
			continue
		}
		resumed[p] = sg.at.Sub(killed)
	}
	t.Logf("killed a, which owned %v; first delivery of a newly produced event after the kill, per partition: %s", slices.Sorted(maps.Keys(aParts)), fmtGaps(resumed))
	for p := range aParts {
		if d, ok := resumed[p]; !ok || d > resumeBound {
			t.Errorf("partition %d (a's): first delivery %v after the kill, want at most %v", p, d, resumeBound)
		}
	}
	if got := ownedPartitions(restarted, topic); !maps.Equal(got, aParts) {
		t.Errorf("the restarted a owns %v, want a's old assignment %v back", got, aParts)
	}
	gaps := longestGaps(produced, at, clock.sightings(), killed.Add(-2*time.Second), killed.Add(20*time.Second))
	t.Logf("longest time without a delivery around the kill, per partition: %s", fmtGaps(gaps))
	for p, g := range gaps {
		if !aParts[p] && g > pauseBound {
			t.Errorf("partition %d (b's) delivered nothing for %v around a's crash, want at most %v", p, g, pauseBound)
		}
	}
	// Sent again: only records at or past what the group had committed.
	attempts := s.attemptsOf()
	again, early := map[int32]int{}, 0
	for _, p := range produced {
		if attempts[p.eventID] > 1 {
			again[p.partition] += attempts[p.eventID] - 1
			if p.offset < committedAtKill[p.partition] {
				early++
			}
		}
	}
	t.Logf("committed at the kill %v; events sent again after the crash, per partition: %v", committedAtKill, again)
	if early > 0 {
		t.Errorf("%d events below the offsets committed at the kill were sent again", early)
	}
	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d events dead-lettered", len(dead))
	}
	for _, br := range []*testenv.Bridge{restarted, b} {
		if err := br.Stop(40 * time.Second); err != nil {
			t.Errorf("bridge %s on SIGTERM: %v", br.Name, err)
		}
	}
}

// TestRollingRestartAndScaleDownKeepPartitionsOwned: three replicas, static
// members under their pod names, share a 12-partition topic under a steady
// stream. A rolling restart replaces each with a replica under a new name
// (maxSurge 1: the new one is ready before the old one gets SIGTERM), then
// one replica is scaled away. Each leaving replica finishes what lies below
// its highest record out, commits and leaves the group, so no partition
// goes without delivering for more than 5 s, no event is lost, each
// organization's order holds, and next to nothing is delivered twice.
// (SNS side: the double.)
func TestRollingRestartAndScaleDownKeepPartitionsOwned(t *testing.T) {
	const pauseBound = 5 * time.Second
	topic, dlq := sourceTopic(t, 12)
	s := newSink(t, true)
	clock := watchDeliveries(s)
	cfg := doubleConfig(t, topic, s)
	cfg.Set("kafka.session_timeout", "45s")
	pod := func(name string) bridgeproc.Config { return member(t, cfg, testenv.Name(t, name, 60)) }

	stream := startPacedStream(t, topic, 32, 24, 50*time.Millisecond) // ~480 events/s
	var running []*testenv.Bridge
	for _, n := range []string{"p1", "p2", "p3"} {
		running = append(running, testenv.StartBridge(t, n, pod(n)))
	}
	owned := func() int {
		n := 0
		for _, b := range running {
			n += len(ownedPartitions(b, topic))
		}
		return n
	}
	if !waitFor(time.Minute, func() bool { return owned() == 12 }) {
		t.Fatalf("%d of 12 partitions owned by three replicas", owned())
	}
	time.Sleep(3 * time.Second)
	from := time.Now()
	for i, n := range []string{"p1-v2", "p2-v2", "p3-v2"} {
		next := testenv.StartBridge(t, n, pod(n))
		time.Sleep(2 * time.Second) // the readiness probe's period
		stopped := time.Now()
		if err := running[i].Stop(40 * time.Second); err != nil {
			t.Errorf("bridge %s on SIGTERM: %v", running[i].Name, err)
		}
		t.Logf("%s stopped in %v", running[i].Name, time.Since(stopped).Round(time.Millisecond))
		running[i] = next
		time.Sleep(3 * time.Second)
	}
	// Scale down to two.
	if err := running[2].Stop(40 * time.Second); err != nil {
		t.Errorf("bridge %s on SIGTERM: %v", running[2].Name, err)
	}
	running = running[:2]
	time.Sleep(10 * time.Second)
	to := time.Now()
	produced, at := settle(t, stream, s)

	gaps := longestGaps(produced, at, clock.sightings(), from, to)
	t.Logf("longest time without a delivery during the rolling restart and the scale-down, per partition: %s", fmtGaps(gaps))
	if len(gaps) != 12 {
		t.Errorf("deliveries seen on %d of 12 partitions", len(gaps))
	}
	for p, g := range gaps {
		if g > pauseBound {
			t.Errorf("partition %d delivered nothing for %v, want at most %v", p, g, pauseBound)
		}
	}
	dups := duplicates(s)
	t.Logf("%d events produced, %d sent more than once", len(produced), dups)
	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d events dead-lettered", len(dead))
	}
	for _, b := range running {
		if err := b.Stop(40 * time.Second); err != nil {
			t.Errorf("bridge %s on SIGTERM: %v", b.Name, err)
		}
	}
}
