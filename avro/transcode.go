package avro

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	havro "github.com/hamba/avro/v2"
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

// decodeFn reads one value of its schema from m.in and appends its JSON to
// out. The output buffer is passed and returned rather than kept in m, so the
// hot path stores no pointers to the heap (no GC write barriers).
type decodeFn func(m *machine, out []byte) ([]byte, error)

// program is a compiled writer schema: one decoder per top-level field.
type program struct {
	name   string
	fields []topField
}

type topField struct {
	name string
	fieldProg
}

// fieldProg renders one record field. An optional field (a ["null", T] union
// with "thena.optional": true) is left out when null.
type fieldProg struct {
	key      []byte // `"name":`
	fn       decodeFn
	optional bool
	nullIdx  int64
	valIdx   int64
	branch   decodeFn
}

// recordProg is a compiled record. It is allocated before its fields are
// compiled, so recursive records (JsonValue) refer to it before it is done.
type recordProg struct {
	fields []fieldProg
	inline bool // a JsonValue wrapper: render the single field's value only
	fn     decodeFn
}

type compiler struct {
	records map[string]*recordProg
}

// compile builds the transcoder for a top-level record schema.
func compile(s havro.Schema) (*program, error) {
	rec, ok := deref(s).(*havro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("writer schema is a %s, want a record", s.Type())
	}
	c := &compiler{records: map[string]*recordProg{}}
	p := &program{name: rec.FullName()}
	for _, f := range rec.Fields() {
		slot := slotNone
		var fp fieldProg
		var err error
		switch f.Name() {
		case "eventId":
			slot = slotEventID
		case "eventType":
			slot = slotEventType
		case "orgId":
			slot = slotOrgID
		case "timestamp":
			slot = slotTimestamp
		}
		if ar, ok := deref(f.Type()).(*havro.RecordSchema); ok && f.Name() == "actor" {
			var rp *recordProg
			rp, err = c.record(ar, map[string]int{"id": slotActorID, "type": slotActorType, "email": slotActorEmail})
			if err == nil {
				fp = fieldProg{key: fieldKey(f.Name()), fn: rp.fn}
			}
		} else {
			fp, err = c.field(f, slot)
		}
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name(), err)
		}
		p.fields = append(p.fields, topField{name: f.Name(), fieldProg: fp})
	}
	return p, nil
}

// isJSONValue reports whether rec is a free-form JSON value wrapper, which
// renders as its one field's value: a record named JsonValue (in any
// namespace) with exactly one field, named value. The event schemas'
// JsonValue is recursive; the wrapper does not count towards nesting depth.
func isJSONValue(rec *havro.RecordSchema) bool {
	fields := rec.Fields()
	return rec.Name() == "JsonValue" && len(fields) == 1 && fields[0].Name() == "value"
}

