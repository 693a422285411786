//go:build integration

package consumer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// The restart contract on a real broker: stop a member halfway, start
// another in the same group; every record is published or dead-lettered,
// a record published twice is one the first run had not committed, and
// the group's committed offsets reach the end.
func TestIntegrationRestartOnRealKafka(t *testing.T) {
	topic := testenv.Topic(t, 3, nil)
	dlq := testenv.Topic(t, 1, nil)
	groupID := testenv.Name(t, "grp", 200)
	producer := testenv.KafkaClient(t, kgo.DefaultProduceTopic(topic))
	adm := kadm.NewClient(testenv.KafkaClient(t))

	const keys, perKey = 12, 25
	var recs []*kgo.Record
	deadLettered := 0
	for seq := range perKey {
		for k := range keys {
			beh := ""
			if seq%10 == 3 && k%4 == 0 {
				beh = "tperm"
				deadLettered++
			}
			r := rec(fmt.Sprintf("org-%02d", k), seq, beh)
			r.Topic = topic
			recs = append(recs, r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := Config{
		Brokers:         testenv.Kafka(t),
		GroupID:         groupID,
		Topics:          []string{topic},
		DeadLetterTopic: dlq,
		CommitInterval:  500 * time.Millisecond,
		DrainTimeout:    5 * time.Second,
		RetryBackoffMin: 50 * time.Millisecond,
		RetryBackoffMax: time.Second,
	}
	s := &sink{}
	tr := &fakeTranslator{}
	run := func(stream string) (stop func()) {
		pub := newPublisher(stream, s)
		pub.delay = 20 * time.Millisecond
		e, err := New(cfg, tr, pub, WithLogger(testLogger().With("engine", stream)), WithRegisterer(prometheus.NewRegistry()),
			WithKafkaOptions(kgo.HeartbeatInterval(500*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancelRun := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(runCtx) }()
		return func() {
			cancelRun()
			if err := <-done; err != nil {
				t.Errorf("%s: Run: %v", stream, err)
			}
			pub.wait()
		}
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	committed := func() map[int32]int64 {
		out := make(map[int32]int64)
		offs, err := adm.FetchOffsets(ctx, groupID)
		if err != nil {
			return out
		}
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Topic == topic && o.Err == nil {
				out[o.Partition] = o.At
			}
		})
		return out
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}

	stop1 := run("run1")
	eventually("a third published", func() bool { return s.count() >= len(recs)/3 })
	stop1()
	committed1 := committed()
	stop2 := run("run2")
	want := len(recs) - deadLettered
	eventually("every good record published", func() bool {
		seen := make(map[string]bool)
		for _, p := range s.snapshot() {
			seen[p.position] = true
		}
		return len(seen) == want
	})
	eventually("commits at the end", func() bool {
		c := committed()
		ok := true
		ends.Each(func(o kadm.ListedOffset) { ok = ok && c[o.Partition] == o.Offset })
		return ok
	})
	stop2()

	inRun1 := make(map[string]bool)
	last := make(map[string]int)
	for _, p := range s.snapshot() {
		if k := p.stream + "/" + p.key; true {
			if prev, ok := last[k]; ok && p.seq <= prev {
				t.Errorf("%s: key %s published seq %d after %d", p.stream, p.key, p.seq, prev)
			}
			last[k] = p.seq
		}
		if p.stream == "run1" {
			inRun1[p.position] = true
			continue
		}
		if inRun1[p.position] {
			var part int32
			var off int64
			fmt.Sscanf(p.position[len(topic)+1:], "%d/%d", &part, &off)
			if off < committed1[part] {
				t.Errorf("%s published again although run 1 committed %d", p.position, committed1[part])
			}
		}
	}
	dlqEnd, err := adm.ListEndOffsets(ctx, dlq)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	dlqEnd.Each(func(o kadm.ListedOffset) { n += o.Offset })
	if n < int64(deadLettered) {
		t.Errorf("%d dead letters on the real broker, want at least %d", n, deadLettered)
	}
	t.Logf("published %d (%d distinct), dead letters %d, run 1 committed %v", s.count(), want, n, committed1)
}
