package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/dlq"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

const (
	dlqTestSource = "thena.events"
	dlqTestTopic  = "thena.events.dlq"
)

// dlqFixture is a bridge deployment after an incident: an embedded Kafka
// whose dead-letter topic holds a mix of dead letters, the SNS double, and
// a config file pointing at both.
type dlqFixture struct {
	cluster   *kfake.Cluster
	double    *snstest.Server
	ticketARN string
	config    string
	dir       string
	// letters are the dead letters written, by reason.
	letters map[string][]*kgo.Record
}

func newDLQFixture(t *testing.T) *dlqFixture {
	t.Helper()
	// The SNS client reads the standard AWS chain; keep a developer's
	// profile out of it.
	dir := t.TempDir()
	setDLQTestEnv(t, dir)

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, dlqTestSource), kfake.SeedTopics(2, dlqTestTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	double := snstest.NewServer(snstest.Options{})
	t.Cleanup(double.Close)
	ticket, err := double.CreateTopic("thena-events", nil)
	if err != nil {
		t.Fatal(err)
	}
	custom, err := double.CreateTopic("thena-custom-object-events", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &dlqFixture{cluster: c, double: double, ticketARN: ticket, dir: dir, config: filepath.Join(dir, "config.yaml"), letters: map[string][]*kgo.Record{}}
	f.writeConfig(t, custom, false)

	gen, err := eventgen.New(11, eventgen.Options{Orgs: 3})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	add := func(r eventgen.Record, reason, eventType, org string, n int) {
		dl := dlqRecord(r, reason, eventType, org, n)
		f.letters[reason] = append(f.letters[reason], dl)
		recs = append(recs, dl)
	}
	for i, typ := range []string{"ticket:created", "ticket:updated", "account:created", "ticket:comment:added", "custom-object:deal:created", "user:created"} {
		r, err := gen.Record(typ)
		if err != nil {
			t.Fatal(err)
		}
		add(r, "sns_rejected", typ, string(r.Key), i)
	}
	for i := range 4 {
		r := gen.Poison(eventgen.PoisonUnroutable)
		add(r, "unroutable", eventgen.UnroutableEventType, string(r.Key), 10+i)
	}
	for i := range 3 {
		add(gen.Poison(eventgen.PoisonBadMagic), "bad_magic", "", "", 20+i)
	}
	for i := range 2 {
		add(gen.Poison(eventgen.PoisonUnknownSchema), "unknown_schema", "", "", 30+i)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, r := range recs {
		r.Partition = int32(i % 2)
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return f
}

// setDLQTestEnv gives the SNS client the environment of a bridge under test
// (bridgeproc.AWSEnv: static dummy credentials, no shared AWS files), so a
// developer's profile is never used, and puts the user's cache directory
// (the default checkpoint's home) under dir.
func setDLQTestEnv(t *testing.T, dir string) {
	for _, kv := range bridgeproc.AWSEnv() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
}

// writeConfig writes the bridge's config; withBillingRoute adds the route
// that fixes the unroutable dead letters.
func (f *dlqFixture) writeConfig(t *testing.T, customARN string, withBillingRoute bool) {
	t.Helper()
	routes := []mapping.Route{
		{Pattern: "custom-object:*", TopicARN: customARN},
		{Pattern: "ticket:*", TopicARN: f.ticketARN},
		{Pattern: "account:*", TopicARN: f.ticketARN},
		{Pattern: "user:*", TopicARN: f.ticketARN},
	}
	if withBillingRoute {
		routes = append(routes, mapping.Route{Pattern: "billing:*", TopicARN: f.ticketARN})
	}
	cfg := bridgeproc.NewConfig(bridgeproc.Base{
		Brokers: f.cluster.ListenAddrs(), GroupID: "thena-sns-bridge", Topics: []string{dlqTestSource},
		SchemasDir: schemasDir(t), SNSEndpoint: f.double.URL, Routes: routes,
	})
	if err := cfg.Set("sns.backoff_max", "1s").WriteFile(f.config); err != nil {
		t.Fatal(err)
	}
}

// schemasDir is the repository's schemas/, as an absolute path.
func schemasDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../schemas")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// dlqRecord is the dead letter the consumer writes for r, read from
// partition n%3 at offset 1000+n of the source topic and dead-lettered for
// reason at 03:n.
func dlqRecord(r eventgen.Record, reason, eventType, org string, n int) *kgo.Record {
	failedAt := time.Date(2026, 11, 27, 3, n, 0, 0, time.UTC)
	src := &kgo.Record{
		Topic:     dlqTestSource,
		Partition: int32(n % 3),
		Offset:    int64(1000 + n),
		Key:       r.Key,
		Value:     r.Value,
		Timestamp: failedAt.Add(-time.Minute),
		Headers:   []kgo.RecordHeader{{Key: "traceparent", Value: []byte(fmt.Sprintf("00-trace%02d-span-01", n))}},
	}
	f := deadletter.Failure{
		Class: "permanent", Reason: reason, Message: reason + " (permanent): test",
		EventType: eventType, OrgID: org,
		Attempts: 1, FailedAt: failedAt, Instance: "bridge-0", Version: "test",
	}
	if reason == "sns_rejected" {
		f.SNSCode = "InvalidParameter"
	}
	return deadletter.Build(deadletter.DefaultTopic, src, f)
}

// dlqRun runs `bridge dlq ...` in-process.
func dlqRun(ctx context.Context, t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	var environ []string // without BRIDGE_* overrides from the developer's shell
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			environ = append(environ, kv)
		}
	}
	err = run(ctx, append([]string{"bridge", "dlq"}, args...), os.Getenv, environ, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestDLQList(t *testing.T) {
	f := newDLQFixture(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		args  []string
		lines int
		want  []string
	}{
		{"all", nil, 15, []string{"DEAD LETTER", dlqTestTopic + "/0@0", "sns_rejected", "thena.events/0@1000", "InvalidParameter", "2026-11-27T03:00:00.000Z"}},
		{"reason", []string{"-reason", "unroutable"}, 4, []string{eventgen.UnroutableEventType}},
		{"reasons", []string{"-reason", "bad_magic,unknown_schema"}, 5, nil},
		{"event type glob", []string{"-event-type", "ticket:*"}, 3, []string{"ticket:comment:added"}},
		{"since and until", []string{"-since", "2026-11-27T03:10:00Z", "-until", "2026-11-27T03:21:00Z"}, 5, nil},
		{"source partition", []string{"-source-partition", "1"}, 6, nil},
		{"limit", []string{"-limit", "2"}, 2, nil},
		{"source topic", []string{"-source", dlqTestSource, "-reason", "unroutable"}, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := dlqRun(ctx, t, append([]string{"list", "-config", f.config}, tt.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines)-1 != tt.lines {
				t.Errorf("%d records listed, want %d:\n%s", len(lines)-1, tt.lines, stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
		})
	}

	t.Run("org", func(t *testing.T) {
		org := string(f.letters["unroutable"][0].Key)
		stdout, _, err := dlqRun(ctx, t, "list", "-config", f.config, "-org", org, "-json")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var rec dlqRecordJSON
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, line)
			}
			if rec.Headers[deadletter.HeaderEventOrgID] != org || rec.Key != org || rec.Topic != dlqTestTopic {
				t.Errorf("record %+v", rec)
			}
			if rec.Headers["traceparent"] == "" || rec.ValueBytes == 0 {
				t.Errorf("record lacks original headers or value size: %+v", rec)
			}
		}
	})

	t.Run("summary", func(t *testing.T) {
		stdout, _, err := dlqRun(ctx, t, "list", "-config", f.config, "-summary")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"15 dead letters", "       6  sns_rejected", "       4  unroutable", "       4  " + eventgen.UnroutableEventType, "       5  -"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("summary lacks %q:\n%s", w, stdout)
			}
		}
		stdout, _, err = dlqRun(ctx, t, "list", "-config", f.config, "-summary", "-json")
		if err != nil {
			t.Fatal(err)
		}
		var s dlq.Summary
		if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.Total != 15 || s.ByReason["bad_magic"] != 3 {
			t.Errorf("JSON summary %+v %v", s, err)
		}
	})
}