func deref(s havro.Schema) havro.Schema {
	if r, ok := s.(*havro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func fieldKey(name string) []byte {
	return append(appendString(nil, []byte(name)), ':')
}

func (c *compiler) field(f *havro.Field, slot int) (fieldProg, error) {
	fn, err := c.compile(f.Type(), slot)
	if err != nil {
		return fieldProg{}, err
	}
	fp := fieldProg{key: fieldKey(f.Name()), fn: fn}
	if opt, _ := f.Prop("thena.optional").(bool); opt {
		if u, ok := f.Type().(*havro.UnionSchema); ok && u.Nullable() {
			nullIdx, valIdx := u.Indices()
			branch, err := c.compile(u.Types()[valIdx], slot)
			if err != nil {
				return fieldProg{}, err
			}
			fp.optional, fp.nullIdx, fp.valIdx, fp.branch = true, int64(nullIdx), int64(valIdx), branch
		}
	}
	return fp, nil
}

// record compiles a record. slots, when not nil, names fields whose string
// values are captured into the header; such a record is compiled on its own
// and not shared.
func (c *compiler) record(rec *havro.RecordSchema, slots map[string]int) (*recordProg, error) {
	if slots == nil {
		if rp, ok := c.records[rec.FullName()]; ok {
			return rp, nil
		}
	}
	rp := &recordProg{}
	if slots == nil {
		c.records[rec.FullName()] = rp
	}
	fields := rec.Fields()
	rp.inline = isJSONValue(rec)
	for _, f := range fields {
		slot := slotNone
		if s, ok := slots[f.Name()]; ok {
			slot = s
		}
		fp, err := c.field(f, slot)
		if err != nil {
			return nil, fmt.Errorf("record %s field %s: %w", rec.FullName(), f.Name(), err)
		}
		rp.fields = append(rp.fields, fp)
	}
	if rp.inline {
		rp.fn = rp.fields[0].fn
		return rp, nil
	}
	rp.fn = rp.decode
	return rp, nil
}

func (rp *recordProg) decode(m *machine, out []byte) ([]byte, error) {
	if err := m.enter(); err != nil {
		return out, err
	}
	out = append(out, '{')
	first := true
	for i := range rp.fields {
		f := &rp.fields[i]
		fn := f.fn
		if f.optional {
			idx, err := m.readLong()
			if err != nil {
				return out, err
			}
			if idx == f.nullIdx {
				continue
			}
			if idx != f.valIdx {
				return out, fmt.Errorf("%w: union branch %d out of range", ErrMalformed, idx)
			}
			fn = f.branch
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, f.key...)
		var err error
		if out, err = fn(m, out); err != nil {
			return out, err
		}
	}
	out = append(out, '}')
	m.depth--
	return out, nil
}

func (c *compiler) compile(s havro.Schema, slot int) (decodeFn, error) {
	switch s := s.(type) {
	case *havro.RefSchema:
		return c.compile(s.Schema(), slot)
	case *havro.NullSchema:
		return func(m *machine, out []byte) ([]byte, error) { return append(out, "null"...), nil }, nil
	case *havro.RecordSchema:
		rp, err := c.record(s, nil)
		if err != nil {
			return nil, err
		}
		// rp.fn may not be set yet for a recursive reference: call through rp.
		return func(m *machine, out []byte) ([]byte, error) { return rp.fn(m, out) }, nil
	case *havro.EnumSchema:
		symbols := make([][]byte, len(s.Symbols()))
		for i, sym := range s.Symbols() {
			symbols[i] = appendString(nil, []byte(sym))
		}
		return func(m *machine, out []byte) ([]byte, error) {
			i, err := m.readInt()
			if err != nil {
				return out, err
			}
			if i < 0 || i >= int64(len(symbols)) {
				return out, fmt.Errorf("%w: enum index %d out of range", ErrMalformed, i)
			}
			out = append(out, symbols[i]...)
			return out, nil
		}, nil
	case *havro.ArraySchema:
		return c.array(s)
	case *havro.MapSchema:
		return c.mapOf(s)
	case *havro.UnionSchema:
		return c.union(s, slot)
	case *havro.FixedSchema:
		size := s.Size()
		if dec, ok := s.Logical().(*havro.DecimalLogicalSchema); ok {
			scale := dec.Scale()
			return func(m *machine, out []byte) ([]byte, error) {
				b, err := m.readFixed(size)
				if err != nil {
					return out, err
				}
				out = appendDecimal(out, b, scale)
				return out, nil
			}, nil
		}
		return func(m *machine, out []byte) ([]byte, error) {
			b, err := m.readFixed(size)
			if err != nil {
				return out, err
			}
			out = appendBase64(out, b)
			return out, nil
		}, nil
	case *havro.PrimitiveSchema:
		return c.primitive(s, slot)
	default:
		return nil, fmt.Errorf("unsupported schema type %s", s.Type())
	}
}

func appendBase64(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func (c *compiler) primitive(s *havro.PrimitiveSchema, slot int) (decodeFn, error) {
	var logical havro.LogicalType
	if l := s.Logical(); l != nil {
		logical = l.Type()
	}
	switch s.Type() {
	case havro.Boolean:
		return func(m *machine, out []byte) ([]byte, error) {
			if m.pos >= len(m.in) {
				return out, ErrTruncated
			}
			switch m.in[m.pos] {
			case 0:
				out = append(out, "false"...)
			case 1:
				out = append(out, "true"...)
			default:
				return out, fmt.Errorf("%w: boolean byte 0x%02x", ErrMalformed, m.in[m.pos])
			}
			m.pos++
			return out, nil
		}, nil
	case havro.Int:
		switch logical {
		case havro.Date:
			return func(m *machine, out []byte) ([]byte, error) {
				v, err := m.readInt()
				out = appendDate(out, v)
				return out, err
			}, nil
		case havro.TimeMillis:
			return func(m *machine, out []byte) ([]byte, error) {
				v, err := m.readInt()
				if err != nil {
					return out, err
				}
				_, v = floorDiv(v, msPerDay)
				out = append(appendClock(append(out, '"'), v), '"')
				return out, nil
			}, nil
		}
		return func(m *machine, out []byte) ([]byte, error) {
			v, err := m.readInt()
			out = appendInt(out, v)
			return out, err
		}, nil
	case havro.Long:
		unit, zone := int64(0), "Z"
		switch logical {
		case havro.TimestampMillis:
			unit = 1
		case havro.TimestampMicros:
			unit = 1000
		case havro.LocalTimestampMillis:
			unit, zone = 1, ""
		case havro.LocalTimestampMicros:
			unit, zone = 1000, ""
		case havro.TimeMicros:
			return func(m *machine, out []byte) ([]byte, error) {
				v, err := m.readLong()
				if err != nil {
					return out, err
				}
				_, v = floorDiv(v/1000, msPerDay)
				out = append(appendClock(append(out, '"'), v), '"')
				return out, nil
			}, nil
		}
		capture := slot == slotTimestamp
		if unit == 0 {
			// A plain long. A top-level "timestamp" that is a plain long is
			// Unix milliseconds (custom object events carry a number).
			return func(m *machine, out []byte) ([]byte, error) {
				v, err := m.readLong()
				if err != nil {
					return out, err
				}
				if capture {
					m.ts, m.tsUnit, m.hasTS = v, 1, true
				}
				out = appendInt(out, v)
				return out, nil
			}, nil
		}
		return func(m *machine, out []byte) ([]byte, error) {
			v, err := m.readLong()
			if err != nil {
				return out, err
			}
			if capture {
				m.ts, m.tsUnit, m.hasTS = v, unit, true
			}
			ms, _ := floorDiv(v, unit)
			out = appendTimestamp(out, ms, zone)
			return out, nil
		}, nil
	case havro.Float:
		return func(m *machine, out []byte) ([]byte, error) {
			b, err := m.readFixed(4)
			if err != nil {
				return out, err
			}
			out = appendFloat(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 32)
			return out, nil
		}, nil
	case havro.Double:
		return func(m *machine, out []byte) ([]byte, error) {
			b, err := m.readFixed(8)
			if err != nil {
				return out, err
			}
			out = appendFloat(out, math.Float64frombits(binary.LittleEndian.Uint64(b)), 64)
			return out, nil
		}, nil
	case havro.String:
		if slot >= 0 && slot < numSlots {
			return func(m *machine, out []byte) ([]byte, error) {
				b, err := m.readBytes()
				if err != nil {
					return out, err
				}
				start := len(m.hdr)
				m.hdr = append(m.hdr, b...)
				m.spans[slot] = span{start: start, end: len(m.hdr), set: true}
				out = appendString(out, b)
				return out, nil
			}, nil
		}
		return func(m *machine, out []byte) ([]byte, error) {
			b, err := m.readBytes()
			if err != nil {
				return out, err
			}
			out = appendString(out, b)
			return out, nil
		}, nil
	case havro.Bytes:
		if dec, ok := s.Logical().(*havro.DecimalLogicalSchema); ok {
			scale := dec.Scale()
			return func(m *machine, out []byte) ([]byte, error) {
				b, err := m.readBytes()
				if err != nil {
					return out, err
				}
				out = appendDecimal(out, b, scale)
				return out, nil
			}, nil
		}
		return func(m *machine, out []byte) ([]byte, error) {
			b, err := m.readBytes()
			if err != nil {
				return out, err
			}
			out = appendBase64(out, b)
			return out, nil
		}, nil
	case havro.Null:
		return func(m *machine, out []byte) ([]byte, error) { return append(out, "null"...), nil }, nil
	}
	return nil, fmt.Errorf("unsupported primitive type %s", s.Type())
}

func appendInt(dst []byte, v int64) []byte {
	if v >= 0 && v < 10 {
		return append(dst, byte('0'+v))
	}
	return appendIntSlow(dst, v)
}

func (c *compiler) array(s *havro.ArraySchema) (decodeFn, error) {
	item, err := c.compile(s.Items(), slotNone)
	if err != nil {
		return nil, err
	}
	return func(m *machine, out []byte) ([]byte, error) {
		if err := m.enter(); err != nil {
			return out, err
		}
		out = append(out, '[')
		var total int64
		for first := true; ; {
			n, err := m.readBlockCount(&total)
			if err != nil {
				return out, err
			}
			if n == 0 {
				break
			}
			for ; n > 0; n-- {
				if !first {
					out = append(out, ',')
				}
				first = false
				var err error
				if out, err = item(m, out); err != nil {
					return out, err
				}
				if err := m.checkOut(out); err != nil {
					return out, err
				}
			}
		}
		out = append(out, ']')
		m.depth--
		return out, nil
	}, nil
}

func (c *compiler) mapOf(s *havro.MapSchema) (decodeFn, error) {
	value, err := c.compile(s.Values(), slotNone)
	if err != nil {
		return nil, err
	}
	return func(m *machine, out []byte) ([]byte, error) {
		if err := m.enter(); err != nil {
			return out, err
		}
		out = append(out, '{')
		var total int64
		for first := true; ; {
			n, err := m.readBlockCount(&total)
			if err != nil {
				return out, err
			}
			if n == 0 {
				break
			}
			for ; n > 0; n-- {
				if !first {
					out = append(out, ',')
				}
				first = false
				k, err := m.readBytes()
				if err != nil {
					return out, err
				}
				out = append(appendString(out, k), ':')
				if out, err = value(m, out); err != nil {
					return out, err
				}
				if err := m.checkOut(out); err != nil {
					return out, err
				}
			}
		}
		out = append(out, '}')
		m.depth--
		return out, nil
	}, nil
}

func (c *compiler) union(s *havro.UnionSchema, slot int) (decodeFn, error) {
	types := s.Types()
	branches := make([]decodeFn, len(types))
	for i, t := range types {
		fn, err := c.compile(t, slot)
		if err != nil {
			return nil, err
		}
		branches[i] = fn
	}
	return func(m *machine, out []byte) ([]byte, error) {
		i, err := m.readLong()
		if err != nil {
			return out, err
		}
		if i < 0 || i >= int64(len(branches)) {
			return out, fmt.Errorf("%w: union branch %d out of range", ErrMalformed, i)
		}
		return branches[i](m, out)
	}, nil
}
