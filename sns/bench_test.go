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
