package mapping

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/thena-ai/kafka-sns-bridge/avro"
)

// envelope writes the JSON body: the event's fields in order, with the
// changes the contract asks for. Its len is exact, so that the body takes one
// allocation and sizes are known before anything is written.
type envelope struct {
	fields []avro.Field
	custom bool
	millis int64
	// genID is the generated eventId, nil when the event has one.
	genID []byte
	// override replaces fields' values by index (truncation only); nil on
	// the common path.
	override []json.RawMessage
	// extraMetadata is appended as "metadata" when the event has no metadata
	// field (truncation only).
	extraMetadata json.RawMessage
}

// value returns what the body holds for field i, or nil when the field is
// left out.
func (e *envelope) value(i int) []byte {
	f := &e.fields[i]
	if e.override != nil && e.override[i] != nil {
		return e.override[i]
	}
	if len(f.Value) == 0 {
		return nil // not JSON; the decoder promises this never happens
	}
	if f.Name == "metadata" && isNull(f.Value) {
		return nil
	}
	return f.Value
}

func (e *envelope) hasField(name string) bool {
	for i := range e.fields {
		if e.fields[i].Name == name {
			return true
		}
	}
	return false
}

func (e *envelope) len() int {
	n := 2 // {}
	members := 0
	if e.genID != nil && !e.hasField("eventId") {
		n += len(`"eventId":""`) + len(e.genID)
		members++
	}
	for i := range e.fields {
		f := &e.fields[i]
		var vlen int
		switch {
		case f.Name == "eventId" && e.genID != nil:
			vlen = len(e.genID) + 2
		case f.Name == "timestamp" && e.custom:
			vlen = intLen(e.millis)
		default:
			v := e.value(i)
			if v == nil {
				continue
			}
			vlen = len(v)
		}
		n += keyLen(f.Name) + vlen
		members++
	}
	if e.extraMetadata != nil {
		n += len(`"metadata":`) + len(e.extraMetadata)
		members++
	}
	if members > 1 {
		n += members - 1 // commas
	}
	return n
}

func (e *envelope) writeTo(b *strings.Builder) {
	b.WriteByte('{')
	comma := false
	sep := func() {
		if comma {
			b.WriteByte(',')
		}
		comma = true
	}
	if e.genID != nil && !e.hasField("eventId") {
		sep()
		b.WriteString(`"eventId":"`)
		b.Write(e.genID)
		b.WriteByte('"')
	}
	for i := range e.fields {
		f := &e.fields[i]
		switch {
		case f.Name == "eventId" && e.genID != nil:
			sep()
			writeKey(b, f.Name)
			b.WriteByte('"')
			b.Write(e.genID)
			b.WriteByte('"')
		case f.Name == "timestamp" && e.custom:
			sep()
			writeKey(b, f.Name)
			var buf [20]byte
			b.Write(strconv.AppendInt(buf[:0], e.millis, 10))
		default:
			v := e.value(i)
			if v == nil {
				continue
			}
			sep()
			writeKey(b, f.Name)
			b.Write(v)
		}
	}
	if e.extraMetadata != nil {
		sep()
		b.WriteString(`"metadata":`)
		b.Write(e.extraMetadata)
	}
	b.WriteByte('}')
}

// simpleKey reports whether name can be written between quotes as it is. Avro
// names always can ([A-Za-z_][A-Za-z0-9_]*).
func simpleKey(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// keyLen is the length of `"name":`.
func keyLen(name string) int {
	if simpleKey(name) {
		return len(name) + 3
	}
	q, _ := json.Marshal(name)
	return len(q) + 1
}

func writeKey(b *strings.Builder, name string) {
	if simpleKey(name) {
		b.WriteByte('"')
		b.WriteString(name)
		b.WriteString(`":`)
		return
	}
	q, _ := json.Marshal(name) // replaces invalid UTF-8, escapes the rest
	b.Write(q)
	b.WriteByte(':')
}

func intLen(v int64) int {
	var buf [20]byte
	return len(strconv.AppendInt(buf[:0], v, 10))
}

func isNull(v []byte) bool {
	return string(v) == "null" || string(bytes.TrimSpace(v)) == "null"
}
