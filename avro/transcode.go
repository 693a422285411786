package avro

import (
	"fmt"

	havro "github.com/hamba/avro/v2"
)

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

// value returns the decoder of the field's value, reading an optional
// field's union branch first; nil means the field is null and left out.
func (f *fieldProg) value(m *machine) (decodeFn, error) {
	if !f.optional {
		return f.fn, nil
	}
	idx, err := m.readLong()
	switch {
	case err != nil:
		return nil, err
	case idx == f.nullIdx:
		return nil, nil
	case idx != f.valIdx:
		return nil, fmt.Errorf("%w: union branch %d out of range", ErrMalformed, idx)
	}
	return f.branch, nil
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
		fn, err := rp.fields[i].value(m)
		if err != nil {
			return out, err
		}
		if fn == nil {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, rp.fields[i].key...)
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
		return decodeNull, nil
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
		if dec, ok := s.Logical().(*havro.DecimalLogicalSchema); ok {
			return rendered(fixedBytes(s.Size()), decimalJSON(dec.Scale())), nil
		}
		return rendered(fixedBytes(s.Size()), appendBase64), nil
	case *havro.PrimitiveSchema:
		return c.primitive(s, slot)
	default:
		return nil, fmt.Errorf("unsupported schema type %s", s.Type())
	}
}

func (c *compiler) array(s *havro.ArraySchema) (decodeFn, error) {
	item, err := c.compile(s.Items(), slotNone)
	if err != nil {
		return nil, err
	}
	return collection('[', ']', item), nil
}

func (c *compiler) mapOf(s *havro.MapSchema) (decodeFn, error) {
	value, err := c.compile(s.Values(), slotNone)
	if err != nil {
		return nil, err
	}
	return collection('{', '}', func(m *machine, out []byte) ([]byte, error) {
		k, err := m.readBytes()
		if err != nil {
			return out, err
		}
		return value(m, append(m.appendText(out, k), ':'))
	}), nil
}

// collection decodes an array or a map: blocks of items, each written by
// item, between open and close and separated by commas.
func collection(open, close byte, item decodeFn) decodeFn {
	return func(m *machine, out []byte) ([]byte, error) {
		if err := m.enter(); err != nil {
			return out, err
		}
		out = append(out, open)
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
				if out, err = item(m, out); err != nil {
					return out, err
				}
				if err := m.checkOut(out); err != nil {
					return out, err
				}
			}
		}
		out = append(out, close)
		m.depth--
		return out, nil
	}
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
