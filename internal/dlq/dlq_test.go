package dlq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testDLQ = "events.dlq"

var failedBase = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

// letter describes one dead letter a test writes.
type letter struct {
	partition int32 // dead-letter partition
	reason    string
	eventType string
	org       string
	srcPart   int32
	srcOffset int64
	minute    int // failed at failedBase + minute
}

// deadLetterRecord is the dead letter the consumer writes for the record of
// l: built by deadletter.Build from a source record of topic "events" with
// its own key, value, traceparent header and timestamp.
func deadLetterRecord(l letter) *kgo.Record {
	src := &kgo.Record{
		Topic:     "events",
		Partition: l.srcPart,
		Offset:    l.srcOffset,
		Key:       []byte(l.org),
		Value:     []byte(fmt.Sprintf("value of %s/%d@%d", l.eventType, l.srcPart, l.srcOffset)),
		Timestamp: failedBase.Add(-time.Hour),
		Headers:   []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-abc-def-01")}},
	}
	rec := deadletter.Build(deadletter.DefaultTopic, src, deadletter.Failure{
		Class: "permanent", Reason: l.reason, Message: l.reason + " (permanent): test",
		EventID: fmt.Sprintf("evt-%d-%d", l.srcPart, l.srcOffset), EventType: l.eventType, OrgID: l.org,
		Attempts: 1, FailedAt: failedBase.Add(time.Duration(l.minute) * time.Minute),
		Instance: "bridge-0", Version: "test",
	})
	rec.Partition = l.partition
	return rec
}

// newCluster starts a kfake cluster with a three-partition dead-letter topic
// holding letters, and returns a Reader on it.
func newCluster(t *testing.T, letters []letter) (*kfake.Cluster, *Reader) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, testDLQ, "events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	produce(t, c, letters)
	r, err := NewReader(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	r.IdleTimeout = 10 * time.Second
	t.Cleanup(r.Close)
	return c, r
}

