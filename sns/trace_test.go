package sns_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

const (
	producerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	producerSpanID  = "00f067aa0ba902b7"
	producerParent  = "00-" + producerTraceID + "-" + producerSpanID + "-01"
	producerState   = "congo=t61rcWkgMzE"
)

// tracedPublisher is a publisher over the double whose spans land in rec.
func tracedPublisher(t *testing.T, encoder string) (*sns.Publisher, *snstest.Server, string, *tracetest.SpanRecorder) {
	t.Helper()
	srv := snstest.New(snstest.Options{})
	arn, err := srv.CreateTopic("events", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	p, err := sns.NewPublisher(newSNSClient(t, srv.HTTPClient()), sns.Config{Encoder: encoder, Linger: time.Millisecond},
		sns.WithLogger(slog.New(slog.DiscardHandler)), sns.WithTracer(tp.Tracer("test")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p, srv, arn, rec
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// One span per entry, a child of the producer's context, with the Kafka
// coordinates and the SNS message id; the subscriber's traceparent names
// that span, in the producer's trace, with the producer's tracestate.
func TestPublishSpanContinuesTheProducersTrace(t *testing.T) {
	for _, enc := range encoders {
		t.Run(enc, func(t *testing.T) {
			p, srv, arn, rec := tracedPublisher(t, enc)
			e := &sns.Entry{TopicARN: arn, Body: "traced", EventType: "ticket:created",
				Source: sns.Source{Topic: "thena.events", Partition: 3, Offset: 42},
				Attributes: []sns.Attribute{{Name: "event_name", Value: "ticket:created"},
					{Name: "traceparent", Value: producerParent}, {Name: "tracestate", Value: producerState}}}
			shared := e.Attributes
			res := publishAll(t, p, []*sns.Entry{e})[0]
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			spans := rec.Ended()
			var pub sdktrace.ReadOnlySpan
			for _, s := range spans {
				if s.Name() == "publish events" {
					pub = s
				}
			}
			if pub == nil {
				t.Fatalf("no publish span among %d", len(spans))
			}
			if pub.SpanKind() != trace.SpanKindProducer || pub.Parent().TraceID().String() != producerTraceID ||
				pub.Parent().SpanID().String() != producerSpanID || !pub.Parent().IsRemote() {
				t.Errorf("publish span: kind %v parent %v; want a producer span, child of the producer's %s", pub.SpanKind(), pub.Parent(), producerSpanID)
			}
			a := spanAttrs(pub)
			for k, want := range map[attribute.Key]string{
				"messaging.system": "aws.sns", "messaging.destination.name": arn, "messaging.message.id": res.MessageID,
				"bridge.source.topic": "thena.events", "bridge.event.type": "ticket:created",
			} {
				if got := a[k].AsString(); got != want {
					t.Errorf("span attribute %s = %q, want %q", k, got, want)
				}
			}
			if a["bridge.source.partition"].AsInt64() != 3 || a["bridge.source.offset"].AsInt64() != 42 || a["bridge.sns.attempts"].AsInt64() != 1 {
				t.Errorf("span coordinates: %v", a)
			}

			msgs := srv.Messages(arn)
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			wantParent := fmt.Sprintf("00-%s-%s-01", producerTraceID, pub.SpanContext().SpanID())
			if got := msgs[0].Attributes["traceparent"].StringValue; got != wantParent {
				t.Errorf("subscriber's traceparent %q, want %q (the bridge's span)", got, wantParent)
			}
			if got := msgs[0].Attributes["tracestate"].StringValue; got != producerState {
				t.Errorf("subscriber's tracestate %q, want %q", got, producerState)
			}
			if shared[1].Value != producerParent {
				t.Errorf("the caller's attribute slice was written: %q", shared[1].Value)
			}
		})
	}
}

// Without trace context an entry's span is a root, and the message gets
// no trace attribute the mapping did not give it (its size is mapping's).
func TestPublishSpanWithoutProducerContext(t *testing.T) {
	p, srv, arn, rec := tracedPublisher(t, sns.EncoderDirect)
	res := publishAll(t, p, []*sns.Entry{{TopicARN: arn, Body: "untraced"}})[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var pub sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if strings.HasPrefix(s.Name(), "publish ") {
			pub = s
		}
	}
	if pub == nil || pub.Parent().IsValid() {
		t.Fatalf("publish span %v: want a root span", pub)
	}
	if _, ok := srv.Messages(arn)[0].Attributes["traceparent"]; ok {
		t.Error("a traceparent attribute was added")
	}
}

// A PublishBatch call has a span of its own linking its entries' spans;
// a rejected entry's span says so.
func TestCallSpanLinksItsEntries(t *testing.T) {
	p, srv, arn, rec := tracedPublisher(t, sns.EncoderDirect)
	srv.FailEntries(func(m snstest.Message) bool { return m.Body == "bad" }, "InvalidParameter", true)
	var entries []*sns.Entry
	for _, b := range []string{"a", "bad", "c"} {
		entries = append(entries, &sns.Entry{TopicARN: arn, Body: b,
			Attributes: []sns.Attribute{{Name: "traceparent", Value: producerParent}}})
	}
	results := publishRun(t, p, "ORG1", entries)
	if results[1].Err == nil || results[0].Err != nil || results[2].Err != nil {
		t.Fatalf("results %+v", results)
	}
	var calls []sdktrace.ReadOnlySpan
	pubs := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "send events":
			calls = append(calls, s)
		case "publish events":
			pubs[s.SpanContext().SpanID()] = s
		}
	}
	if len(calls) != 1 || len(pubs) != 3 {
		t.Fatalf("%d call spans and %d publish spans, want 1 and 3", len(calls), len(pubs))
	}
	call := calls[0]
	if call.SpanKind() != trace.SpanKindClient || len(call.Links()) != 3 || spanAttrs(call)["messaging.batch.message_count"].AsInt64() != 3 {
		t.Errorf("call span: kind %v, %d links, attributes %v", call.SpanKind(), len(call.Links()), call.Attributes())
	}
	for _, l := range call.Links() {
		s, ok := pubs[l.SpanContext.SpanID()]
		if !ok {
			t.Errorf("link to %v is no entry's span", l.SpanContext.SpanID())
			continue
		}
		failed := s.Status().Code == codes.Error
		if id := spanAttrs(s)["messaging.message.id"].AsString(); failed != (id == "") {
			t.Errorf("publish span status %v with message id %q", s.Status(), id)
		}
	}
}
