//go:build integration

package smoke

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

const (
	smokeKeys    = 50
	smokeRecords = 10_000
)

// TestKafkaGroupResumesFromCommittedOffsets is what the bridge relies on for no loss and bounded
// duplicates: a group member that commits explicitly, closes, and is replaced by a new member of
// the same group hands over exactly at the committed offsets, and each key's records come in
// the order they were produced.
func TestKafkaGroupResumesFromCommittedOffsets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	topic := testenv.Topic(t, 6, nil)
	group := testenv.Name(t, "group", 200)
	producer := testenv.KafkaClient(t, kgo.DefaultProduceTopic(topic))

	produce(ctx, t, producer, 0, smokeRecords/smokeKeys)

	first := groupConsumer(t, topic, group)
	got := consume(ctx, t, first, smokeRecords)
	checkPerKeyOrder(t, got, 0)
	if err := first.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("committing offsets: %v", err)
	}
	first.Close() // leaves the group; a second Close from t.Cleanup is harmless

	adm := kadm.NewClient(producer)
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetching committed offsets: %v", err)
	}
	var total int64
	committed.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != smokeRecords {
		t.Fatalf("committed offsets add up to %d, want %d (every consumed record)", total, smokeRecords)
	}

	// 100 more records: 2 per key, sequence numbers continuing where the first batch stopped.
	produce(ctx, t, producer, smokeRecords/smokeKeys, 2)

	second := groupConsumer(t, topic, group)
	got = consume(ctx, t, second, 100)
	checkPerKeyOrder(t, got, smokeRecords/smokeKeys)
	// Anything beyond the 100 new records would be a redelivery of committed ones.
	extraCtx, extraCancel := context.WithTimeout(ctx, 2*time.Second)
	defer extraCancel()
	if extra := second.PollFetches(extraCtx).Records(); len(extra) > 0 {
		t.Fatalf("second member got %d records beyond the 100 new ones, first: key %s offset %d",
			len(extra), extra[0].Key, extra[0].Offset)
	}
}

// produce writes perKey records for each of smokeKeys keys, key "org-K", value "org-K/SEQ" with
// SEQ counting from firstSeq, interleaving keys as a real topic would.
func produce(ctx context.Context, t *testing.T, cl *kgo.Client, firstSeq, perKey int) {
	t.Helper()
	records := make([]*kgo.Record, 0, perKey*smokeKeys)
	for seq := firstSeq; seq < firstSeq+perKey; seq++ {
		for k := range smokeKeys {
			key := fmt.Sprintf("org-%d", k)
			records = append(records, &kgo.Record{Key: []byte(key), Value: []byte(key + "/" + strconv.Itoa(seq))})
		}
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("producing %d records: %v", len(records), err)
	}
}

func groupConsumer(t *testing.T, topic, group string) *kgo.Client {
	return testenv.KafkaClient(t,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
}

// consume polls until want records arrived and fails the test if they do not in time.
func consume(ctx context.Context, t *testing.T, cl *kgo.Client, want int) []*kgo.Record {
	t.Helper()
	var got []*kgo.Record
	for len(got) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("got %d of %d records before the deadline", len(got), want)
		}
		if err := fetches.Err(); err != nil {
			t.Fatalf("polling: %v", err)
		}
		got = append(got, fetches.Records()...)
	}
	if len(got) != want {
		t.Fatalf("got %d records, want %d", len(got), want)
	}
	return got
}

// checkPerKeyOrder asserts every key's values run firstSeq, firstSeq+1, ... with no gap,
// duplicate or reordering, and that each key stayed on one partition.
func checkPerKeyOrder(t *testing.T, records []*kgo.Record, firstSeq int) {
	t.Helper()
	next := map[string]int{}
	partition := map[string]int32{}
	for _, r := range records {
		key := string(r.Key)
		keyPart, seqText, ok := strings.Cut(string(r.Value), "/")
		seq, err := strconv.Atoi(seqText)
		if !ok || err != nil || keyPart != key {
			t.Fatalf("record %s/%d@%d: value %q does not match key %q", r.Topic, r.Partition, r.Offset, r.Value, key)
		}
		want, seen := next[key]
		if !seen {
			want = firstSeq
			partition[key] = r.Partition
		}
		if seq != want {
			t.Fatalf("key %s: got sequence %d, want %d (order broken or records lost/repeated)", key, seq, want)
		}
		if r.Partition != partition[key] {
			t.Fatalf("key %s on partitions %d and %d", key, partition[key], r.Partition)
		}
		next[key] = seq + 1
	}
	if len(next) != smokeKeys {
		t.Fatalf("got records of %d keys, want %d", len(next), smokeKeys)
	}
}

// TestKafkaTopicsAreReplicatedAcrossTheCluster: topics made by testenv.Topic get the cluster's
// production-like durability: one replica on a single node; on the three-node cluster
// (scripts/stack.sh up --brokers 3) three replicas, all in sync, and min.insync.replicas 2, so
// failover tests really lose a replica, not the only copy.
func TestKafkaTopicsAreReplicatedAcrossTheCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := kadm.NewClient(testenv.KafkaClient(t))
	topic := testenv.Topic(t, 3, nil)

	// The cluster's size is what the stack says it started, not how many brokers answer now: a
	// node that is down must fail this test, not lower its expectations.
	brokers := testenv.Kafka(t)
	wantReplicas, wantMinISR := 1, "1"
	if len(brokers) >= 3 {
		wantReplicas, wantMinISR = 3, "2"
	}

	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatalf("describing %s: %v", topic, err)
	}
	td := details[topic]
	if td.Err != nil || len(td.Partitions) != 3 {
		t.Fatalf("topic %s: %d partitions, err %v; want 3 partitions", topic, len(td.Partitions), td.Err)
	}
	for _, p := range td.Partitions.Sorted() {
		if len(p.Replicas) != wantReplicas || len(p.ISR) != wantReplicas {
			t.Errorf("partition %d: replicas %v, in sync %v; want %d of each on a %d-broker cluster",
				p.Partition, p.Replicas, p.ISR, wantReplicas, len(brokers))
		}
	}

	configs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatalf("describing configs of %s: %v", topic, err)
	}
	rc, err := configs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("configs of %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == "min.insync.replicas" {
			if got := c.MaybeValue(); got != wantMinISR {
				t.Fatalf("min.insync.replicas = %s, want %s on a %d-broker cluster", got, wantMinISR, len(brokers))
			}
			return
		}
	}
	t.Fatal("topic config has no min.insync.replicas")
}
