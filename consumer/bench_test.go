package consumer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// benchPublisher acknowledges every run after delay (a real timer: this is
// for benchmarks), on its own goroutine, like an SNS that answers each
// PublishBatch in one round trip.
type benchPublisher struct {
	delay     time.Duration
	wg        sync.WaitGroup
	published atomic.Int64
	first     atomic.Int64 // UnixNano of the first answer
	last      atomic.Int64 // UnixNano of the latest answer
}

func (p *benchPublisher) RunLimit(string) (entries, bytes int) { return 10, 256 << 10 }

func (p *benchPublisher) PublishRun(_ context.Context, _ string, run []*sns.Entry, done func(int, sns.Result)) {
	p.wg.Go(func() {
		if p.delay > 0 {
			<-time.NewTimer(p.delay).C
		}
		now := time.Now().UnixNano()
		p.first.CompareAndSwap(0, now)
		p.last.Store(now)
		p.published.Add(int64(len(run)))
		for i := range run {
			done(i, sns.Result{MessageID: "m", Attempts: 1})
		}
	})
}

// benchEngine runs an engine over b.N records of keys keys spread over
// partitions partitions (kfake on loopback, a translator that only parses
// the test value) until pub acknowledged them all, and reports events/s
// from the first acknowledgement to the last, so that the group join is
// not counted.
func benchEngine(b *testing.B, partitions int32, keys int, cfg Config, pub *benchPublisher) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, srcTopic), kfake.SeedTopics(1, dlqTopic))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	producer, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(srcTopic))
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	recs := make([]*kgo.Record, b.N)
	for i := range recs {
		recs[i] = rec(fmt.Sprintf("org-%04d", i%keys), i/keys, "")
	}
	if err := producer.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	cfg.Brokers, cfg.GroupID, cfg.Topics = c.ListenAddrs(), group, []string{srcTopic}
	e, err := New(cfg, &fakeTranslator{}, pub, WithLogger(testLogger()), WithKafkaOptions(kgo.HeartbeatInterval(100*time.Millisecond)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.ResetTimer()
	go func() { done <- e.Run(ctx) }()
	for pub.published.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	pub.wg.Wait()
	if span := time.Duration(pub.last.Load() - pub.first.Load()); b.N > 1 && span > 0 {
		b.ReportMetric(float64(b.N-1)/span.Seconds(), "events/s")
	}
}

// BenchmarkEngine measures the engine's own overhead from fetch to
// commit-ready: a publisher that acknowledges at once, 64 keys over 8
// partitions.
func BenchmarkEngine(b *testing.B) {
	benchEngine(b, 8, 64, Config{}, &benchPublisher{})
}

// BenchmarkHotKey is one hot key against many keys on one partition, with
// a publisher answering each run after 5ms: one key's throughput is its run
// length per round trip, so events/s scale with MaxRunPerKey until many
// keys share the round trips.
func BenchmarkHotKey(b *testing.B) {
	for _, keys := range []int{1, 1000} {
		for _, runLen := range []int{1, 10} {
			b.Run(fmt.Sprintf("keys=%d/run=%d", keys, runLen), func(b *testing.B) {
				benchEngine(b, 1, keys, Config{MaxRunPerKey: runLen}, &benchPublisher{delay: 5 * time.Millisecond})
			})
		}
	}
}