func TestDLQShow(t *testing.T) {
	f := newDLQFixture(t)
	ctx := context.Background()
	// Offset 0 of partition 0 is the ticket:created dead-lettered as sns_rejected.
	stdout, stderr, err := dlqRun(ctx, t, "show", "-config", f.config, "-partition", "0", "-offset", "0")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, w := range []string{"dead letter  " + dlqTestTopic + "/0@0", "traceparent", deadletter.HeaderFailedAt + "         2026-11-27T03:00:00.000Z",
		"now: publishable to " + f.ticketARN, `"eventType": "ticket:created"`, `"event_name"`} {
		if !strings.Contains(stdout, w) {
			t.Errorf("show lacks %q:\n%s", w, stdout)
		}
	}

	// The position dlq list prints works as it is, flags after it too.
	byPosition, _, err := dlqRun(ctx, t, "show", dlqTestTopic+"/0@0", "-config", f.config)
	if err != nil || byPosition != stdout {
		t.Errorf("show %s/0@0: %v\n%s", dlqTestTopic, err, byPosition)
	}

	// A bad-magic dead letter still fails the same way.
	bad := dlqPosition(t, f, "bad_magic", 0)
	stdout, _, err = dlqRun(ctx, t, "show", "-config", f.config, "-partition", strconv.Itoa(int(bad.Partition)), "-offset", strconv.FormatInt(bad.Offset, 10), "-json")
	if err != nil {
		t.Fatal(err)
	}
	var got dlqRecordJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if got.Translation == nil || got.Translation.OK || got.Translation.Error.Reason != "bad_magic" || len(got.HeaderList) != 17 {
		t.Errorf("show -json: %+v", got)
	}

	if _, _, err := dlqRun(ctx, t, "show", "-config", f.config, "-partition", "0", "-offset", "99"); !errors.Is(err, dlq.ErrNoRecord) {
		t.Errorf("show past the end: %v", err)
	}
}

