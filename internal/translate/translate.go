package translate

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/internal/tracecontext"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// Translator decodes a record value and maps the event to its SNS message.
// It implements consumer.Translator. It holds no state of its own beyond its
// counters and the event types it has warned about, and is safe for
// concurrent use.
type Translator struct {
	decoder *avro.Decoder
	mapper  *mapping.Mapper
	// Counters; nil records nothing (the operator tools, the benchmark).
	truncations *prometheus.CounterVec // by event type
	sanitized   *prometheus.CounterVec // by kind
	suspect     *prometheus.CounterVec // custom object timestamps that look like seconds, by event type
	log         *slog.Logger           // nil logs nothing
	warned      warnedTypes
	store       PayloadStore // nil: an offloaded event cannot be published
}

// PayloadStore stores the events mapping offloads, before their pointer
// message is published; *offload.Store satisfies it. Put blocks until the
// object is stored or ctx ends; its error is a *failure.Error.
type PayloadStore interface {
	Put(ctx context.Context, ev *mapping.OffloadedEvent) error
}

// WithPayloadStore makes Translate (and Entry) store each offloaded event
// with s before returning its pointer message. Without it, an event that
// mapping offloads fails Translate as systemic: the bridge never publishes
// a pointer to an object it did not store.
func WithPayloadStore(s PayloadStore) Option {
	return func(t *Translator) { t.store = s }
}

// Option configures a Translator beyond its decoder, mapper and registry.
type Option func(*Translator)

// WithLogger makes the Translator warn, once per event type, about custom
// object events whose timestamp looks like seconds (bridge run). Without it
// the Translator logs nothing (the operator tools, the benchmark).
func WithLogger(log *slog.Logger) Option {
	return func(t *Translator) { t.log = log }
}

// Kinds of bridge_sanitized_values_total: values the decoder rendered other
// than as written (avro.Sanitized).
const (
	SanitizedInvalidUTF8 = "invalid_utf8"      // a string or map key with bytes that are not UTF-8, sent with U+FFFD
	SanitizedNonFinite   = "non_finite_number" // a NaN or infinite float or double, sent as null
)

// New returns a Translator over dec and m. With reg set it registers
// bridge_truncations_total (events whose large fields were replaced to fit
// their topic's size limit), bridge_sanitized_values_total{kind} (values
// published other than as written, SanitizedInvalidUTF8 and
// SanitizedNonFinite) and bridge_suspect_timestamps_total{event_type}
// (custom object events whose timestamp looks like seconds); with reg nil it
// counts nothing (the operator tools, the benchmark).
func New(dec *avro.Decoder, m *mapping.Mapper, reg prometheus.Registerer, opts ...Option) (*Translator, error) {
	if dec == nil || m == nil {
		return nil, errors.New("translate: New needs a decoder and a mapper")
	}
	t := &Translator{decoder: dec, mapper: m}
	for _, opt := range opts {
		opt(t)
	}
	if reg == nil {
		return t, nil
	}
	t.truncations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bridge_truncations_total",
		Help: "Events whose large fields were replaced by the placeholder to fit the topic's size limit, by event type.",
	}, []string{"event_type"})
	t.sanitized = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bridge_sanitized_values_total",
		Help: "Values published other than as the producer wrote them: invalid_utf8 (strings or map keys with bytes that are not UTF-8, sent with U+FFFD), non_finite_number (NaN or infinite floats and doubles, sent as null).",
	}, []string{"kind"})
	t.suspect = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bridge_suspect_timestamps_total",
		Help: "Custom object events whose timestamp is below 10^11, which looks like Unix seconds rather than milliseconds; published as given, by event type.",
	}, []string{"event_type"})
	for _, c := range []prometheus.Collector{t.truncations, t.sanitized, t.suspect} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Both kinds from the start, so a rate() over them has a series.
	t.sanitized.WithLabelValues(SanitizedInvalidUTF8)
	t.sanitized.WithLabelValues(SanitizedNonFinite)
	return t, nil
}

