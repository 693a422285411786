package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/avro"
)

// customObjectAt is a custom object event whose body timestamp is the number
// ms, as the decoder renders CustomObjectEvent's plain long.
func customObjectAt(ms int64) *avro.Event {
	fields := replaceField(envelopeFields("custom-object:deal:created", map[string]any{"deal": map[string]any{"id": "deal-1"}}), "timestamp", json.RawMessage(mustJSON(ms)))
	ev := fromFields(fields...)
	ev.Header.Timestamp, ev.Header.HasTimestamp = time.UnixMilli(ms).UTC(), true
	return ev
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestEventTimestampAttribute: a custom object event's event_timestamp
// attribute is its body's number, Unix milliseconds in decimal
// (thena-events.md §2: "Unix timestamp of the event", as in the body);
// every other event's is ISO-8601. A custom object timestamp below 10^11
// looks like seconds: it is published as given, and flagged.
func TestEventTimestampAttribute(t *testing.T) {
	m := newTestMapper(t, standardConfig(), nil)
	for _, tc := range []struct {
		name        string
		event       *avro.Event
		attr        string
		bodyTS      string
		wantSeconds bool
	}{
		{"ticket event", fromFields(envelopeFields("ticket:created", map[string]any{"ticket": ticket("T1", "t", "d")})...), testTimestamp, `"` + testTimestamp + `"`, false},
		{"custom object in milliseconds", customObjectAt(1795756110123), "1795756110123", "1795756110123", false},
		{"custom object at the threshold", customObjectAt(SecondsThreshold), "100000000000", "100000000000", false},
		{"custom object in seconds", customObjectAt(1795756110), "1795756110", "1795756110", true},
		{"custom object at zero", customObjectAt(0), "0", "0", true},
		{"custom object before 1970", customObjectAt(-1), "-1", "-1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := m.Map(tc.event, testSource)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, m, msg)
			if a := msg.Entry.Attributes[2]; a.Name != AttrEventTimestamp || a.Value != tc.attr {
				t.Errorf("attribute %s = %q, want %q", a.Name, a.Value, tc.attr)
			}
			if !strings.Contains(msg.Entry.Body, `"timestamp":`+tc.bodyTS+`,`) {
				t.Errorf("body timestamp is not %s: %s", tc.bodyTS, msg.Entry.Body)
			}
			if msg.TimestampLooksLikeSeconds != tc.wantSeconds {
				t.Errorf("TimestampLooksLikeSeconds = %v, want %v", msg.TimestampLooksLikeSeconds, tc.wantSeconds)
			}
			at, err := ParseEventTimestamp(tc.attr)
			if err != nil || !at.Equal(msg.EventTime) {
				t.Errorf("ParseEventTimestamp(%q) = %v, %v; want the event time %v", tc.attr, at, err, msg.EventTime)
			}
		})
	}
	if _, err := ParseEventTimestamp("27 Nov 2026"); err == nil {
		t.Error("ParseEventTimestamp accepted text in neither form")
	}
}

// TestRouteOrdering: a route's ordering is strict unless it says relaxed;
// the mapped message carries the route, so the translator can tell the
// delivery engine; a relaxed route to a FIFO topic fails at start-up naming
// the route; an unknown value fails validation naming the field.
func TestRouteOrdering(t *testing.T) {
	cfg := Config{Routes: []Route{
		{Pattern: "custom-object:*", TopicARN: customARN, Ordering: OrderingRelaxed},
		{Pattern: "ticket:*", TopicARN: ticketARN, Ordering: OrderingStrict},
		{Pattern: "account:*", TopicARN: ticketARN},
	}}
	m := newTestMapper(t, cfg, nil)
	for _, tc := range []struct {
		eventType string
		relaxed   bool
	}{
		{"custom-object:deal:created", true},
		{"ticket:created", false},
		{"account:created", false},
	} {
		payload := map[string]any{"x": map[string]any{"id": "1"}}
		msg, err := m.Map(fromFields(envelopeFields(tc.eventType, payload)...), testSource)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Route.Relaxed() != tc.relaxed {
			t.Errorf("%s: Route.Relaxed() = %v, want %v", tc.eventType, msg.Route.Relaxed(), tc.relaxed)
		}
	}

	fifo := Config{Routes: []Route{
		{Pattern: "ticket:*", TopicARN: ticketARN, Ordering: OrderingRelaxed},
		{Pattern: "custom-object:*", TopicARN: "arn:aws:sns:us-east-1:123456789012:objects.fifo", Ordering: OrderingRelaxed},
	}}
	_, err := NewMapper(fifo, nil)
	if err == nil || !strings.Contains(err.Error(), "Routes[1].Ordering") || !strings.Contains(err.Error(), `"custom-object:*"`) || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("relaxed ordering on a FIFO route: %v", err)
	}

	bad := Config{Routes: []Route{{Pattern: "ticket:*", TopicARN: ticketARN, Ordering: "loose"}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `Routes[0].Ordering: "loose": want strict or relaxed`) {
		t.Errorf("unknown ordering: %v", err)
	}
}