// dlqPosition finds where the i-th dead letter of reason was written.
func dlqPosition(t *testing.T, f *dlqFixture, reason string, i int) *kgo.Record {
	t.Helper()
	stdout, _, err := dlqRun(context.Background(), t, "list", "-config", f.config, "-reason", reason, "-json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var rec dlqRecordJSON
	if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
}

// dlqSourceRecords reads everything in the source topic.
func dlqSourceRecords(t *testing.T, f *dlqFixture) []*kgo.Record {
	t.Helper()
	r, err := dlq.NewReader(kgo.SeedBrokers(f.cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	b, err := r.Bounds(ctx, dlqTestSource)
	if err != nil {
		t.Fatal(err)
	}
	var out []*kgo.Record
	if err := r.Read(ctx, b, func(d deadletter.DeadLetter) error { out = append(out, d.Record); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDLQReplayToSource(t *testing.T) {
	f := newDLQFixture(t)
	ctx := context.Background()
	cp := filepath.Join(f.dir, "to-source.checkpoint")

	// A dry run says what would happen and changes nothing.
	stdout, stderr, err := dlqRun(ctx, t, "replay", "-config", f.config, "-to-source", "-dry-run", "-checkpoint", cp)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if n := strings.Count(stdout, "would replay"); n != 6 {
		t.Errorf("dry run would replay %d, want the 6 that now translate:\n%s", n, stdout)
	}
	if n := strings.Count(stdout, "would skip"); n != 9 {
		t.Errorf("dry run would skip %d, want 9:\n%s", n, stdout)
	}
	if !strings.Contains(stdout, "still unroutable") || !strings.Contains(stdout, "nothing was sent") {
		t.Errorf("dry run output:\n%s", stdout)
	}
	if n := len(dlqSourceRecords(t, f)); n != 0 {
		t.Fatalf("a dry run produced %d records", n)
	}
	if _, err := os.Stat(cp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a dry run wrote the checkpoint: %v", err)
	}

	// An interrupted run (Ctrl-C before it starts) says how to resume.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if stdout, _, err := dlqRun(canceled, t, "replay", "-config", f.config, "-to-source", "-checkpoint", cp); err == nil || !strings.Contains(stdout+err.Error(), "interrupted") {
		t.Errorf("interrupted run: %v\n%s", err, stdout)
	}

	stdout, stderr, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-source", "-checkpoint", cp)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "replay complete: 6 replayed to their source topics, 9 skipped (unroutable 4, bad_magic 3, unknown_schema 2), 0 failed") {
		t.Errorf("replay output:\n%s", stdout)
	}
	if !strings.Contains(stderr, "replay: 15/15 records") {
		t.Errorf("no progress line on stderr:\n%s", stderr)
	}
	got := dlqSourceRecords(t, f)
	if len(got) != 6 {
		t.Fatalf("%d records in the source topic, want 6", len(got))
	}
	want := map[string]*kgo.Record{}
	for _, r := range f.letters["sns_rejected"] {
		want[string(r.Value)] = r
	}
	for _, r := range got {
		orig, ok := want[string(r.Value)]
		if !ok {
			t.Errorf("unexpected record %s/%d@%d", r.Topic, r.Partition, r.Offset)
			continue
		}
		delete(want, string(r.Value))
		src := deadletter.Parse(orig)
		if string(r.Key) != string(orig.Key) || r.Partition != src.SourcePartition || !r.Timestamp.Equal(orig.Timestamp) {
			t.Errorf("replayed key %q partition %d ts %v, want %q %d %v", r.Key, r.Partition, r.Timestamp, orig.Key, src.SourcePartition, orig.Timestamp)
		}
		var hs []string
		for _, h := range r.Headers {
			hs = append(hs, h.Key+"="+string(h.Value))
		}
		if len(hs) != 2 || !strings.HasPrefix(hs[0], "traceparent=") || hs[1] != deadletter.HeaderReplayCount+"=1" {
			t.Errorf("replayed headers %v, want the original traceparent and %s=1", hs, deadletter.HeaderReplayCount)
		}
	}

	// Running it again sends nothing new.
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-source", "-checkpoint", cp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "replay complete: 0 replayed") || len(dlqSourceRecords(t, f)) != 6 {
		t.Errorf("second run:\n%s", stdout)
	}

	// -force sends the unroutable ones even though they still fail.
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-source", "-reason", "unroutable", "-force")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "4 replayed") || len(dlqSourceRecords(t, f)) != 10 {
		t.Errorf("forced run:\n%s", stdout)
	}
	// The default checkpoint lives under the user's cache directory.
	matches, _ := filepath.Glob(filepath.Join(f.dir, "cache", "kafka-sns-bridge", "dlq-replay", dlqTestTopic+"-*.checkpoint"))
	if len(matches) != 1 {
		t.Errorf("default checkpoint: %v", matches)
	}
}

func TestDLQReplayToSourceInterruptedAndResumed(t *testing.T) {
	f := newDLQFixture(t)
	gen, err := eventgen.New(12, eventgen.Options{Orgs: 5})
	if err != nil {
		t.Fatal(err)
	}
	const extra = 1500
	var recs []*kgo.Record
	for i := range extra {
		r, err := gen.Record("ticket:updated")
		if err != nil {
			t.Fatal(err)
		}
		dl := dlqRecord(r, "sns_rejected", r.EventType, string(r.Key), i%60)
		dl.Partition = int32(i % 2)
		recs = append(recs, dl)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Ctrl-C as soon as the first replayed records reach the broker.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cluster.ControlKey(kmsg.Produce.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		cancel()
		return nil, nil, false
	})
	cp := filepath.Join(f.dir, "interrupted.checkpoint")
	stdout, _, err := dlqRun(ctx, t, "replay", "-config", f.config, "-to-source", "-checkpoint", cp)
	if err == nil || !strings.Contains(stdout, "replay interrupted: ") || !strings.Contains(stdout, "run the same command again to resume") {
		t.Fatalf("interrupted run: %v\n%s", err, stdout)
	}
	first := len(dlqSourceRecords(t, f))
	if first == 0 || first >= extra+6 {
		t.Fatalf("the interrupted run produced %d of %d records; the test needs an interruption midway", first, extra+6)
	}

	stdout, stderr, err := dlqRun(context.Background(), t, "replay", "-config", f.config, "-to-source", "-checkpoint", cp)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	if want := fmt.Sprintf("replay complete: %d replayed", extra+6-first); !strings.Contains(stdout, want) {
		t.Errorf("resumed run, want %q:\n%s", want, stdout)
	}
	got := dlqSourceRecords(t, f)
	seen := map[string]bool{}
	for _, r := range got {
		if seen[string(r.Value)] {
			t.Errorf("a record was replayed twice (source %d@%d)", r.Partition, r.Offset)
		}
		seen[string(r.Value)] = true
	}
	if len(got) != extra+6 {
		t.Errorf("%d records in the source topic after both runs, want %d", len(got), extra+6)
	}
}

func TestDLQReplayToSNS(t *testing.T) {
	f := newDLQFixture(t)
	ctx := context.Background()
	cp := filepath.Join(f.dir, "to-sns.checkpoint")

	stdout, stderr, err := dlqRun(ctx, t, "replay", "-config", f.config, "-to-sns", "-reason", "unroutable", "-checkpoint", cp)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "0 replayed to SNS, 4 skipped (unroutable 4)") || f.double.Count(f.ticketARN) != 0 {
		t.Fatalf("before the fix:\n%s", stdout)
	}

	// Fix the cause: route billing events. The same replay now publishes them.
	custom := "arn:aws:sns:us-east-1:123456789012:thena-custom-object-events"
	f.writeConfig(t, custom, true)
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-sns", "-reason", "unroutable", "-dry-run", "-checkpoint", cp)
	if err != nil || strings.Count(stdout, "would replay") != 4 || f.double.Count(f.ticketARN) != 0 {
		t.Fatalf("dry run after the fix: %v\n%s", err, stdout)
	}
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-sns", "-reason", "unroutable", "-checkpoint", cp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "4 replayed to SNS, 0 skipped") {
		t.Errorf("after the fix:\n%s", stdout)
	}
	msgs := f.double.Messages(f.ticketARN)
	if len(msgs) != 4 {
		t.Fatalf("SNS got %d messages, want 4", len(msgs))
	}
	for _, m := range msgs {
		if m.Attributes["event_name"].StringValue != eventgen.UnroutableEventType {
			t.Errorf("published %v", m.Attributes["event_name"])
		}
	}
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-sns", "-reason", "unroutable", "-checkpoint", cp)
	if err != nil || !strings.Contains(stdout, "nothing new to replay") || f.double.Count(f.ticketARN) != 4 {
		t.Errorf("third run: %v\n%s", err, stdout)
	}

	// The rest, without a filter: the six good events publish, the
	// undecodable ones are skipped, and the four billing events the
	// filtered replay sent are not sent again.
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-sns", "-checkpoint", cp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "6 replayed to SNS, 5 skipped (bad_magic 3, unknown_schema 2), 0 failed, 4 already replayed by an earlier run") {
		t.Errorf("whole topic:\n%s", stdout)
	}
	if n := f.double.Count(f.ticketARN) + f.double.Count(custom); n != 4+6 {
		t.Errorf("SNS holds %d messages, want 10", n)
	}
}

