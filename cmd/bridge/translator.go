package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// translator is the consumer's Translator: decode the record value, then map
// the event to its SNS entry. It holds no state of its own beyond its
// counters and the event types it has warned about, and is safe for
// concurrent use.
type translator struct {
	decoder *avro.Decoder
	mapper  *mapping.Mapper
	// Counters; nil records nothing (the operator tools).
	truncations *prometheus.CounterVec // by event type
	sanitized   *prometheus.CounterVec // by kind
	suspect     *prometheus.CounterVec // custom object timestamps that look like seconds, by event type
	log         *slog.Logger           // nil logs nothing
	warned      warnedTypes
}

// Kinds of bridge_sanitized_values_total: values the decoder rendered other
// than as written (avro.Sanitized).
const (
	sanitizedInvalidUTF8 = "invalid_utf8"      // a string or map key with bytes that are not UTF-8, sent with U+FFFD
	sanitizedNonFinite   = "non_finite_number" // a NaN or infinite float or double, sent as null
)

// buildTranslator makes the decoder and mapper from the settings, the schema
// source and what start-up learnt of the topics; every command that turns
// records into SNS messages (run, demo, translate, dlq) builds it here. With
// reg nil it counts nothing, with log nil it logs nothing.
func buildTranslator(s settings, src avro.SchemaSource, topics map[string]mapping.TopicInfo, reg prometheus.Registerer, log *slog.Logger) (*translator, error) {
	dec, err := avro.NewDecoder(src, s.decoderConfig())
	if err != nil {
		return nil, fmt.Errorf("schemas.limits: %w", err)
	}
	m, err := mapping.NewMapper(s.Routing, topics)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return newTranslator(dec, m, reg, log)
}

func newTranslator(dec *avro.Decoder, m *mapping.Mapper, reg prometheus.Registerer, log *slog.Logger) (*translator, error) {
	t := &translator{decoder: dec, mapper: m, log: log}
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
	t.sanitized.WithLabelValues(sanitizedInvalidUTF8)
	t.sanitized.WithLabelValues(sanitizedNonFinite)
	return t, nil
}

// Translate implements consumer.Translator. With an error it still returns
// the event's id, type and org id when decoding got that far, so that the
// dead-letter headers name the event.
func (t *translator) Translate(ctx context.Context, rec *kgo.Record) (consumer.Outbound, error) {
	msg, ev, err := t.translate(ctx, rec)
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
	entry := msg.Entry
	entry.EventType = msg.EventType
	return consumer.Outbound{
		Entry:     &entry,
		EventID:   msg.EventID,
		EventType: msg.EventType,
		OrgID:     msg.OrgID,
		EventTime: msg.EventTime,
	}, nil
}

// translate decodes and maps one record; ev is nil when decoding failed.
func (t *translator) translate(ctx context.Context, rec *kgo.Record) (mapping.Message, *avro.Event, error) {
	ev, err := t.decoder.Decode(ctx, rec.Value)
	if err != nil {
		return mapping.Message{}, nil, err
	}
	if ev.Sanitized.Any() && t.sanitized != nil {
		t.sanitized.WithLabelValues(sanitizedInvalidUTF8).Add(float64(ev.Sanitized.InvalidUTF8))
		t.sanitized.WithLabelValues(sanitizedNonFinite).Add(float64(ev.Sanitized.NonFinite))
	}
	msg, err := t.mapper.Map(ev, mapping.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: rec.Key})
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

// suspectTimestamp counts a custom object event whose timestamp looks like
// seconds and warns once per event type: the producer has one bug, not one
// per event, and the log must not grow with the traffic.
func (t *translator) suspectTimestamp(msg mapping.Message) {
	if t.suspect != nil {
		t.suspect.WithLabelValues(msg.EventType).Inc()
	}
	if t.log == nil || !t.warned.first(msg.EventType) {
		return
	}
	t.log.Warn("custom object timestamp looks like Unix seconds, not milliseconds; published as given (further events of this type are only counted in bridge_suspect_timestamps_total)",
		"event_type", msg.EventType, "event_id", msg.EventID, "timestamp_ms", msg.EventTime.UnixMilli())
}

// maxWarnedTypes bounds warnedTypes: event types come from outside, and a
// stream of ever new ones must not grow memory without end. Past it, new
// types are counted but not logged.
const maxWarnedTypes = 1000

// warnedTypes is the set of event types already warned about.
type warnedTypes struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// first reports whether eventType is new to the set, adding it, and false
// once the set is full.
func (w *warnedTypes) first(eventType string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.seen[eventType]; ok || len(w.seen) >= maxWarnedTypes {
		return false
	}
	if w.seen == nil {
		w.seen = make(map[string]struct{})
	}
	w.seen[eventType] = struct{}{}
	return true
}
