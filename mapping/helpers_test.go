package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/avro"
)

const (
	ticketARN       = "arn:aws:sns:us-east-1:123456789012:thena-ticket-events"
	ticketFIFOARN   = "arn:aws:sns:us-east-1:123456789012:thena-ticket-events.fifo"
	customARN       = "arn:aws:sns:us-east-1:123456789012:thena-custom-object-events"
	fallbackARN     = "arn:aws:sns:eu-west-1:123456789012:thena-unrouted"
	testOrgID       = "E7XK2M9Q4T1B8"
	testEventID     = "01JD8X3K5Q9W2N7M4R6T8V0Y2A"
	testTimestamp   = "2026-11-27T05:08:30.123Z"
	testSourceTopic = "thena.platform.events"
)

var testTime = time.Date(2026, 11, 27, 5, 8, 30, 123e6, time.UTC)

// testSource is where the test events come from.
var testSource = Source{Topic: testSourceTopic, Partition: 3, Offset: 42, Key: []byte(testOrgID)}

// field renders v as a top-level field; a json.RawMessage or []byte is used
// as it is, so tests can feed bytes no JSON encoder would produce.
func field(name string, v any) avro.Field {
	switch raw := v.(type) {
	case json.RawMessage:
		return avro.Field{Name: name, Value: raw}
	case []byte:
		return avro.Field{Name: name, Value: raw}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return avro.Field{Name: name, Value: b}
}

// fromFields builds an Event the way the decoder does: Fields as given, the
// Header read from them. Fields whose value is not valid JSON leave the
// header field empty.
func fromFields(fields ...avro.Field) *avro.Event {
	ev := &avro.Event{SchemaName: "com.thena.events.Test", Fields: fields}
	str := func(name string) string {
		var s string
		_ = json.Unmarshal(ev.Field(name), &s)
		return s
	}
	h := &ev.Header
	h.EventID, h.EventType, h.OrgID = str("eventId"), str("eventType"), str("orgId")
	if ts := str("timestamp"); ts != "" {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			h.Timestamp, h.HasTimestamp = t, true
		}
	}
	var actor struct{ ID, Type, Email string }
	if json.Unmarshal(ev.Field("actor"), &actor) == nil {
		h.Actor = avro.Actor{ID: actor.ID, Type: actor.Type, Email: actor.Email}
	}
	return ev
}

var testActor = map[string]any{"id": "U3N8W5K1P7R2Q", "type": "AGENT", "email": "ada.lovelace@example.com"}

// envelopeFields returns the standard envelope fields followed by payload
// (or eventData for custom objects) and the extra fields.
func envelopeFields(eventType string, payload any, extra ...avro.Field) []avro.Field {
	payloadName := "payload"
	if strings.HasPrefix(eventType, CustomObjectPrefix) {
		payloadName = "eventData"
	}
	fields := []avro.Field{
		field("eventId", testEventID),
		field("eventType", eventType),
		field("timestamp", testTimestamp),
		field("orgId", testOrgID),
		field("actor", testActor),
		field(payloadName, payload),
	}
	return append(fields, extra...)
}

// replaceField returns fields with name's value replaced, or removed when v
// is nil.
func replaceField(fields []avro.Field, name string, v any) []avro.Field {
	out := make([]avro.Field, 0, len(fields))
	for _, f := range fields {
		if f.Name != name {
			out = append(out, f)
		} else if v != nil {
			out = append(out, field(name, v))
		}
	}
	return out
}

func ticket(id, title, description string) map[string]any {
	return map[string]any{
		"id": id, "ticketId": "42", "title": title, "description": description,
		"customerContactFirstName": "Zoë", "customerContactLastName": "Ångström",
		"customerContactEmail": "zoe@example.com",
		"priorityId":           "PR1", "statusId": "ST1", "statusName": "Open", "priorityName": "High",
		"sentimentId": "SE1", "sentimentName": "Neutral", "source": "email",
		"createdAt": "2026-11-27T05:00:00.000Z",
		"teamId":    "TM1", "teamName": "Support", "teamIdentifier": "SUP",
		"isEscalated":   false,
		"customer":      map[string]any{"id": "C1", "email": "zoe@example.com", "name": "Zoë Ångström"},
		"assignedTo":    nil,
		"assignedAgent": nil,
		"isArchived":    false,
	}
}

func newTestMapper(t testing.TB, cfg Config, topics map[string]TopicInfo) *Mapper {
	t.Helper()
	m, err := NewMapper(cfg, topics)
	if err != nil {
		t.Fatalf("NewMapper: %v", err)
	}
	return m
}

func standardConfig() Config {
	return Config{Routes: StandardRoutes(ticketARN, customARN)}
}
