package sns_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// BenchmarkPublish measures entries/s through the Publisher, the SDK and the
// in-process double (counting only), with and without SNS-like latency.
//
//	go test -run '^$' -bench BenchmarkPublish -benchtime 2s ./sns/
func BenchmarkPublish(b *testing.B) {
	for _, latency := range []time.Duration{0, 15 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%v", latency), func(b *testing.B) {
			srv := snstest.New(snstest.Options{CountOnly: true})
			arn, err := srv.CreateTopic("bench", nil)
			if err != nil {
				b.Fatal(err)
			}
			if latency > 0 {
				srv.Inject(&snstest.Fault{Latency: latency})
			}
			client := newDoubleClient(b, srv)
			p, err := sns.NewPublisher(client, sns.Config{}, sns.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			body := `{"eventId":"01HZX","eventType":"ticket:created","payload":{"ticket":{"title":"` + strings.Repeat("x", 900) + `"}}}`
			attrs := []sns.Attribute{
				{Name: "event_name", Value: "ticket:created"}, {Name: "event_id", Value: "01HZX"},
				{Name: "context_organization_id", Value: "ORG1"},
			}
			ctx := context.Background()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failed int
			done := func(r sns.Result) {
				if r.Err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
				wg.Done()
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				wg.Add(1)
				p.Publish(ctx, &sns.Entry{TopicARN: arn, Body: body, Attributes: attrs, EventType: "ticket:created"}, done)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
			if failed > 0 || srv.Count(arn) != b.N {
				b.Fatalf("%d failed, topic counted %d of %d", failed, srv.Count(arn), b.N)
			}
		})
	}
}

// BenchmarkHotKey measures one ordering key's events/s when its runs go one
// at a time, the next only after the previous is done (the consumer's
// strict order), against an SNS that answers after a fixed delay: at most
// run length events per round trip, plus the linger when the run does not
// fill a call.
//
//	go test -run '^$' -bench BenchmarkHotKey ./sns/
func BenchmarkHotKey(b *testing.B) {
	const delay = 15 * time.Millisecond
	for _, linger := range []time.Duration{sns.DefaultLinger, sns.NoLinger} {
		for _, runLen := range []int{1, 2, 5, 10} {
			name := fmt.Sprintf("linger=%v/run=%d", max(linger, 0), runLen)
			b.Run(name, func(b *testing.B) {
				sink := newSinkAPI(delay)
				p, err := sns.NewPublisher(sink, sns.Config{Linger: linger}, sns.WithLogger(slog.New(slog.DiscardHandler)))
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				arn := "arn:aws:sns:us-east-1:123456789012:hot"
				b.ResetTimer()
				start := time.Now()
				for sent := 0; sent < b.N; sent += runLen {
					run := make([]*sns.Entry, min(runLen, b.N-sent))
					for i := range run {
						run[i] = &sns.Entry{TopicARN: arn, Body: `{"eventType":"ticket:updated"}`, Size: 100}
					}
					var wg sync.WaitGroup
					wg.Add(len(run))
					p.PublishRun(ctx, "org-hot", run, func(_ int, r sns.Result) {
						if r.Err != nil {
							b.Error(r.Err)
						}
						wg.Done()
					})
					wg.Wait()
				}
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
				if err := p.Close(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
