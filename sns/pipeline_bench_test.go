package sns_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// BenchmarkPipeline is one event's way through the bridge's own code, from
// a Kafka record's bytes to an entry SNS accepted: decode and map
// (internal/translate, as the consumer calls it), PublishRun of a run of
// one (a uniform backlog over many organizations) with its partition's
// context, batching, the encoder,
// and the answer settled, against the stub SNS. Kafka and the consumer's
// engine are not in it (cmd/bench's drain measures those). An op is one
// event: allocs/op is allocations per event; cpu-us/event is the process's
// user+system CPU per event.
//
//	go test -run '^$' -bench BenchmarkPipeline -benchmem -count 5 ./sns/
func BenchmarkPipeline(b *testing.B) {
	const arn = "arn:aws:sns:us-east-1:123456789012:thena-events"
	g, err := eventgen.New(1, eventgen.Options{Orgs: 10000})
	if err != nil {
		b.Fatal(err)
	}
	dec, err := avro.NewDecoder(g.Source(), avro.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	m, err := mapping.NewMapper(mapping.Config{Routes: mapping.StandardRoutes(arn, arn)},
		map[string]mapping.TopicInfo{arn: {MaxMessageSize: sns.DefaultMaxMessageSize}})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := translate.New(dec, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	var records []*kgo.Record
	for i, r := range g.Mixed(2000) {
		records = append(records, &kgo.Record{Topic: "thena.events", Partition: int32(i % 12), Offset: int64(i),
			Key: r.Key, Value: r.Value})
	}
	for _, enc := range encoders {
		b.Run("encoder="+enc, func(b *testing.B) {
			client, stub := newStubClient(b)
			p, err := sns.NewPublisher(client, sns.Config{Encoder: enc}, sns.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// One context per partition, as the consumer passes them.
			partitions := make([]context.Context, 12)
			for i := range partitions {
				var cancel context.CancelFunc
				partitions[i], cancel = context.WithCancel(ctx)
				defer cancel()
			}
			// Warm the schema cache: the first record of each schema fetches it.
			for _, rec := range records {
				if _, err := tr.Translate(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			var failed atomic.Int64
			done := func(_ int, r sns.Result) {
				if r.Err != nil {
					failed.Add(1)
				}
				wg.Done()
			}
			var run [1]*sns.Entry
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				rec := records[i%len(records)]
				out, err := tr.Translate(ctx, rec)
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				run[0] = out.Entry
				p.PublishRun(partitions[rec.Partition], string(rec.Key), run[:], done)
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/event")
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
			if n := failed.Load(); n > 0 || stub.accepted.Load() != int64(b.N) {
				b.Fatalf("%d failed, SNS accepted %d of %d", n, stub.accepted.Load(), b.N)
			}
		})
	}
}
