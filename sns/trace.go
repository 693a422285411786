// Spans: with WithTracer, one span per entry from PublishRun to its done
// (a child of the producer's trace context when the entry carries a
// traceparent attribute), one span per PublishBatch call linking the
// entries it carried, and the entry's traceparent attribute rewritten to
// name the entry's span, so that subscribers continue the trace from the
// bridge. Without a tracer none of this runs: the hot path pays a nil
// check.

package sns

import (
	"context"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/thena-ai/kafka-sns-bridge/internal/tracecontext"
)

// Span attribute keys of the bridge's own, beside the OpenTelemetry
// messaging conventions: the Kafka record an entry came from (named like
// the dead-letter headers bridge.source.*), its event type, and how many
// PublishBatch calls carried it.
const (
	SpanAttrSourceTopic     = attribute.Key("bridge.source.topic")
	SpanAttrSourcePartition = attribute.Key("bridge.source.partition")
	SpanAttrSourceOffset    = attribute.Key("bridge.source.offset")
	SpanAttrEventType       = attribute.Key("bridge.event.type")
	SpanAttrAttempts        = attribute.Key("bridge.sns.attempts")
)

// WithTracer makes the publisher emit spans through tr (see the package
// documentation, "Tracing"); nil, the default, emits none.
func WithTracer(tr trace.Tracer) Option { return func(p *Publisher) { p.tracer = tr } }

// topicSpans is what a topic's spans share, built once per topic.
type topicSpans struct {
	publish, send string // span names
	dest          attribute.KeyValue
}

func newTopicSpans(arn string) *topicSpans {
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	return &topicSpans{publish: "publish " + name, send: "send " + name, dest: semconv.MessagingDestinationName(arn)}
}

// attrCarrier lets the W3C propagator read and write an entry's attributes.
type attrCarrier struct{ attrs *[]Attribute }

func (c attrCarrier) Get(key string) string {
	for _, a := range *c.attrs {
		if a.Name == key {
			return a.Value
		}
	}
	return ""
}

// Set replaces an attribute the entry has; it adds none, so that the
// entry's size as mapping measured it stays an upper bound.
func (c attrCarrier) Set(key, value string) {
	for i, a := range *c.attrs {
		if a.Name == key {
			if a.Value != value {
				// The caller's slice may be shared (replays, tests): write a copy.
				*c.attrs = slices.Clone(*c.attrs)
				(*c.attrs)[i].Value = value
			}
			return
		}
	}
}

func (c attrCarrier) Keys() []string {
	return []string{tracecontext.TraceParent, tracecontext.TraceState}
}

var w3c = propagation.TraceContext{}

// startSpan starts it's publish span, as a child of the trace context in
// its entry's attributes, and points the entry's traceparent at it.
func (t *topic) startSpan(it *item) {
	e := it.e
	c := attrCarrier{&e.Attributes}
	parent := w3c.Extract(context.Background(), c)
	attrs := [...]attribute.KeyValue{
		semconv.MessagingSystemAWSSNS,
		semconv.MessagingOperationTypeSend,
		semconv.MessagingOperationName("publish"),
		t.spans.dest,
		SpanAttrSourceTopic.String(e.Source.Topic),
		SpanAttrSourcePartition.Int64(int64(e.Source.Partition)),
		SpanAttrSourceOffset.Int64(e.Source.Offset),
		SpanAttrEventType.String(e.EventType),
	}
	ctx, span := t.p.tracer.Start(parent, t.spans.publish,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs[:]...))
	if c.Get(tracecontext.TraceParent) != "" {
		w3c.Inject(ctx, c)
	}
	it.span = span
}

// endSpan ends it's span with the entry's outcome.
func endSpan(it *item, res Result) {
	span := it.span
	if span == nil {
		return
	}
	span.SetAttributes(SpanAttrAttempts.Int(res.Attempts))
	if res.Err != nil {
		span.RecordError(res.Err)
		span.SetStatus(codes.Error, res.Err.Error())
	} else {
		span.SetAttributes(semconv.MessagingMessageID(res.MessageID))
	}
	span.End()
}

// startCallSpan starts the span of one PublishBatch call, linked to the
// spans of the entries it carries; nil without a tracer.
func (t *topic) startCallSpan(slots []slot) trace.Span {
	if t.spans == nil {
		return nil
	}
	links := make([]trace.Link, 0, len(slots))
	for _, s := range slots {
		if s.it.span != nil {
			links = append(links, trace.Link{SpanContext: s.it.span.SpanContext()})
		}
	}
	_, span := t.p.tracer.Start(context.Background(), t.spans.send,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(links...),
		trace.WithAttributes(semconv.MessagingSystemAWSSNS, semconv.MessagingOperationTypeSend,
			semconv.MessagingOperationName("PublishBatch"), t.spans.dest,
			semconv.MessagingBatchMessageCount(len(slots))))
	return span
}

// endCallSpan ends a call's span with the call's error, if any.
func endCallSpan(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
