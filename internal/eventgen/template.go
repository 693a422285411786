package eventgen

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Template is a generated record whose event time can be set again without
// encoding it again, for load generators that stamp events with the time
// they send them (the benchmark's live producer) at a rate encoding could
// not keep up with. Its value is shared and never modified.
type Template struct {
	key, value  []byte
	tsAt, tsLen int // where the timestamp's zig-zag varint is in value
}

// NewTemplate finds the event timestamp in r's Avro body. Every Thena
// schema has eventId, eventType and then timestamp as its first fields, so
// the first occurrence of the timestamp's encoding after the wire header
// and the two strings is the field.
func NewTemplate(r Record) (Template, error) {
	ms, err := eventMillis(r.Natural)
	if err != nil {
		return Template{}, err
	}
	enc := zigzag(ms)
	i := bytes.Index(r.Value[5:], enc)
	if i < 0 {
		return Template{}, errors.New("event timestamp not found in the record value")
	}
	return Template{key: r.Key, value: r.Value, tsAt: 5 + i, tsLen: len(enc)}, nil
}

// Key is the record key (the organization id).
func (t *Template) Key() []byte { return t.key }

// At returns a copy of the record value with its event time set to ms (Unix
// milliseconds).
func (t *Template) At(ms int64) []byte {
	enc := zigzag(ms)
	v := make([]byte, 0, len(t.value)-t.tsLen+len(enc))
	v = append(v, t.value[:t.tsAt]...)
	v = append(v, enc...)
	return append(v, t.value[t.tsAt+t.tsLen:]...)
}

// eventMillis reads the event time from a generated event's natural form: an
// ISO-8601 string, or Unix milliseconds for custom object events.
func eventMillis(natural map[string]any) (int64, error) {
	switch v := natural["timestamp"].(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, err
		}
		return t.UnixMilli(), nil
	case json.Number:
		return v.Int64()
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case float64:
		if v != math.Trunc(v) {
			return 0, fmt.Errorf("timestamp %v is not whole milliseconds", v)
		}
		return int64(v), nil
	case time.Time:
		return v.UnixMilli(), nil
	}
	return 0, fmt.Errorf("timestamp of type %T", natural["timestamp"])
}

func zigzag(v int64) []byte {
	return binary.AppendUvarint(nil, uint64(v<<1)^uint64(v>>63))
}