func produce(t *testing.T, c *kfake.Cluster, letters []letter) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, l := range letters {
		recs = append(recs, deadLetterRecord(l))
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// mixed is a dead-letter topic as an incident leaves it.
func mixed() []letter {
	var ls []letter
	reasons := []string{"unknown_schema", "unroutable", "undecodable", "unknown_schema", "too_large"}
	types := []string{"ticket:created", "billing:invoice:paid", "", "ticket:comment:added", "ticket:tag:updated"}
	for i := range 30 {
		ls = append(ls, letter{
			partition: int32(i % 3),
			reason:    reasons[i%len(reasons)],
			eventType: types[i%len(types)],
			org:       fmt.Sprintf("org-%d", i%4),
			srcPart:   int32(i % 6),
			srcOffset: int64(100 + i),
			minute:    i,
		})
	}
	return ls
}

func readAll(t *testing.T, r *Reader, f Filter) []deadletter.DeadLetter {
	t.Helper()
	ctx := context.Background()
	b, err := r.Bounds(ctx, testDLQ)
	if err != nil {
		t.Fatal(err)
	}
	var got []deadletter.DeadLetter
	if err := r.Read(ctx, b, func(d deadletter.DeadLetter) error {
		if f.Match(d) {
			got = append(got, d)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestFilter(t *testing.T) {
	d := deadletter.Parse(deadLetterRecord(letter{reason: "unroutable", eventType: "ticket:comment:added", org: "org-7", srcPart: 2, minute: 30}))
	at := failedBase.Add(30 * time.Minute)
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"zero selects all", Filter{}, true},
		{"reason", Filter{Reasons: []string{"unroutable"}}, true},
		{"one of reasons", Filter{Reasons: []string{"too_large", "unroutable"}}, true},
		{"other reason", Filter{Reasons: []string{"too_large"}}, false},
		{"glob", Filter{EventType: "ticket:*"}, true},
		{"glob middle", Filter{EventType: "*:comment:*"}, true},
		{"glob miss", Filter{EventType: "account:*"}, false},
		{"exact type", Filter{EventType: "ticket:comment:added"}, true},
		{"org", Filter{OrgID: "org-7"}, true},
		{"other org", Filter{OrgID: "org-8"}, false},
		{"source partition", Filter{SourcePartition: 2, HasSourcePartition: true}, true},
		{"source partition 0 is not any", Filter{SourcePartition: 0, HasSourcePartition: true}, false},
		{"since inclusive", Filter{Since: at}, true},
		{"since after", Filter{Since: at.Add(time.Millisecond)}, false},
		{"until exclusive", Filter{Until: at}, false},
		{"until after", Filter{Until: at.Add(time.Second)}, true},
		{"all together", Filter{Reasons: []string{"unroutable"}, EventType: "ticket:*", OrgID: "org-7", Since: at.Add(-time.Hour), Until: at.Add(time.Hour)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Match(d); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
	noTime := deadletter.Parse(&kgo.Record{Headers: []kgo.RecordHeader{{Key: deadletter.HeaderErrorReason, Value: []byte("unroutable")}}})
	if (Filter{Since: at}).Match(noTime) {
		t.Error("a record without bridge.failed_at matches a time bound")
	}
	if err := (Filter{EventType: "ticket:["}).Validate(); err == nil {
		t.Error("a bad glob validates")
	}
	if err := (Filter{Since: at, Until: at}).Validate(); err == nil {
		t.Error("an empty window validates")
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2h":                        now.Add(-2 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"2026-11-27T03:00:00Z":      time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC),
		"2026-11-27T04:00:00+01:00": time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-2h", "2026-11-27"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) succeeded", bad)
		}
	}
}

func TestReaderStopsAtTheEndSeenAtStartWithoutAGroup(t *testing.T) {
	c, r := newCluster(t, mixed())
	ctx := context.Background()
	b, err := r.Bounds(ctx, testDLQ)
	if err != nil {
		t.Fatal(err)
	}
	if b.Records() != 30 || len(b) != 3 {
		t.Fatalf("bounds %v", b)
	}
	// Records written after the bounds were taken are not read.
	produce(t, c, []letter{{partition: 0, reason: "late"}, {partition: 2, reason: "late"}})
	seen := map[Partition][]int64{}
	if err := r.Read(ctx, b, func(d deadletter.DeadLetter) error {
		if d.Reason == "late" {
			t.Errorf("read a record written after start: %s", d.Position())
		}
		p := Partition{d.Record.Topic, d.Record.Partition}
		seen[p] = append(seen[p], d.Record.Offset)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for p, offs := range seen {
		if !slices.IsSorted(offs) || len(offs) != 10 {
			t.Errorf("%s: offsets %v, want 10 in order", p, offs)
		}
	}
	groups, err := kadm.NewClient(r.cl).ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 0 {
		t.Errorf("reading created consumer groups: %v", groups.Groups())
	}
	if _, err := r.Bounds(ctx, "no.such.dlq"); err == nil || !strings.Contains(err.Error(), `"no.such.dlq" does not exist`) {
		t.Errorf("Bounds of a missing topic: %v", err)
	}
}

func TestReaderGet(t *testing.T) {
	_, r := newCluster(t, mixed())
	ctx := context.Background()
	d, err := r.Get(ctx, testDLQ, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Partition 1 holds letters 1, 4, 7, ...: offset 4 is letter 13.
	if d.Record.Offset != 4 || d.SourceOffset != 113 {
		t.Errorf("got %s from source offset %d, want offset 4 from 113", d.Position(), d.SourceOffset)
	}
	if _, err := r.Get(ctx, testDLQ, 1, 10); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Get past the end: %v", err)
	}
	if _, err := r.Get(ctx, testDLQ, 7, 0); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Get of a missing partition: %v", err)
	}
}

func TestFilterOverTopic(t *testing.T) {
	_, r := newCluster(t, mixed())
	tests := []struct {
		name string
		f    Filter
		want int
	}{
		{"all", Filter{}, 30},
		{"reason", Filter{Reasons: []string{"unknown_schema"}}, 12},
		{"glob", Filter{EventType: "ticket:*"}, 18},
		{"org", Filter{OrgID: "org-1"}, 8},
		{"source partition", Filter{SourcePartition: 5, HasSourcePartition: true}, 5},
		{"window", Filter{Since: failedBase.Add(10 * time.Minute), Until: failedBase.Add(20 * time.Minute)}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(readAll(t, r, tt.f)); got != tt.want {
				t.Errorf("%d records, want %d", got, tt.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	_, r := newCluster(t, mixed())
	var s Summary
	for _, d := range readAll(t, r, Filter{}) {
		s.Add(d)
	}
	if s.Total != 30 || s.ByReason["unknown_schema"] != 12 || s.ByReason["unroutable"] != 6 || s.ByEventType["-"] != 6 {
		t.Errorf("summary %+v", s)
	}
	if !s.Oldest.Equal(failedBase) || !s.Newest.Equal(failedBase.Add(29*time.Minute)) {
		t.Errorf("window %v..%v", s.Oldest, s.Newest)
	}
	var out strings.Builder
	if err := s.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "      12  unknown_schema\n") || !strings.HasPrefix(out.String(), "30 dead letters") {
		t.Errorf("text:\n%s", out.String())
	}
}

// fakeDestination acknowledges sends from other goroutines, in an order the
// scheduler picks, and remembers what it acknowledged.
type fakeDestination struct {
	mu     sync.Mutex
	acked  []deadletter.DeadLetter
	reject func(deadletter.DeadLetter) error // nil error: acknowledged
	onAck  func(n int)                       // called after the n-th acknowledgement
	wg     sync.WaitGroup
}

func (f *fakeDestination) Send(ctx context.Context, d deadletter.DeadLetter, done func(error)) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		runtime.Gosched()
		if err := ctx.Err(); err != nil {
			done(err)
			return
		}
		var err error
		if f.reject != nil {
			err = f.reject(d)
		}
		if err != nil {
			done(err)
			return
		}
		f.mu.Lock()
		f.acked = append(f.acked, d)
		n := len(f.acked)
		f.mu.Unlock()
		if f.onAck != nil {
			f.onAck(n)
		}
		done(nil)
	}()
}

func (f *fakeDestination) Close(context.Context) error { f.wg.Wait(); return nil }

func (f *fakeDestination) positions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, d := range f.acked {
		out = append(out, d.Position())
	}
	return out
}

// checkAs fails every record of the given reasons the same permanent way it
// was dead-lettered for, as the bridge would while the cause is not fixed.
func checkAs(stillBroken ...string) Check {
	return func(_ context.Context, d deadletter.DeadLetter) error {
		if slices.Contains(stillBroken, d.Reason) {
			return failure.Permanentf(d.Reason, "still broken")
		}
		return nil
	}
}

func replayOptions(t *testing.T, dest Destination, check Check) Options {
	return Options{
		Topics:         []string{testDLQ},
		Check:          check,
		Destination:    dest,
		CheckpointPath: filepath.Join(t.TempDir(), "replay.checkpoint"),
		Target:         "to-test",
		Selection:      "all",
		MaxInFlight:    4,
	}
}

func TestReplayCompletesAndASecondRunSendsNothing(t *testing.T) {
	_, r := newCluster(t, mixed())
	dest := &fakeDestination{}
	o := replayOptions(t, dest, checkAs("undecodable"))
	res, err := Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 24 || res.Skipped != 6 || res.SkippedBy["undecodable"] != 6 || !res.Completed || res.Resumed {
		t.Fatalf("first run %+v", res)
	}
	if got := len(dest.positions()); got != 24 {
		t.Fatalf("destination got %d records", got)
	}
	cp, err := LoadCheckpoint(o.CheckpointPath)
	if err != nil || cp == nil {
		t.Fatalf("checkpoint: %v %v", cp, err)
	}
	sel := cp.Selections["all"]
	if sel == nil || !sel.Completed || sel.Next[testDLQ][0] != 10 || sel.Next[testDLQ][2] != 10 || sel.Replayed != 24 || len(sel.Unreplayed[testDLQ][2]) != 2 {
		t.Errorf("checkpoint %+v", sel)
	}
	// Partition 0 holds letters 0, 3, ..., 27; those with reason undecodable
	// (i%5 == 2: offsets 4 and 9) were skipped, the rest acknowledged.
	if got := cp.Acknowledged[testDLQ][0]; !slices.Equal(got, Offsets{{0, 3}, {5, 8}}) {
		t.Errorf("acknowledged offsets of partition 0: %v", got)
	}

	again := &fakeDestination{}
	o.Destination = again
	res, err = Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 0 || len(again.positions()) != 0 || !res.Resumed || !res.Completed {
		t.Errorf("second run %+v sent %v", res, again.positions())
	}
	if res.Skipped != 6 {
		t.Errorf("second run skipped %d, want the 6 still-undecodable records considered again", res.Skipped)
	}
}

func TestReplayInterruptedResumesWithoutDuplicates(t *testing.T) {
	_, r := newCluster(t, mixed())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &fakeDestination{onAck: func(n int) {
		if n == 7 {
			cancel() // Ctrl-C after the seventh acknowledgement
		}
	}}
	o := replayOptions(t, first, checkAs())
	res, err := Replay(ctx, r, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	if res.Completed || res.Replayed < 7 || res.Replayed >= 30 {
		t.Fatalf("interrupted run %+v", res)
	}
	if int(res.Replayed) != len(first.positions()) {
		t.Errorf("reported %d replayed, destination acknowledged %d", res.Replayed, len(first.positions()))
	}

	second := &fakeDestination{}
	o.Destination = second
	res2, err := Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Resumed || !res2.Completed {
		t.Errorf("resumed run %+v", res2)
	}
	all := append(first.positions(), second.positions()...)
	seen := map[string]int{}
	for _, p := range all {
		if seen[p]++; seen[p] == 2 {
			t.Errorf("%s replayed twice", p)
		}
	}
	if len(seen) != 30 {
		t.Errorf("%d distinct records replayed over both runs, want 30", len(seen))
	}
}

func TestReplayForceAndFixedCause(t *testing.T) {
	_, r := newCluster(t, mixed())
	dest := &fakeDestination{}
	o := replayOptions(t, dest, checkAs("unknown_schema", "unroutable"))
	o.Filter = Filter{Reasons: []string{"unknown_schema", "unroutable"}}
	res, err := Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 0 || res.Skipped != 18 {
		t.Fatalf("still broken: %+v", res)
	}

	// The unknown schema is registered: the same replay now sends those.
	o.Check = checkAs("unroutable")
	res, err = Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 12 || res.Skipped != 6 || len(dest.positions()) != 12 {
		t.Fatalf("after the fix: %+v", res)
	}

	// -force sends the rest to the source topic even though they still fail.
	o.Force = true
	res, err = Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 6 || res.Skipped != 0 || len(dest.positions()) != 18 {
		t.Fatalf("forced: %+v", res)
	}
	// ... and then nothing is left.
	res, err = Replay(context.Background(), r, o)
	if err != nil || res.Replayed != 0 || res.Skipped != 0 {
		t.Fatalf("after force: %+v, %v", res, err)
	}
}

func TestReplaySkipsWhatCannotBeTranslatedForTranslatedDestinations(t *testing.T) {
	_, r := newCluster(t, mixed())
	dest := &fakeDestination{}
	o := replayOptions(t, dest, func(_ context.Context, d deadletter.DeadLetter) error {
		if d.Reason == "unroutable" {
			return failure.Permanentf("unknown_schema", "now another reason")
		}
		return nil
	})
	o.Filter = Filter{Reasons: []string{"unroutable"}}
	o.Force = true
	o.Translated = true
	res, err := Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 0 || res.SkippedBy["unknown_schema"] != 6 {
		t.Errorf("%+v", res)
	}

	// For the source topic, a record that now fails another way is sent: the
	// bridge dead-letters it again with the new reason.
	o.Translated, o.Force, o.Restart = false, false, true
	res, err = Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 6 {
		t.Errorf("to source: %+v", res)
	}
}

func TestReplayDryRunChangesNothing(t *testing.T) {
	_, r := newCluster(t, mixed())
	var report strings.Builder
	o := replayOptions(t, nil, checkAs("undecodable"))
	o.DryRun = true
	o.Report = &report
	res, err := Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 24 || res.Skipped != 6 {
		t.Errorf("%+v", res)
	}
	if _, err := os.Stat(o.CheckpointPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run wrote the checkpoint: %v", err)
	}
	if _, err := os.Stat(o.CheckpointPath + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run created a lock file: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(report.String()), "\n")
	if len(lines) != 30 || strings.Count(report.String(), "would replay") != 24 || strings.Count(report.String(), "would skip") != 6 {
		t.Errorf("report:\n%s", report.String())
	}
	if !strings.Contains(report.String(), "still undecodable: still broken") {
		t.Errorf("a skip line does not say why:\n%s", report.String())
	}
}

func TestReplayLimitContinuesNextRun(t *testing.T) {
	_, r := newCluster(t, mixed())
	dest := &fakeDestination{}
	o := replayOptions(t, dest, checkAs())
	o.Limit = 8
	var total int64
	for run := 0; run < 5; run++ {
		res, err := Replay(context.Background(), r, o)
		if err != nil {
			t.Fatal(err)
		}
		total += res.Replayed
		if res.Replayed > 8 {
			t.Fatalf("run %d replayed %d over the limit", run, res.Replayed)
		}
	}
	if total != 30 || len(dest.positions()) != 30 {
		t.Errorf("replayed %d over the runs", total)
	}
}

func TestReplayDestinationFailures(t *testing.T) {
	_, r := newCluster(t, mixed())
	// A permanent rejection is counted and the replay goes on.
	dest := &fakeDestination{reject: func(d deadletter.DeadLetter) error {
		if d.OrgID == "org-3" {
			return failure.Permanentf("sns_rejected", "InvalidParameter")
		}
		return nil
	}}
	var report strings.Builder
	o := replayOptions(t, dest, checkAs())
	o.Report = &report
	res, err := Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 7 || res.Replayed != 23 || !res.Completed {
		t.Errorf("%+v", res)
	}
	if strings.Count(report.String(), "failed ") != 7 {
		t.Errorf("report:\n%s", report.String())
	}

	// Any other error stops the replay; the next run sends the record again.
	_, r = newCluster(t, mixed())
	var broken sync.Once
	stopping := &fakeDestination{reject: func(d deadletter.DeadLetter) error {
		var err error
		if d.Record.Partition == 1 && d.Record.Offset == 3 {
			broken.Do(func() { err = errors.New("cluster authorization failed") })
		}
		return err
	}}
	o = replayOptions(t, stopping, checkAs())
	if _, err := Replay(context.Background(), r, o); err == nil || !strings.Contains(err.Error(), "cluster authorization failed") {
		t.Fatalf("replay went on after a non-permanent error: %v", err)
	}
	cp, err := LoadCheckpoint(o.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if sel := cp.Selections["all"]; sel.Next[testDLQ][1] > 3 && !slices.Contains(sel.Unreplayed[testDLQ][1], 3) {
		t.Errorf("checkpoint of partition 1 is %d and does not list offset 3, the record that was not sent: %+v", sel.Next[testDLQ][1], sel)
	}
	res, err = Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(stopping.positions(), testDLQ+"/1@3") {
		t.Error("the record that failed was not sent by the next run")
	}
	seen := map[string]bool{}
	for _, p := range stopping.positions() {
		if seen[p] {
			t.Errorf("%s sent twice", p)
		}
		seen[p] = true
	}
	if len(seen) != 30 {
		t.Errorf("%d records sent over both runs", len(seen))
	}
}

func TestReplayOrderByKey(t *testing.T) {
	var ls []letter
	for i := range 60 {
		ls = append(ls, letter{partition: 0, reason: "unroutable", org: fmt.Sprintf("org-%d", i%3), srcOffset: int64(i), minute: i})
	}
	_, r := newCluster(t, ls)
	dest := &fakeDestination{}
	o := replayOptions(t, dest, checkAs())
	o.OrderByKey = true
	if _, err := Replay(context.Background(), r, o); err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	for _, d := range dest.acked {
		if prev, ok := last[d.OrgID]; ok && d.SourceOffset < prev {
			t.Errorf("%s: source offset %d acknowledged after %d", d.OrgID, d.SourceOffset, prev)
		}
		last[d.OrgID] = d.SourceOffset
	}
	if len(dest.acked) != 60 {
		t.Errorf("%d acknowledged", len(dest.acked))
	}
}

func TestReplaySelectionsShareAcknowledgements(t *testing.T) {
	_, r := newCluster(t, mixed())
	dest := &fakeDestination{}
	o := replayOptions(t, dest, checkAs())
	o.Filter, o.Selection = Filter{Reasons: []string{"unknown_schema"}}, "reason=unknown_schema"
	res, err := Replay(context.Background(), r, o)
	if err != nil || res.Replayed != 12 {
		t.Fatalf("first selection: %+v %v", res, err)
	}
	// Everything else, with no filter: the twelve are not sent again.
	o.Filter, o.Selection = Filter{}, "all"
	res, err = Replay(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 18 || res.AlreadyReplayed != 12 || len(dest.positions()) != 30 {
		t.Errorf("second selection: %+v", res)
	}
	seen := map[string]bool{}
	for _, p := range dest.positions() {
		if seen[p] {
			t.Errorf("%s sent twice", p)
		}
		seen[p] = true
	}

	// Another target (destination, cluster or topics) must not use the file.
	o.Target = "to-elsewhere"
	if _, err := Replay(context.Background(), r, o); !errors.Is(err, ErrCheckpointMismatch) {
		t.Errorf("another target resumed: %v", err)
	}
	o.Restart = true
	res, err = Replay(context.Background(), r, o)
	if err != nil || res.Replayed != 30 {
		t.Errorf("-restart: %+v %v", res, err)
	}
}

func TestOffsets(t *testing.T) {
	var o Offsets
	want := map[int64]bool{}
	// A fixed shuffle of 0..59 with gaps, as out-of-order acknowledgements come.
	for i := range 60 {
		off := int64((i * 37) % 61)
		if off%7 == 3 {
			continue
		}
		o = o.Add(off)
		want[off] = true
		o = o.Add(off) // adding twice changes nothing
	}
	for off := int64(-1); off < 62; off++ {
		if o.Contains(off) != want[off] {
			t.Errorf("Contains(%d) = %v, want %v", off, o.Contains(off), want[off])
		}
	}
	for i := 1; i < len(o); i++ {
		if o[i][0] <= o[i-1][1]+1 {
			t.Errorf("ranges %v and %v overlap or touch", o[i-1], o[i])
		}
	}
	if len(o) != 10 {
		t.Errorf("%d ranges, want 10 (0..60 with gaps at every offset 7k+3): %v", len(o), o)
	}
}

func TestCheckpointSaveIsAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.checkpoint")
	c := NewCheckpoint("target")
	sel := c.selection("sel")
	sel.setNext(Partition{"t", 3}, 42)
	sel.setUnreplayed(Partition{"t", 3}, []int64{7, 9})
	c.acknowledge(Partition{"t", 3}, 8)
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	gs := got.Selections["sel"]
	if gs.Next["t"][3] != 42 || !slices.Equal(gs.Unreplayed["t"][3], []int64{7, 9}) || got.Target != "target" || !got.acknowledged(Partition{"t", 3}, 8) {
		t.Errorf("loaded %+v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(path); err == nil {
		t.Error("a corrupt checkpoint loads")
	}
	if c, err := LoadCheckpoint(path + ".absent"); c != nil || err != nil {
		t.Errorf("a missing checkpoint: %v %v", c, err)
	}
}

func TestDefaultCheckpointPath(t *testing.T) {
	a := DefaultCheckpointPath([]string{"events.dlq"}, "to-source brokers=x topics=events.dlq")
	b := DefaultCheckpointPath([]string{"events.dlq"}, "to-sns brokers=x topics=events.dlq")
	if a == b || !strings.Contains(filepath.Base(a), "events.dlq-") || !strings.HasSuffix(a, ".checkpoint") {
		t.Errorf("paths %q and %q", a, b)
	}
}

func TestProgress(t *testing.T) {
	start := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	p := &Progress{Terminal: true}
	p.Render(start, ProgressState{})
	got := p.Render(start.Add(10*time.Second), ProgressState{Total: 1000, Scanned: 250, Replayed: 200, Skipped: 50})
	for _, want := range []string{"[======>", "250/1000", "25%", "25/s", "750 left", "ETA 30s", "replayed 200, skipped 50, failed 0"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal line %q lacks %q", got, want)
		}
	}
	plain := &Progress{}
	plain.Render(start, ProgressState{})
	got = plain.Render(start.Add(10*time.Second), ProgressState{Total: 1000, Scanned: 250, Replayed: 200, Skipped: 50})
	if strings.Contains(got, "[") || !strings.HasPrefix(got, "replay: 250/1000 records (25%)") {
		t.Errorf("plain line %q", got)
	}
}

func TestReaderReachesTheEndPastTransactionMarkers(t *testing.T) {
	c, r := newCluster(t, nil)
	r.IdleTimeout = 3 * time.Second
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("dlq-test"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := cl.ProduceSync(ctx, deadLetterRecord(letter{reason: "unroutable", srcOffset: int64(i)})).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	b, err := r.Bounds(ctx, testDLQ)
	if err != nil {
		t.Fatal(err)
	}
	if b[Partition{testDLQ, 0}].End != 4 {
		t.Fatalf("bounds %v: want 3 records and the commit marker in partition 0", b)
	}
	n := 0
	if err := r.Read(ctx, b, func(deadletter.DeadLetter) error { n++; return nil }); err != nil {
		t.Fatalf("Read stopped short of the end: %v", err)
	}
	if n != 3 {
		t.Errorf("read %d records, want 3 (the marker is not a dead letter)", n)
	}
}
