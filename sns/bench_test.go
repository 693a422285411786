package sns_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// BenchmarkPublish measures entries through the Publisher with each
// encoder: against the stub (the publisher's and its encoder's cost alone;
// an op is one entry, so allocs/op is allocations per entry, of which one
// is the benchmark's own Entry) and against the in-process double (counting
// only, its parsing included), with and without SNS-like latency.
// cpu-us/event is the process's user+system CPU per entry.
//
//	go test -run '^$' -bench BenchmarkPublish -benchmem -count 5 ./sns/
func BenchmarkPublish(b *testing.B) {
	for _, enc := range encoders {
		b.Run("sink=stub/encoder="+enc, func(b *testing.B) {
			client, stub := newStubClient(b)
			benchPublish(b, client, enc, "arn:aws:sns:us-east-1:123456789012:bench",
				func() int { return int(stub.accepted.Load()) })
		})
	}
	// Tracing on, every span sampled and batched to an exporter that drops
	// them: what the spans cost per entry.
	b.Run("sink=stub/encoder=direct/traced", func(b *testing.B) {
		client, stub := newStubClient(b)
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		benchPublish(b, client, sns.EncoderDirect, "arn:aws:sns:us-east-1:123456789012:bench",
			func() int { return int(stub.accepted.Load()) }, sns.WithTracer(tp.Tracer("bench")))
	})
	for _, latency := range []time.Duration{0, 15 * time.Millisecond} {
		for _, enc := range encoders {
			b.Run(fmt.Sprintf("sink=double/latency=%v/encoder=%s", latency, enc), func(b *testing.B) {
				srv := snstest.New(snstest.Options{CountOnly: true})
				arn, err := srv.CreateTopic("bench", nil)
				if err != nil {
					b.Fatal(err)
				}
				if latency > 0 {
					srv.Inject(&snstest.Fault{Latency: latency})
				}
				benchPublish(b, newDoubleClient(b, srv), enc, arn, func() int { return srv.Count(arn) })
			})
		}
	}
}

// benchPublish publishes b.N entries of about 1 KB to arn through client
// and checks that accepted() counts every one.
func benchPublish(b *testing.B, client sns.API, encoder, arn string, accepted func() int, opts ...sns.Option) {
	p, err := sns.NewPublisher(client, sns.Config{Encoder: encoder}, append([]sns.Option{sns.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
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
	var failed atomic.Int64
	done := func(r sns.Result) {
		if r.Err != nil {
			failed.Add(1)
		}
		wg.Done()
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
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
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/event")
	if err := p.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if n := failed.Load(); n > 0 || accepted() != b.N {
		b.Fatalf("%d failed, SNS accepted %d of %d", n, accepted(), b.N)
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
