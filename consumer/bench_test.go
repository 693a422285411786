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

// instantPublisher acknowledges every entry at once, on its own goroutine.
type instantPublisher struct {
	wg        sync.WaitGroup
	published atomic.Int64
}

func (p *instantPublisher) Publish(_ context.Context, e *sns.Entry, done func(sns.Result)) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.published.Add(1)
		done(sns.Result{MessageID: "m", Attempts: 1})
	}()
}

// BenchmarkEngine measures the engine's own overhead from fetch to
// commit-ready: kfake on loopback, a translator that only parses the test
// value, and a publisher that acknowledges at once. Keys: 64 over 8
// partitions.
func BenchmarkEngine(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, srcTopic), kfake.SeedTopics(1, dlqTopic))
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
		recs[i] = rec(fmt.Sprintf("org-%02d", i%64), i/64, "")
	}
	if err := producer.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	pub := &instantPublisher{}
	e, err := New(Config{Brokers: c.ListenAddrs(), GroupID: group, Topics: []string{srcTopic}}, &fakeTranslator{}, pub,
		WithLogger(testLogger()), WithKafkaOptions(kgo.HeartbeatInterval(100*time.Millisecond)))
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
