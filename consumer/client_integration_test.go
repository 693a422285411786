//go:build integration

package consumer

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// On a real broker, with a rack set (the stack's broker has no rack-aware
// selector, so it serves from the leader as before): a transaction that
// aborts is never published, the committed one and a plain record are.
func TestIntegrationAbortedTransactionNotPublished(t *testing.T) {
	topic := testenv.Topic(t, 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tx := testenv.KafkaClient(t, kgo.TransactionalID(testenv.Name(t, "tx", 200)), kgo.DefaultProduceTopic(topic))
	for _, c := range []struct {
		key string
		end kgo.TransactionEndTry
	}{{"aborted", kgo.TryAbort}, {"committed", kgo.TryCommit}} {
		if err := tx.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		r0, r1 := rec(c.key, 0, ""), rec(c.key, 1, "")
		r0.Topic, r1.Topic = topic, topic
		if err := tx.ProduceSync(ctx, r0, r1).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := tx.EndTransaction(ctx, c.end); err != nil {
			t.Fatal(err)
		}
	}
	plain := rec("plain", 0, "")
	plain.Topic = topic
	if err := testenv.KafkaClient(t).ProduceSync(ctx, plain).FirstErr(); err != nil {
		t.Fatal(err)
	}

	s := &sink{}
	pub := newPublisher("a", s)
	cfg := Config{Brokers: testenv.Kafka(t), GroupID: testenv.Name(t, "grp", 200), Topics: []string{topic},
		DeadLetterTopic: topic + ".dlq", Rack: "rack-a", DrainTimeout: 5 * time.Second}
	e, err := New(cfg, &fakeTranslator{}, pub, WithLogger(testLogger()), WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	deadline := time.Now().Add(60 * time.Second)
	for !slices.ContainsFunc(s.snapshot(), func(p publication) bool { return p.key == "plain" }) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the plain record")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	pub.wait()
	var got []string
	for _, p := range s.snapshot() {
		got = append(got, fmt.Sprintf("%s|%d", p.key, p.seq))
	}
	slices.Sort(got)
	if want := []string{"committed|0", "committed|1", "plain|0"}; !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
}
