package avro

import (
	"encoding/json"
	"time"
)

// Event is one decoded Kafka record value: the writer schema's top-level fields
// rendered as natural JSON (the form integrators receive), plus the envelope
// header fields extracted while decoding so that routing and attributes need
// no JSON parsing.
//
// Fields hold the top-level fields in the writer schema's order. Each Value is
// a complete JSON value; all Values of one Event share one backing buffer.
// A top-level field marked "thena.optional" (such as metadata) that is null is
// left out, as it is inside records.
type Event struct {
	SchemaID   int    // schema id from the wire format: the registry's id, or LocalID for the local directory source
	SchemaName string // full name of the writer schema, e.g. "com.thena.events.TicketEvent"
	Fields     []Field
	Header     Header
	// Sanitized counts the values of the record rendered other than as
	// written, because JSON or SNS cannot carry them.
	Sanitized Sanitized
}

// Sanitized counts, for one record, the values the decoder replaced. The
// rendering keeps the event publishable; the counts let the bridge report
// producers that write such values (bridge_sanitized_values_total).
type Sanitized struct {
	// InvalidUTF8 is the number of strings and map keys that held bytes
	// that are not UTF-8, each such sequence rendered as U+FFFD.
	InvalidUTF8 int
	// NonFinite is the number of float and double values that were NaN or
	// an infinity, rendered as null.
	NonFinite int
}

// Any reports whether anything was sanitized.
func (s Sanitized) Any() bool { return s != Sanitized{} }

// Field is one top-level field of an Event, rendered as JSON.
type Field struct {
	Name  string
	Value json.RawMessage
}

// Header is the envelope header of an Event, read from the top-level fields
// eventId, eventType, timestamp, orgId and actor {id, type, email}. A field the
// writer schema lacks, or that is null, is left at its zero value; mapping
// decides which absences are errors.
type Header struct {
	EventID   string
	EventType string
	OrgID     string
	// Timestamp is the event time. HasTimestamp is false when the schema has no
	// timestamp field or it is null.
	Timestamp    time.Time
	HasTimestamp bool
	Actor        Actor
}

// Actor is who caused the event.
type Actor struct {
	ID    string
	Type  string
	Email string
}

// Field returns the JSON of the top-level field name, or nil when absent.
func (e *Event) Field(name string) json.RawMessage {
	for i := range e.Fields {
		if e.Fields[i].Name == name {
			return e.Fields[i].Value
		}
	}
	return nil
}
