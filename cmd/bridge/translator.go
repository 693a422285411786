package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// translator is the consumer's Translator: decode the record value, then map
// the event to its SNS entry. It holds no state of its own and is safe for
// concurrent use.
type translator struct {
	decoder     *avro.Decoder
	mapper      *mapping.Mapper
	truncations *prometheus.CounterVec // by event type; nil records nothing
}

// buildTranslator makes the decoder and mapper from the settings, the schema
// source and what start-up learnt of the topics; every command that turns
// records into SNS messages (run, demo, translate, dlq) builds it here.
func buildTranslator(s settings, src avro.SchemaSource, topics map[string]mapping.TopicInfo, reg prometheus.Registerer) (*translator, error) {
	dec, err := avro.NewDecoder(src, s.decoderConfig())
	if err != nil {
		return nil, fmt.Errorf("schemas.limits: %w", err)
	}
	m, err := mapping.NewMapper(s.Routing, topics)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return newTranslator(dec, m, reg)
}

func newTranslator(dec *avro.Decoder, m *mapping.Mapper, reg prometheus.Registerer) (*translator, error) {
	t := &translator{decoder: dec, mapper: m}
	if reg != nil {
		t.truncations = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_truncations_total",
			Help: "Events whose large fields were replaced by the placeholder to fit the topic's size limit, by event type.",
		}, []string{"event_type"})
		if err := reg.Register(t.truncations); err != nil {
			return nil, err
		}
	}
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
	msg, err := t.mapper.Map(ev, mapping.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: rec.Key})
	if err != nil {
		return msg, ev, err
	}
	if len(msg.Truncated) > 0 && t.truncations != nil {
		t.truncations.WithLabelValues(msg.EventType).Inc()
	}
	return msg, ev, nil
}
