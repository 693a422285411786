//go:build integration

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/dlq"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// The operator's night on the real stack: the bridge (bridge run, the real
// pipeline) dead-letters a mix of poison into the dead-letter topic while it
// publishes the good events; the operator lists and filters the dead
// letters, fixes the cause (routes the billing events), replays to SNS, and
// every fixed event reaches the subscribed SQS queue exactly once; a second
// replay sends nothing. Replaying to the source topic puts the records back
// with their key, source partition and a replay count.
func TestIntegrationDLQReplay(t *testing.T) {
	dir := t.TempDir()
	setDLQTestEnv(t, dir)
	source := testenv.Topic(t, 3, nil)
	dlqTopic := testenv.Topic(t, 2, nil)
	ticketARN := testenv.SNSTopic(t, false, nil)
	customARN := testenv.SNSTopic(t, false, nil)
	queue := testenv.SubscribeQueue(t, ticketARN, "")
	// The replay is read from its own queue, filtered to the replayed event
	// type: on a standard topic the bridge's own publishes may still arrive
	// late (or twice, at least once) and must not be taken for the replay's.
	replayQueue := testenv.SubscribeQueue(t, ticketARN, fmt.Sprintf(`{"event_name": [%q]}`, eventgen.UnroutableEventType))
	config := filepath.Join(dir, "config.yaml")
	writeConfig := func(billingRoute bool) {
		routes := []mapping.Route{{Pattern: "custom-object:*", TopicARN: customARN}, {Pattern: "ticket:*", TopicARN: ticketARN}}
		if billingRoute {
			routes = append(routes, mapping.Route{Pattern: "billing:*", TopicARN: ticketARN})
		}
		cfg := bridgeproc.NewConfig(bridgeproc.Base{
			Brokers: testenv.Kafka(t), GroupID: testenv.Name(t, "grp", 200), Topics: []string{source},
			SchemasDir: schemasDir(t), SNSEndpoint: testenv.SNSEndpoint(t), Routes: routes,
		})
		cfg.Set("kafka.dead_letter_topic", dlqTopic).Set("kafka.commit_interval", "500ms")
		if err := cfg.Set("http.listen", "127.0.0.1:0").Set("log.level", "warn").WriteFile(config); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(false)

	// Thena's services write good events and, by mistake, poison.
	gen, err := eventgen.New(21, eventgen.Options{Orgs: 4})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	unroutableIDs := map[string]bool{}
	for i := range 8 {
		r, err := gen.Record([]string{"ticket:created", "ticket:updated"}[i%2])
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: source, Key: r.Key, Value: r.Value})
		if i%2 == 0 {
			u := gen.Poison(eventgen.PoisonUnroutable)
			unroutableIDs[u.Natural["eventId"].(string)] = true
			recs = append(recs, &kgo.Record{Topic: source, Key: u.Key, Value: u.Value})
		}
	}
	for _, p := range []eventgen.Poison{eventgen.PoisonBadMagic, eventgen.PoisonBadMagic, eventgen.PoisonUnknownSchema} {
		r := gen.Poison(p)
		recs = append(recs, &kgo.Record{Topic: source, Key: r.Key, Value: r.Value})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := testenv.KafkaClient(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// The bridge runs until it has published the good events and
	// dead-lettered the rest.
	bridgeCtx, stopBridge := context.WithCancel(ctx)
	var logs bridgeproc.LogBuffer
	bridgeDone := make(chan error, 1)
	go func() {
		bridgeDone <- run(bridgeCtx, []string{"bridge", "run", "-config", config}, os.Getenv, nil, strings.NewReader(""), &logs, &logs)
	}()
	if got := testenv.Receive(t, queue.URL, 8, time.Minute); len(got) != 8 {
		stopBridge()
		t.Fatalf("the bridge published %d of 8 good events; logs:\n%s", len(got), logs.String())
	}
	reader, err := dlq.NewReader(kgo.SeedBrokers(testenv.Kafka(t)...))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for deadline := time.Now().Add(time.Minute); ; {
		b, err := reader.Bounds(ctx, dlqTopic)
		if err != nil {
			t.Fatal(err)
		}
		if b.Records() == 7 {
			break
		}
		if time.Now().After(deadline) {
			stopBridge()
			t.Fatalf("%d dead letters, want 7; logs:\n%s", b.Records(), logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopBridge()
	if err := <-bridgeDone; err != nil {
		t.Fatalf("bridge run: %v\n%s", err, logs.String())
	}

	// List and filter.
	stdout, stderr, err := dlqRun(ctx, t, "list", "-config", config)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if n := strings.Count(stdout, dlqTopic+"/"); n != 7 {
		t.Errorf("list shows %d dead letters, want 7:\n%s", n, stdout)
	}
	stdout, _, err = dlqRun(ctx, t, "list", "-config", config, "-reason", "unroutable", "-event-type", "billing:*", "-since", "1h")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stdout, eventgen.UnroutableEventType); n != 4 {
		t.Errorf("filtered list shows %d unroutable billing events, want 4:\n%s", n, stdout)
	}
	stdout, _, err = dlqRun(ctx, t, "list", "-config", config, "-summary")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"7 dead letters", "       4  unroutable", "       2  bad_magic", "       1  unknown_schema"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("summary lacks %q:\n%s", w, stdout)
		}
	}

	// Before the fix, replaying to SNS skips them all.
	cp := filepath.Join(dir, "to-sns.checkpoint")
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", config, "-to-sns", "-checkpoint", cp)
	if err != nil || !strings.Contains(stdout, "0 replayed to SNS, 7 skipped") {
		t.Fatalf("replay before the fix: %v\n%s", err, stdout)
	}

	// Fix the cause: route billing events. Replay to SNS.
	writeConfig(true)
	stdout, stderr, err = dlqRun(ctx, t, "replay", "-config", config, "-to-sns", "-checkpoint", cp)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "replay complete: 4 replayed to SNS, 3 skipped (bad_magic 2, unknown_schema 1), 0 failed") {
		t.Errorf("replay after the fix:\n%s", stdout)
	}
	got := testenv.Receive(t, replayQueue.URL, 4, 30*time.Second)
	got = append(got, testenv.Receive(t, replayQueue.URL, 0, 3*time.Second)...)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.Attributes["event_id"]]++
		if m.Attributes["event_name"] != eventgen.UnroutableEventType {
			t.Errorf("replay published a %s", m.Attributes["event_name"])
		}
	}
	for id := range unroutableIDs {
		if seen[id] != 1 {
			t.Errorf("event %s arrived %d times, want once", id, seen[id])
		}
	}
	if len(got) != 4 {
		t.Errorf("SQS received %d messages from the replay, want 4", len(got))
	}

	// Running it again replays nothing.
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", config, "-to-sns", "-checkpoint", cp)
	if err != nil || !strings.Contains(stdout, "0 replayed") {
		t.Errorf("second replay: %v\n%s", err, stdout)
	}
	if extra := testenv.Receive(t, replayQueue.URL, 0, 3*time.Second); len(extra) != 0 {
		t.Errorf("the second replay published %d messages", len(extra))
	}

	// Back to the source topic instead: the same records, the same keys and
	// partitions, bridge.replay.count set, no bridge.error.* headers.
	before, err := reader.Bounds(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err = dlqRun(ctx, t, "replay", "-config", config, "-to-source", "-reason", "unroutable", "-checkpoint", filepath.Join(dir, "to-source.checkpoint"))
	if err != nil || !strings.Contains(stdout, "4 replayed to their source topics") {
		t.Fatalf("replay to source: %v\n%s", err, stdout)
	}
	after, err := reader.Bounds(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	fresh := dlq.Bounds{}
	for p, s := range after {
		fresh[p] = dlq.Span{Start: before[p].End, End: s.End}
	}
	dlqBounds, err := reader.Bounds(ctx, dlqTopic)
	if err != nil {
		t.Fatal(err)
	}
	origin := map[string]deadletter.DeadLetter{} // by value
	if err := reader.Read(ctx, dlqBounds, func(d deadletter.DeadLetter) error {
		if d.Reason == "unroutable" {
			origin[string(d.Record.Value)] = d
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	replayed := 0
	if err := reader.Read(ctx, fresh, func(d deadletter.DeadLetter) error {
		replayed++
		o, ok := origin[string(d.Record.Value)]
		switch {
		case !ok:
			t.Errorf("%s is not one of the unroutable dead letters", d.Position())
		case string(d.Record.Key) != string(o.Record.Key) || d.Record.Partition != o.SourcePartition:
			t.Errorf("%s: key %q, want %q on source partition %d", d.Position(), d.Record.Key, o.Record.Key, o.SourcePartition)
		}
		var keys []string
		for _, h := range d.Record.Headers {
			keys = append(keys, h.Key+"="+string(h.Value))
		}
		if strings.Join(keys, ",") != deadletter.HeaderReplayCount+"=1" {
			t.Errorf("replayed record headers %v", keys)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if replayed != 4 {
		t.Errorf("%d records back in the source topic, want 4", replayed)
	}
}
