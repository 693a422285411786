package dlq

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// A replay to the source topic puts each record back on its source
// partition, or by key hash when the topic no longer has that partition; a
// dead letter without a source fails for good.
func TestKafkaDestinationSendsToTheSourcePartition(t *testing.T) {
	c, r := newCluster(t, nil)
	dest, err := NewKafkaDestination(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	kept := deadletter.Parse(deadLetterRecord(letter{reason: "unroutable", org: "org-1", srcPart: 2, srcOffset: 10}))
	moved := deadletter.Parse(deadLetterRecord(letter{reason: "unroutable", org: "org-2", srcPart: 7, srcOffset: 11}))
	orphan := deadletter.Parse(&kgo.Record{Topic: testDLQ, Value: []byte("x")})
	ctx := context.Background()
	results := make(chan error, 3)
	for _, d := range []deadletter.DeadLetter{kept, moved, orphan} {
		dest.Send(ctx, d, func(err error) { results <- err })
	}
	if err := dest.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var failed []error
	for range 3 {
		if err := <-results; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 || failure.ClassOf(failed[0]) != failure.Permanent || failure.ReasonOf(failed[0]) != "no_source" {
		t.Fatalf("send outcomes: %v, want one permanent no_source", failed)
	}

	b, err := r.Bounds(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	byValue := map[string]*kgo.Record{}
	if err := r.Read(ctx, b, func(d deadletter.DeadLetter) error {
		byValue[string(d.Record.Value)] = d.Record
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(byValue) != 2 {
		t.Fatalf("%d records in the source topic, want 2", len(byValue))
	}
	if got := byValue[string(kept.Record.Value)]; got == nil || got.Partition != 2 || string(got.Key) != "org-1" {
		t.Errorf("the record of source partition 2 went to %+v", got)
	}
	if got := byValue[string(moved.Record.Value)]; got == nil || got.Partition < 0 || got.Partition > 2 {
		t.Errorf("the record of a partition the topic lacks went to %+v", got)
	}
	for _, rec := range byValue {
		if len(rec.Headers) != 2 || rec.Headers[1].Key != deadletter.HeaderReplayCount || string(rec.Headers[1].Value) != "1" {
			t.Errorf("replayed headers %v, want the original traceparent and %s=1", rec.Headers, deadletter.HeaderReplayCount)
		}
	}
}

// Errors of the record itself fail it for good; errors of the cluster stop
// the replay.
func TestRecordRejected(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{kerr.MessageTooLarge, true},
		{fmt.Errorf("producing: %w", kerr.InvalidRecord), true},
		{kerr.CorruptMessage, true},
		{kerr.NotLeaderForPartition, false},
		{kerr.TopicAuthorizationFailed, false},
		{errors.New("connection refused"), false},
	} {
		if got := recordRejected(tc.err); got != tc.want {
			t.Errorf("recordRejected(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
