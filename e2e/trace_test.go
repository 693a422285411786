//go:build integration

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// otlpCollector is an OTLP/HTTP trace receiver on loopback that keeps the
// spans it is sent.
type otlpCollector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPCollector(t *testing.T) *otlpCollector {
	c := &otlpCollector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if r.URL.Path != "/v1/traces" || err != nil {
			http.Error(w, fmt.Sprintf("%s: %v", r.URL.Path, err), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// span returns the received span with the given hex span id, nil if none.
func (c *otlpCollector) span(id string) *tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans {
		if fmt.Sprintf("%x", s.SpanId) == id {
			return s
		}
	}
	return nil
}

// TestTraceContextAndFairGroupReachSQS: a record with W3C trace context
// headers reaches an SQS queue subscribed to a standard topic (through moto)
// with a traceparent attribute in the producer's trace naming the bridge's
// publish span, which the bridge exported over OTLP as a child of the
// producer's span with the record's coordinates and the SNS message id; a
// record without trace context gets no trace attribute. The route has
// fair_group, so both carry the record key as their MessageGroupId.
func TestTraceContextAndFairGroupReachSQS(t *testing.T) {
	const (
		traceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
		parentID = "00f067aa0ba902b7"
	)
	topic, dlq := sourceTopic(t, 1)
	arn := testenv.SNSTopic(t, false, nil)
	q := testenv.SubscribeQueue(t, arn, "")
	col := newOTLPCollector(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.srv.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")

	g, err := eventgen.New(14, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	traced, plain := must(g.Record("ticket:created")), must(g.Record("ticket:updated"))
	recs := []*kgo.Record{
		{Topic: topic, Key: traced.Key, Value: reframe(t, traced.Value), Headers: []kgo.RecordHeader{
			{Key: "traceparent", Value: []byte("00-" + traceID + "-" + parentID + "-01")},
			{Key: "tracestate", Value: []byte("congo=t61rcWkgMzE")},
		}},
		{Topic: topic, Key: plain.Key, Value: reframe(t, plain.Value)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := testenv.KafkaClient(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := baseConfig(t, topic, testenv.SNSEndpoint(t))
	cfg.Set("routing.routes", []mapping.Route{{Pattern: "*", TopicARN: arn, FairGroup: true}})
	b := testenv.StartBridge(t, "traced", cfg)

	got := testenv.Receive(t, q.URL, 2, time.Minute)
	if len(got) != 2 {
		t.Fatalf("queue got %d messages, want 2", len(got))
	}
	var spanID string
	for _, m := range got {
		switch m.Attributes["event_name"] {
		case "ticket:created":
			tp := m.Attributes["traceparent"]
			parts := strings.Split(tp, "-")
			if len(parts) != 4 || parts[1] != traceID || parts[2] == parentID || m.Attributes["tracestate"] != "congo=t61rcWkgMzE" {
				t.Errorf("traceparent %q tracestate %q: want the producer's trace with the bridge's span, and the tracestate", tp, m.Attributes["tracestate"])
			}
			if len(parts) == 4 {
				spanID = parts[2]
			}
			if m.MessageGroupID != string(traced.Key) {
				t.Errorf("MessageGroupId %q, want the record key %q", m.MessageGroupID, traced.Key)
			}
		case "ticket:updated":
			if _, ok := m.Attributes["traceparent"]; ok {
				t.Errorf("a record without trace context arrived with traceparent %q", m.Attributes["traceparent"])
			}
			if m.MessageGroupID != string(plain.Key) {
				t.Errorf("MessageGroupId %q, want the record key %q", m.MessageGroupID, plain.Key)
			}
		default:
			t.Errorf("unexpected message %v", m.Attributes)
		}
	}

	var span *tracepb.Span
	if !waitFor(30*time.Second, func() bool { span = col.span(spanID); return span != nil }) {
		t.Fatalf("the collector got no span %s", spanID)
	}
	attrs := map[string]string{}
	for _, kv := range span.Attributes {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			attrs[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			attrs[kv.Key] = fmt.Sprint(v.IntValue)
		}
	}
	if fmt.Sprintf("%x", span.TraceId) != traceID || fmt.Sprintf("%x", span.ParentSpanId) != parentID ||
		span.Kind != tracepb.Span_SPAN_KIND_PRODUCER {
		t.Errorf("span: trace %x parent %x kind %v; want a producer span, child of %s", span.TraceId, span.ParentSpanId, span.Kind, parentID)
	}
	if attrs["bridge.source.topic"] != topic || attrs["bridge.source.offset"] != "0" || attrs["messaging.message.id"] == "" {
		t.Errorf("span attributes %v: want the record's topic and offset and the SNS message id", attrs)
	}
	checkNothingDeadLettered(t, b, dlq)
}