// Translate implements consumer.Translator. An event mapping offloads is
// stored with the PayloadStore first (WithPayloadStore); a failure to store
// it is transient or systemic, so the engine retries it. With an error it still returns
// the event's id, type and org id when decoding got that far, and the topic
// the event was routed to when mapping got that far, so that the dead-letter
// headers name the event and its target.
func (t *Translator) Translate(ctx context.Context, rec *kgo.Record) (consumer.Outbound, error) {
	msg, ev, err := t.Message(ctx, rec)
	if err != nil {
		if ev == nil {
			return consumer.Outbound{}, err
		}
		// Mapping fills what it learnt before failing (the generated id of a
		// custom object event, the route of a too-large one); decoding alone
		// gives the header fields.
		out := consumer.Outbound{
			EventID:   ev.Header.EventID,
			EventType: ev.Header.EventType,
			OrgID:     ev.Header.OrgID,
			EventTime: ev.Header.Timestamp,
			RoutedARN: msg.Route.TopicARN,
		}
		if msg.EventID != "" {
			out.EventID = msg.EventID
		}
		return out, err
	}
	if msg.Offload != nil {
		if err := t.storeOffloaded(ctx, msg.Offload); err != nil {
			return consumer.Outbound{EventID: msg.EventID, EventType: msg.EventType, OrgID: msg.OrgID,
				EventTime: msg.EventTime, RoutedARN: msg.Entry.TopicARN}, err
		}
	}
	entry := msg.Entry
	entry.EventType = msg.EventType
	out := consumer.Outbound{
		Entry:     &entry,
		EventID:   msg.EventID,
		EventType: msg.EventType,
		OrgID:     msg.OrgID,
		EventTime: msg.EventTime,
		Relaxed:   msg.Route.Relaxed(),
	}
	if o := msg.Offload; o != nil {
		out.OffloadObject = "s3://" + o.Bucket + "/" + o.Key
	}
	return out, nil
}

// Entry translates rec into the SNS entry the bridge would publish, or the
// error that stops it (internal/dlq's Translator, for replays to SNS).
func (t *Translator) Entry(ctx context.Context, rec *kgo.Record) (*sns.Entry, error) {
	out, err := t.Translate(ctx, rec)
	return out.Entry, err
}

// Message decodes and maps rec and returns the whole mapping.Message (body,
// attributes, route, truncated fields) and the decoded event, for callers
// that show or publish more than the engine needs. ev is nil when decoding
// failed; msg holds what mapping learnt before an error.
func (t *Translator) Message(ctx context.Context, rec *kgo.Record) (msg mapping.Message, ev *avro.Event, err error) {
	ev, err = t.decoder.Decode(ctx, rec.Value)
	if err != nil {
		return mapping.Message{}, nil, err
	}
	if ev.Sanitized.Any() && t.sanitized != nil {
		t.sanitized.WithLabelValues(SanitizedInvalidUTF8).Add(float64(ev.Sanitized.InvalidUTF8))
		t.sanitized.WithLabelValues(SanitizedNonFinite).Add(float64(ev.Sanitized.NonFinite))
	}
	src := mapping.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: rec.Key}
	src.TraceParent, src.TraceState = traceHeaders(rec.Headers)
	msg, err = t.mapper.Map(ev, src)
	if err != nil {
		return msg, ev, err
	}
	if len(msg.Truncated) > 0 && t.truncations != nil {
		t.truncations.WithLabelValues(msg.EventType).Inc()
	}
	if msg.TimestampLooksLikeSeconds {
		t.suspectTimestamp(msg)
	}
	return msg, ev, nil
}

// AssumedTopics is what a tool without SNS access assumes of the routed
// topics: FIFO when the ARN says so (sns.IsFIFO) and maxSize as every
// topic's MaximumMessageSize.
func AssumedTopics(arns []string, maxSize int) map[string]mapping.TopicInfo {
	topics := make(map[string]mapping.TopicInfo, len(arns))
	for _, arn := range arns {
		topics[arn] = mapping.TopicInfo{FIFO: sns.IsFIFO(arn), MaxMessageSize: maxSize}
	}
	return topics
}

// traceHeaders returns the values of rec's W3C trace context headers, nil
// when absent. Kafka header keys are case-sensitive, but producers
// bridging from HTTP may keep a header's capitals, so the names match
// without case, as HTTP's do; the last of repeated headers wins, as a
// propagator reading the headers into a map would have it.
func traceHeaders(headers []kgo.RecordHeader) (traceParent, traceState []byte) {
	for i := range headers {
		h := &headers[i]
		switch {
		case len(h.Key) == len(tracecontext.TraceParent) && strings.EqualFold(h.Key, tracecontext.TraceParent):
			traceParent = h.Value
		case len(h.Key) == len(tracecontext.TraceState) && strings.EqualFold(h.Key, tracecontext.TraceState):
			traceState = h.Value
		}
	}
	return traceParent, traceState
}

// errNoStore is what an offloaded event meets without a PayloadStore.
var errNoStore = &failure.Error{Class: failure.Systemic, Reason: failure.ReasonForbidden, Code: "NoPayloadStore",
	Err: errors.New("the route offloads large events but the translator has no S3 store")}

// storeOffloaded puts ev with the Translator's store.
func (t *Translator) storeOffloaded(ctx context.Context, ev *mapping.OffloadedEvent) error {
	if t.store == nil {
		return errNoStore
	}
	return t.store.Put(ctx, ev)
}
