package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

func adminClient(o options) (*kadm.Client, *kgo.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(o.brokerList()...))
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl, nil
}

// recordCount is the number of records topic holds (sum over partitions of
// end minus start offset) and its partition count; -1 if it does not exist.
func recordCount(ctx context.Context, adm *kadm.Client, topic string) (int64, int, error) {
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	d, ok := td[topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return -1, 0, nil
	}
	if d.Err != nil {
		return 0, 0, d.Err
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	var n int64
	ends.Each(func(e kadm.ListedOffset) {
		if s, ok := starts.Lookup(e.Topic, e.Partition); ok {
			n += e.Offset - s.Offset
		}
	})
	return n, len(d.Partitions), nil
}

// createTopic creates topic (and its dead-letter topic) with o.partitions
// partitions, waiting until the broker lists it.
func createTopic(ctx context.Context, adm *kadm.Client, o options, topic string) error {
	for _, t := range []string{topic, topic + ".dlq"} {
		if _, err := adm.CreateTopic(ctx, int32(o.partitions), 1, nil, t); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating %s: %w", t, err)
		}
	}
	var last error
	for range 300 {
		n, _, err := recordCount(ctx, adm, topic)
		if err == nil && n >= 0 {
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("topic %s did not appear within 30s (last: %v)", topic, last)
}

func deleteTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	_, err := adm.DeleteTopics(ctx, topic, topic+".dlq")
	return err
}

// ensureBacklog makes sure topic (named after sh, see shape.topic) holds
// exactly sh.Events records generated for sh, with their schema ids
// rewritten by reframe when it is set: a topic of that name with that many
// records in sh.Partitions partitions is reused, anything else is deleted
// and produced again.
func ensureBacklog(ctx context.Context, o options, sh shape, topic string, reframe func([]byte) ([]byte, error), stderr io.Writer) error {
	adm, cl, err := adminClient(o)
	if err != nil {
		return err
	}
	defer cl.Close()
	n, parts, err := recordCount(ctx, adm, topic)
	if err != nil {
		return fmt.Errorf("asking Kafka at %s about %s (is the stack up? scripts/stack.sh status): %w", o.brokers, topic, err)
	}
	if !o.fresh && n == sh.Events && parts == sh.Partitions {
		logf(stderr, "backlog: reusing %s (%d records, %d partitions)", topic, n, parts)
		return nil
	}
	if n >= 0 {
		logf(stderr, "backlog: %s holds %d records in %d partitions; recreating it", topic, n, parts)
		if err := deleteTopic(ctx, adm, topic); err != nil {
			return err
		}
		for range 100 { // deletion is asynchronous
			if m, _, err := recordCount(ctx, adm, topic); err == nil && m < 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := createTopic(ctx, adm, o, topic); err != nil {
		return err
	}
	p, err := newProducer(o.brokerList())
	if err != nil {
		return err
	}
	start, last := time.Now(), time.Now()
	var sent, bytes int64
	keys := map[string]int64{}
	err = generate(sh, func(recs []eventgen.Record) error {
		for _, r := range recs {
			v := r.Value
			if reframe != nil {
				var err error
				if v, err = reframe(v); err != nil {
					return err
				}
			}
			p.produce(ctx, &kgo.Record{Topic: topic, Key: r.Key, Value: v})
			keys[string(r.Key)]++
			sent++
			bytes += int64(len(v))
		}
		if time.Since(last) >= 2*time.Second {
			logf(stderr, "backlog: %d/%d events produced", sent, sh.Events)
			last = time.Now()
		}
		return p.err()
	})
	if cerr := p.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("producing the backlog: %w", err)
	}
	var top int64
	for _, c := range keys {
		top = max(top, c)
	}
	logf(stderr, "backlog: %s ready: %d events, %.0f bytes on average, %d organizations, the busiest with %.1f %% of the events (expected %.1f %%), in %.1fs",
		topic, sent, float64(bytes)/float64(sent), len(keys), 100*float64(top)/float64(sent), 100*sh.topShare(), time.Since(start).Seconds())
	return nil
}
