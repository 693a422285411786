package avro

import (
	"errors"
	"fmt"
	"math"
)

// Errors a transcoder returns for bytes that are not valid for the writer
// schema. Decode wraps them in a Permanent failure with reason undecodable.
var (
	// ErrTruncated means the body ended before the writer schema was satisfied.
	ErrTruncated = errors.New("avro body ends early")
	// ErrTrailingBytes means bytes were left after the top-level record.
	ErrTrailingBytes = errors.New("bytes left after the record")
	// ErrLimit means a configured limit (string length, collection items,
	// nesting depth, rendered size) was exceeded.
	ErrLimit = errors.New("limit exceeded")
	// ErrMalformed means a value is not valid Avro (bad varint, boolean,
	// union branch, enum symbol or negative length).
	ErrMalformed = errors.New("malformed avro")
)

// Header capture slots: the top-level string fields the transcoder copies
// into Event.Header while rendering them.
const (
	slotNone = iota - 1
	slotEventID
	slotEventType
	slotOrgID
	slotActorID
	slotActorType
	slotActorEmail
	numSlots
	slotTimestamp = 100
)

type span struct {
	start, end int
	set        bool
}

// machine is the state of one decode: the Avro input, the JSON output and the
// header fields captured on the way. Machines are pooled; a machine is used by
// one goroutine at a time.
type machine struct {
	in    []byte
	pos   int
	out   []byte
	depth int
	lim   limits

	hdr   []byte
	spans [numSlots]span
	// spansTop are the top-level fields' spans of out, reused across decodes.
	spansTop []span
	ts       int64
	tsUnit   int64 // 1 for ms, 1000 for µs
	hasTS    bool
	// sanitized counts the values rendered other than as written.
	sanitized Sanitized
}

type limits struct {
	maxString, maxItems, maxDepth, maxOut int
}

func (m *machine) reset(in []byte, lim limits) {
	m.in, m.pos, m.depth, m.lim = in, 0, 0, lim
	m.out = m.out[:0]
	m.hdr = m.hdr[:0]
	m.spans = [numSlots]span{}
	m.hasTS = false
	m.sanitized = Sanitized{}
}

// appendText appends a string or map key of the record as JSON, counting it
// when it held invalid UTF-8.
func (m *machine) appendText(out, b []byte) []byte {
	out, replaced := appendStringChecked(out, b)
	if replaced {
		m.sanitized.InvalidUTF8++
	}
	return out
}

// appendNumber appends a float or double of the record as JSON, counting it
// when it was NaN or an infinity (rendered null).
func (m *machine) appendNumber(out []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		m.sanitized.NonFinite++
	}
	return appendFloat(out, f, bits)
}

func (m *machine) readLong() (int64, error) {
	var v uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if m.pos >= len(m.in) {
			return 0, ErrTruncated
		}
		b := m.in[m.pos]
		m.pos++
		if shift == 63 && b > 1 {
			return 0, fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed)
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(v>>1) ^ -int64(v&1), nil
		}
	}
	return 0, fmt.Errorf("%w: varint longer than 10 bytes", ErrMalformed)
}

func (m *machine) readInt() (int64, error) {
	v, err := m.readLong()
	if err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
		return 0, fmt.Errorf("%w: int %d out of range", ErrMalformed, v)
	}
	return v, err
}

// readBytes reads a length-prefixed string or bytes value. The result
// aliases the input.
func (m *machine) readBytes() ([]byte, error) {
	n, err := m.readLong()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: negative length %d", ErrMalformed, n)
	}
	if n > int64(m.lim.maxString) {
		return nil, fmt.Errorf("%w: string or bytes of %d bytes exceeds MaxStringBytes %d", ErrLimit, n, m.lim.maxString)
	}
	if n > int64(len(m.in)-m.pos) {
		return nil, ErrTruncated
	}
	b := m.in[m.pos : m.pos+int(n)]
	m.pos += int(n)
	return b, nil
}

func (m *machine) readFixed(n int) ([]byte, error) {
	if n > len(m.in)-m.pos {
		return nil, ErrTruncated
	}
	b := m.in[m.pos : m.pos+n]
	m.pos += n
	return b, nil
}

func (m *machine) enter() error {
	m.depth++
	if m.depth > m.lim.maxDepth {
		return fmt.Errorf("%w: nesting deeper than MaxDepth %d", ErrLimit, m.lim.maxDepth)
	}
	return nil
}

func (m *machine) checkOut(out []byte) error {
	if len(out) > m.lim.maxOut {
		return fmt.Errorf("%w: rendered JSON exceeds MaxJSONBytes %d", ErrLimit, m.lim.maxOut)
	}
	return nil
}

// readBlockCount reads the item count of the next array or map block; a
// negative count is followed by the block's byte size, which is skipped.
func (m *machine) readBlockCount(total *int64) (int64, error) {
	n, err := m.readLong()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, fmt.Errorf("%w: block count out of range", ErrMalformed)
		}
		n = -n
		if _, err := m.readLong(); err != nil {
			return 0, err
		}
	}
	*total += n
	if *total > int64(m.lim.maxItems) {
		return 0, fmt.Errorf("%w: collection of more than MaxItems %d items", ErrLimit, m.lim.maxItems)
	}
	return n, nil
}
