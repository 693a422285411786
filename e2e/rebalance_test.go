//go:build integration

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// ledger is what the test produced, by partition and offset.
type ledger struct {
	mu       sync.Mutex
	byPart   map[int32][]string // offset -> event id ("" while unknown)
	produced []position
	err      error
}

func (l *ledger) add(recs []*kgo.Record, ids []string, keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range recs {
		s := l.byPart[r.Partition]
		for int64(len(s)) <= r.Offset {
			s = append(s, "")
		}
		s[r.Offset] = ids[i]
		l.byPart[r.Partition] = s
		l.produced = append(l.produced, position{r.Partition, r.Offset, ids[i], keys[i]})
	}
}

// commitWatch polls the group's committed offsets, records at once every
// commit that went backwards, and keeps what it read and when, for
// pastAccepted.
type commitWatch struct {
	halter
	mu         sync.Mutex
	violations []string
	seen       []commitSeen
	last       map[int32]int64
}

// commitSeen is one poll of the committed offsets.
type commitSeen struct {
	at      time.Time // when the poll answered: after the commits it read
	offsets map[int32]int64
}

func watchCommits(t *testing.T, group, topic string) *commitWatch {
	t.Helper()
	adm := kadm.NewClient(testenv.KafkaClient(t))
	w := &commitWatch{halter: newHalter(), last: map[int32]int64{}}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			offs, err := committed(ctx, adm, group, topic)
			cancel()
			if err != nil {
				continue
			}
			w.mu.Lock()
			w.seen = append(w.seen, commitSeen{time.Now(), offs})
			for p, c := range offs {
				if prev := w.last[p]; c < prev {
					w.violations = append(w.violations, fmt.Sprintf("partition %d: committed offset went back from %d to %d", p, prev, c))
				}
				w.last[p] = c
			}
			w.mu.Unlock()
		}
	}()
	t.Cleanup(w.halt)
	return w
}

// pastAccepted adds to the violations every commit read that covered an
// event SNS had not accepted by the time it was read. It is checked once
// everything is produced, against the time of each event's first
// acceptance: the bridge may consume, publish and commit a record before
// the ProduceSync that wrote it returns and the ledger learns its event id.
// Call it after halt.
func (w *commitWatch) pastAccepted(l *ledger, s *sink) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	checked := map[int32]int64{}
	for _, c := range w.seen {
		for p, off := range c.offsets {
			ids := l.byPart[p]
			for o := checked[p]; o < off; o++ {
				var a acceptance
				ok := o < int64(len(ids)) && ids[o] != ""
				if ok {
					a, ok = s.firstAccepted(ids[o])
				}
				if !ok || a.at.After(c.at) {
					w.violations = append(w.violations, fmt.Sprintf("partition %d: offset %d committed before event at offset %d was accepted by SNS", p, off, o))
					break
				}
			}
			checked[p] = max(checked[p], off)
		}
	}
}

// commitsOutsideOwnership reads one bridge's log (level debug) and lists
// each offset commit that covered a partition the member did not own at
// that moment: after it was revoked or lost, before it was assigned again.
func commitsOutsideOwnership(b *testenv.Bridge, topic string) (bad []string, commits int) {
	owned := map[string]bool{}
	parts := func(v any) []string {
		var out []string
		m, _ := v.(map[string]any)
		for _, p := range asSlice(m[topic]) {
			out = append(out, fmt.Sprint(p))
		}
		return out
	}
	for _, l := range b.LogLines() {
		switch l["msg"] {
		case "partitions assigned":
			for _, p := range parts(l["partitions"]) {
				owned[p] = true
			}
		case "partitions revoked", "partitions lost; dropped their state without committing":
			for _, p := range parts(l["partitions"]) {
				owned[p] = false
			}
		case "offsets committed":
			m, _ := l["offsets"].(map[string]any)
			byPart, _ := m[topic].(map[string]any)
			for p := range byPart {
				commits++
				if !owned[p] {
					bad = append(bad, fmt.Sprintf("%s committed partition %s at %v without owning it", b.Name, p, l["time"]))
				}
			}
		}
	}
	return bad, commits
}

// assignments counts the "partitions assigned" log lines naming topic.
func assignments(b *testenv.Bridge, topic string) int {
	n := 0
	for _, l := range b.LogLines() {
		if m, _ := l["partitions"].(map[string]any); l["msg"] == "partitions assigned" && len(asSlice(m[topic])) > 0 {
			n++
		}
	}
	return n
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	for i, x := range s {
		if f, ok := x.(float64); ok {
			s[i] = strconv.Itoa(int(f))
		}
	}
	return s
}

// TestRebalanceKeepsEveryEventAndItsOrder: two bridges share a 12-partition
// topic while 50,000 events are produced; a third joins, then one of the
// first two leaves with SIGTERM. The events are spread over 50
// organizations, and again with a hot organization on top (35 % of the
// events, which ride same-key runs of up to 10). Every event reaches the
// FIFO topic, each organization's in order; the group's committed offsets
// never go backwards and never pass an event SNS had not accepted; no member
// commits a partition it does not own (from each member's debug log); the
// member that left exits cleanly. (SNS side: the double, see
// double_test.go.)
func TestRebalanceKeepsEveryEventAndItsOrder(t *testing.T) {
	for _, m := range mixes(50) {
		t.Run(m.name, func(t *testing.T) { testRebalance(t, m) })
	}
}

