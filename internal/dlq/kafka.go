package dlq

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// KafkaDestination is the Destination of `bridge dlq replay -to-source`: it
// produces each dead letter's DeadLetter.ReplayRecord back to its source
// topic, on its source partition, with an idempotent producer and acks=all.
// It is safe for concurrent use.
type KafkaDestination struct {
	cl *kgo.Client
}

// NewKafkaDestination connects with opts (seed brokers, client id, TLS,
// SASL) plus acks=all and the source-partition partitioner.
func NewKafkaDestination(opts ...kgo.Opt) (*KafkaDestination, error) {
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(sourcePartitioner()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &KafkaDestination{cl: cl}, nil
}

// sourcePartitioner keeps a replayed record on its source partition, where
// the rest of its key's events are, and falls back to Kafka's key hash when
// the topic no longer has that partition.
func sourcePartitioner() kgo.Partitioner {
	byKey := kgo.StickyKeyPartitioner(nil)
	return kgo.BasicConsistentPartitioner(func(topic string) func(*kgo.Record, int) int {
		hash := byKey.ForTopic(topic)
		return func(r *kgo.Record, n int) int {
			if p := int(r.Partition); p >= 0 && p < n {
				return p
			}
			return hash.Partition(r, n)
		}
	})
}

// Send implements Destination. A dead letter without a source topic, and a
// record the broker refuses as such (too large, invalid), fail permanently;
// any other produce error stops the replay.
func (k *KafkaDestination) Send(ctx context.Context, d deadletter.DeadLetter, done func(error)) {
	rec, err := d.ReplayRecord()
	if err != nil {
		done(failure.New(failure.Permanent, "no_source", err))
		return
	}
	k.cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
		if err != nil && recordRejected(err) {
			err = failure.New(failure.Permanent, "kafka_rejected", fmt.Errorf("producing to %s: %w", rec.Topic, err))
		}
		done(err)
	})
}

// recordRejected reports produce errors that belong to the record, not to
// the cluster: the replay counts the record as failed and goes on.
func recordRejected(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) ||
		errors.Is(err, kerr.InvalidRecord) || errors.Is(err, kerr.InvalidTimestamp) || errors.Is(err, kerr.CorruptMessage)
}

// Close implements Destination: it waits for every produced record's
// acknowledgement, at most until ctx ends, and closes the client.
func (k *KafkaDestination) Close(ctx context.Context) error {
	defer k.cl.Close()
	return k.cl.Flush(ctx)
}
