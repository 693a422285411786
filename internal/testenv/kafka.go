package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaClient returns a franz-go client seeded with Kafka(t) plus opts, closed in t.Cleanup.
func KafkaClient(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(Kafka(t)...)}, opts...)...)
	if err != nil {
		t.Fatalf("testenv: kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Topic creates a Kafka topic with a name unique to this test and the given number of
// partitions, using the cluster's default replication factor (1 on one node, 3 on three), and
// deletes it in t.Cleanup. configs are topic configs such as "retention.ms"; nil for none.
// It returns once the brokers' metadata shows every partition with a leader, so the test can
// produce, consume and describe the topic at once.
func Topic(t testing.TB, partitions int32, configs map[string]*string) string {
	t.Helper()
	name := Name(t, "", 200)
	CreateTopic(t, name, partitions, configs)
	return name
}

// CreateTopic is Topic with the name given, for a topic whose name follows from another's (a
// dead-letter topic, say).
func CreateTopic(t testing.TB, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	adm := kadm.NewClient(KafkaClient(t))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, partitions, -1, configs, name); err != nil {
		t.Fatalf("testenv: creating kafka topic %s on %v: %v (is the stack up? scripts/stack.sh status)", name, Kafka(t), err)
	}
	// Registered before waiting, so a topic that never becomes ready is still deleted.
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resps, err := adm.DeleteTopics(ctx, name)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			t.Errorf("testenv: deleting kafka topic %s: %v", name, err)
		}
	})
	if err := awaitLeaders(ctx, adm, name, partitions); err != nil {
		t.Fatalf("testenv: kafka topic %s created but not ready: %v", name, err)
	}
}

// awaitLeaders polls metadata until topic has partitions partitions, each with a leader. The
// controller acknowledges a creation before every broker has applied it.
func awaitLeaders(ctx context.Context, adm *kadm.Client, topic string, partitions int32) error {
	for {
		details, err := adm.ListTopics(ctx, topic)
		if err == nil {
			err = details.Error()
		}
		if err == nil {
			ready := len(details[topic].Partitions) == int(partitions)
			for _, p := range details[topic].Partitions {
				ready = ready && p.Err == nil && p.Leader >= 0
			}
			if ready {
				return nil
			}
			err = fmt.Errorf("%d of %d partitions in metadata, not all with a leader", len(details[topic].Partitions), partitions)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