func testRebalance(t *testing.T, mix orgMix) {
	const n = 50_000
	topic, dlq := sourceTopic(t, 12)
	s := newSink(t, true)
	cfg := doubleConfig(t, topic, s)
	cfg.Set("log.level", "debug")
	cfg.Set("kafka.max_buffered_bytes", 1<<20)
	cfg.Set("kafka.max_buffered_bytes_per_partition", 256<<10)
	group := cfg.Get("kafka.group_id").(string)

	l := &ledger{byPart: map[int32][]string{}}
	watch := watchCommits(t, group, topic)

	// The stream: 1,000 events every 400 ms, about 20 s in all.
	g := newMixedEvents(t, 5, mix, eventgen.Options{})
	ids := registryIDs(t)
	cl := testenv.KafkaClient(t, kgo.ProducerLinger(5*time.Millisecond))
	streamDone := make(chan struct{})
	stopStream := make(chan struct{})
	go func() {
		defer close(streamDone)
		for sent := 0; sent < n; sent += 1000 {
			recs := make([]*kgo.Record, 0, 1000)
			evIDs, keys := make([]string, 0, 1000), make([]string, 0, 1000)
			for range 1000 {
				r := g.ticket(600)
				recs = append(recs, &kgo.Record{Topic: topic, Key: r.Key, Value: reframeWith(ids, r.Value)})
				evIDs, keys = append(evIDs, r.Natural["eventId"].(string)), append(keys, string(r.Key))
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := cl.ProduceSync(ctx, recs...).FirstErr()
			cancel()
			if err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
				return
			}
			l.add(recs, evIDs, keys)
			select {
			case <-stopStream:
				return
			case <-time.After(400 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stopStream); <-streamDone })

	a := testenv.StartBridge(t, "a", cfg)
	bb := testenv.StartBridge(t, "b", cfg)
	if !waitFor(2*time.Minute, func() bool { return s.acceptedCount() >= n/5 }) {
		t.Fatalf("only %d events accepted by two bridges", s.acceptedCount())
	}
	c := testenv.StartBridge(t, "c", cfg)
	if !waitFor(2*time.Minute, func() bool { return s.acceptedCount() >= n/2 }) {
		t.Fatalf("only %d events accepted after the third bridge joined", s.acceptedCount())
	}
	stopped := time.Now()
	if err := a.Stop(40 * time.Second); err != nil {
		t.Errorf("bridge a on SIGTERM: %v", err)
	}
	t.Logf("bridge a stopped in %v", time.Since(stopped).Round(time.Millisecond))

	<-streamDone
	if l.err != nil {
		t.Fatalf("producing: %v", l.err)
	}
	if !waitFor(3*time.Minute, func() bool { return s.acceptedCount() >= n }) {
		t.Fatalf("events never accepted: %s", describe(s.missing(l.produced)))
	}
	if missing := s.missing(l.produced); len(missing) > 0 {
		t.Fatalf("events lost: %s", describe(missing))
	}
	// Let the last commits land and be checked.
	time.Sleep(2 * time.Second)
	watch.halt()
	watch.pastAccepted(l, s)

	// Nothing fails inside a run here: no order break may happen.
	s.checkOrder(t, l.produced, 0)
	logBusiest(t, l.produced)
	watch.mu.Lock()
	for i, v := range watch.violations {
		if i == 5 {
			t.Errorf("... %d commit violations in all", len(watch.violations))
			break
		}
		t.Error(v)
	}
	t.Logf("%d polls of the group's offsets", len(watch.seen))
	watch.mu.Unlock()

	for _, b := range []*testenv.Bridge{a, bb, c} {
		if b != a {
			if err := b.Stop(40 * time.Second); err != nil {
				t.Errorf("bridge %s on SIGTERM: %v", b.Name, err)
			}
		}
		bad, commits := commitsOutsideOwnership(b, topic)
		for i, v := range bad {
			if i == 5 {
				t.Errorf("... %d commits outside ownership by bridge %s in all", len(bad), b.Name)
				break
			}
			t.Error(v)
		}
		if commits == 0 {
			t.Errorf("bridge %s logged no offset commit: the ownership check saw nothing", b.Name)
		}
	}
	// The membership changes did move partitions: c got some when it
	// joined, and a's went to b or c when it left.
	if assignments(c, topic) == 0 || assignments(a, topic) == 0 {
		t.Errorf("partitions assigned: a %d times, c %d times; want both to have owned partitions", assignments(a, topic), assignments(c, topic))
	}
	if assignments(bb, topic)+assignments(c, topic) < 3 {
		t.Errorf("a's partitions were not reassigned when it left (assignments: b %d, c %d)", assignments(bb, topic), assignments(c, topic))
	}

	dups := 0
	for _, k := range s.attemptsOf() {
		dups += k - 1
	}
	t.Logf("%d events, %d sent more than once", n, dups)
	// A clean drain with SNS answering finishes what lies below the highest
	// record out before its final commit, so the next owner replays
	// nothing: duplicates come only from work abandoned at a drain
	// deadline, which the bridge logs.
	deadlines := 0
	for _, b := range []*testenv.Bridge{a, bb, c} {
		for _, l := range b.LogLines() {
			if l["msg"] == "drain deadline passed; abandoning in-flight work, it will be redelivered" {
				deadlines++
			}
		}
	}
	if deadlines == 0 && dups != 0 {
		t.Errorf("%d events sent twice although every drain finished before its deadline", dups)
	}
	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d events dead-lettered", len(dead))
	}
}
