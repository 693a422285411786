package testenv

import (
	"context"
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
// It returns once the controller has created the topic; the first produce may still wait a moment
// for leaders, which franz-go retries on its own.
func Topic(t testing.TB, partitions int32, configs map[string]*string) string {
	t.Helper()
	adm := kadm.NewClient(KafkaClient(t))
	name := Name(t, "", 200)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, partitions, -1, configs, name); err != nil {
		t.Fatalf("testenv: creating kafka topic %s: %v", name, err)
	}
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
	return name
}