// -brokers stands in for a config file (kcat's habit): list and show work
// with it and -topic alone, and it replaces a config's kafka.brokers.
func TestDLQBrokersFlag(t *testing.T) {
	f := newDLQFixture(t)
	ctx := context.Background()
	t.Chdir(t.TempDir()) // no config.yaml here
	brokers := strings.Join(f.cluster.ListenAddrs(), ",")
	stdout, stderr, err := dlqRun(ctx, t, "list", "-brokers", brokers, "-topic", dlqTestTopic, "-reason", "unroutable")
	if err != nil {
		t.Fatalf("list -brokers: %v\n%s", err, stderr)
	}
	if n := strings.Count(stdout, "\n") - 1; n != 4 {
		t.Errorf("list -brokers: %d records, want the 4 unroutable ones:\n%s", n, stdout)
	}
	stdout, _, err = dlqRun(ctx, t, "show", "-brokers", brokers, dlqTestTopic+"/0@0")
	if err != nil || !strings.Contains(stdout, "dead letter  "+dlqTestTopic+"/0@0") || !strings.Contains(stdout, "give -config FILE") {
		t.Errorf("show -brokers: %v\n%s", err, stdout)
	}
	if _, _, err := dlqRun(ctx, t, "list", "-brokers", brokers); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-topic") {
		t.Errorf("list -brokers without a topic: %v, want a usage error asking for -topic or -source", err)
	}
	if _, _, err := dlqRun(ctx, t, "replay", "-brokers", brokers, "-topic", dlqTestTopic, "-to-sns"); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-config FILE") {
		t.Errorf("replay -brokers without a config: %v, want a usage error asking for -config", err)
	}
	// Over a config: its brokers are replaced (these do not answer).
	_, _, err = dlqRun(ctx, t, "list", "-config", f.config, "-brokers", closedAddr(t))
	if err == nil {
		t.Error("list -config -brokers CLOSED: the config's brokers were used")
	}
}

func TestDLQUsageErrors(t *testing.T) {
	f := newDLQFixture(t)
	ctx := context.Background()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "list, show or replay"},
		{"unknown command", []string{"purge"}, `unknown dlq command "purge"`},
		{"no destination", []string{"replay", "-config", f.config}, "exactly one of -to-source and -to-sns"},
		{"two destinations", []string{"replay", "-config", f.config, "-to-source", "-to-sns"}, "exactly one of"},
		{"force to sns", []string{"replay", "-config", f.config, "-to-sns", "-force"}, "-force applies to -to-source only"},
		{"bad since", []string{"list", "-config", f.config, "-since", "yesterday"}, "-since"},
		{"bad glob", []string{"list", "-config", f.config, "-event-type", "ticket:["}, "not a valid glob"},
		{"topic and source", []string{"list", "-config", f.config, "-topic", "a", "-source", "b"}, "-topic or -source"},
		{"show without offset", []string{"show", "-config", f.config, "-partition", "0"}, "-partition and -offset"},
		{"unknown flag", []string{"list", "-config", f.config, "-colour"}, "flag provided but not defined"},
		{"unknown reason", []string{"list", "-config", f.config, "-reason", "bad_magic,unroutabel"}, `-reason "unroutabel" is not a dead-letter reason (did you mean unroutable?`},
		{"bad position", []string{"show", "-config", f.config, dlqTestTopic + "/0"}, "not a position topic/partition@offset"},
		{"position and flags disagree", []string{"show", "-config", f.config, dlqTestTopic + "/0@0", "-offset", "3"}, "disagree"},
		{"two positions", []string{"show", "-config", f.config, dlqTestTopic + "/0@0", dlqTestTopic + "/0@1"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := dlqRun(ctx, t, tt.args...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a usage error about %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("message is not one line: %q", err)
			}
		})
	}
	_, _, err := dlqRun(ctx, t, "list", "-config", filepath.Join(f.dir, "absent.yaml"))
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("missing config: %v", err)
	}
	_, _, err = dlqRun(ctx, t, "list", "-config", f.config, "-topic", "no.such.dlq")
	if err == nil || !strings.Contains(err.Error(), `"no.such.dlq" does not exist`) {
		t.Errorf("missing topic: %v", err)
	}
}
