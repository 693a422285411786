package avro

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"

	havro "github.com/hamba/avro/v2"
)

// AppendNatural appends the Avro binary encoding of v to dst. v is shaped like
// the natural JSON the Decoder renders for schema, built from nil, bool,
// string, numbers (any Go integer or float type, json.Number), []byte,
// time.Time, slices and string-keyed maps (map[string]any and friends):
//
//   - a record is a map with one key per field; a missing key is null for a
//     nullable field, the default for a field with one, an error otherwise;
//     a key the record lacks is an error;
//   - a JsonValue record is the plain value, nested to any depth the
//     Decoder accepts;
//   - a union takes the first branch the value fits (nil takes null), judged
//     deeply, so two record branches are told apart by their fields;
//   - timestamp-millis/micros take a time.Time, an RFC 3339 string or an
//     integer; date takes a time.Time or "2006-01-02"; decimal takes a
//     decimal string, json.Number or number; bytes and fixed take []byte or
//     a base64 string; an enum takes its symbol.
//
// Map entries are written in sorted key order, so equal values encode to
// equal bytes. A value nested deeper than DefaultConfig's MaxDepth, counted
// as the Decoder counts (records, arrays and maps below the top-level record;
// a JsonValue wrapper does not count), is refused with an error wrapping
// ErrLimit: the bytes would be undecodable, and a cyclic value would never
// end. AppendNatural is for tests, tools and the event generator; the bridge
// itself never encodes.
func AppendNatural(dst []byte, schema havro.Schema, v any) ([]byte, error) {
	e := encoder{maxDepth: defaultMaxDepth}
	depth := 0
	if rec, ok := deref(schema).(*havro.RecordSchema); ok && !isJSONValue(rec) {
		depth = -1 // the Decoder does not count the top-level record
	}
	return e.value(dst, schema, v, "$", depth)
}

// encoder holds the depth bound of one AppendNatural call. depth arguments
// are the nesting depth around the value, as machine.depth is when the
// Decoder reaches it.
type encoder struct {
	maxDepth int
	// deep is set when fits gave up on a branch for its depth, so a union
	// no branch of which fits can say why.
	deep bool
}

// enter returns the depth inside a record, array or map at depth, or an
// error when that is deeper than the Decoder accepts.
func (e *encoder) enter(depth int, at string) (int, error) {
	if depth++; depth > e.maxDepth {
		return depth, fmt.Errorf("%s: %w: nesting deeper than MaxDepth %d", at, ErrLimit, e.maxDepth)
	}
	return depth, nil
}

func appendLong(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v<<1)^uint64(v>>63))
}

func (e *encoder) value(dst []byte, s havro.Schema, v any, at string, depth int) ([]byte, error) {
	switch s := s.(type) {
	case *havro.RefSchema:
		return e.value(dst, s.Schema(), v, at, depth)
	case *havro.NullSchema:
		if v != nil {
			return nil, fmt.Errorf("%s: want null, got %T", at, v)
		}
		return dst, nil
	case *havro.UnionSchema:
		e.deep = false
		for i, t := range s.Types() {
			if e.fits(t, v, depth) {
				return e.value(appendLong(dst, int64(i)), t, v, at, depth)
			}
		}
		if e.deep {
			return nil, fmt.Errorf("%s: %w: %T nests deeper than MaxDepth %d", at, ErrLimit, v, e.maxDepth)
		}
		return nil, fmt.Errorf("%s: %T fits no branch of union %s", at, v, s.String())
	case *havro.RecordSchema:
		return e.record(dst, s, v, at, depth)
	case *havro.EnumSchema:
		sym, ok := v.(string)
		if i := slices.Index(s.Symbols(), sym); ok && i >= 0 {
			return appendLong(dst, int64(i)), nil
		}
		return nil, fmt.Errorf("%s: %v is not a symbol of enum %s", at, v, s.FullName())
	case *havro.ArraySchema:
		rv := reflect.ValueOf(v)
		if v == nil || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return nil, fmt.Errorf("%s: want a slice, got %T", at, v)
		}
		depth, err := e.enter(depth, at)
		if err != nil {
			return nil, err
		}
		if rv.Len() > 0 {
			dst = appendLong(dst, int64(rv.Len()))
			for i := range rv.Len() {
				if dst, err = e.value(dst, s.Items(), rv.Index(i).Interface(), fmt.Sprintf("%s[%d]", at, i), depth); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case *havro.MapSchema:
		entries, ok := mapEntries(v)
		if !ok {
			return nil, fmt.Errorf("%s: want a map with string keys, got %T", at, v)
		}
		depth, err := e.enter(depth, at)
		if err != nil {
			return nil, err
		}
		if len(entries) > 0 {
			dst = appendLong(dst, int64(len(entries)))
			for _, en := range entries {
				dst = appendLong(dst, int64(len(en.key)))
				dst = append(dst, en.key...)
				if dst, err = e.value(dst, s.Values(), en.value, at+"."+en.key, depth); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case *havro.FixedSchema:
		if dec, ok := s.Logical().(*havro.DecimalLogicalSchema); ok {
			b, err := decimalBytes(v, dec.Scale(), s.Size())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			return append(dst, b...), nil
		}
		b, ok := bytesOf(v)
		if !ok || len(b) != s.Size() {
			return nil, fmt.Errorf("%s: want %d bytes for fixed %s, got %T", at, s.Size(), s.FullName(), v)
		}
		return append(dst, b...), nil
	case *havro.PrimitiveSchema:
		return appendPrimitive(dst, s, v, at)
	}
	return nil, fmt.Errorf("%s: unsupported schema type %s", at, s.Type())
}

func (e *encoder) record(dst []byte, s *havro.RecordSchema, v any, at string, depth int) ([]byte, error) {
	fields := s.Fields()
	if isJSONValue(s) {
		return e.value(dst, fields[0].Type(), v, at, depth)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want map[string]any for record %s, got %T", at, s.FullName(), v)
	}
	depth, err := e.enter(depth, at)
	if err != nil {
		return nil, err
	}
	for k := range m {
		if !slices.ContainsFunc(fields, func(f *havro.Field) bool { return f.Name() == k }) {
			return nil, fmt.Errorf("%s: record %s has no field %q", at, s.FullName(), k)
		}
	}
	for _, f := range fields {
		fv, present := m[f.Name()]
		if !present && !nullable(f.Type()) {
			if !f.HasDefault() {
				return nil, fmt.Errorf("%s: record %s needs field %q", at, s.FullName(), f.Name())
			}
			fv = f.Default()
		}
		if dst, err = e.value(dst, f.Type(), fv, at+"."+f.Name(), depth); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func nullable(s havro.Schema) bool {
	u, ok := s.(*havro.UnionSchema)
	return ok && u.Contains(havro.Null)
}

func appendPrimitive(dst []byte, s *havro.PrimitiveSchema, v any, at string) ([]byte, error) {
	var logical havro.LogicalType
	if l := s.Logical(); l != nil {
		logical = l.Type()
	}
	switch s.Type() {
	case havro.Null:
		if v == nil {
			return dst, nil
		}
	case havro.Boolean:
		if b, ok := v.(bool); ok {
			if b {
				return append(dst, 1), nil
			}
			return append(dst, 0), nil
		}
	case havro.Int, havro.Long:
		if n, ok := integerOf(v, logical); ok {
			if s.Type() == havro.Int && (n < math.MinInt32 || n > math.MaxInt32) {
				return nil, fmt.Errorf("%s: %d overflows int", at, n)
			}
			return appendLong(dst, n), nil
		}
	case havro.Float:
		if f, ok := floatOf(v); ok {
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
		}
	case havro.Double:
		if f, ok := floatOf(v); ok {
			return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
		}
	case havro.String:
		if str, ok := v.(string); ok {
			dst = appendLong(dst, int64(len(str)))
			return append(dst, str...), nil
		}
	case havro.Bytes:
		var b []byte
		var ok bool
		if dec, isDec := s.Logical().(*havro.DecimalLogicalSchema); isDec {
			var err error
			if b, err = decimalBytes(v, dec.Scale(), 0); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			ok = true
		} else {
			b, ok = bytesOf(v)
		}
		if ok {
			dst = appendLong(dst, int64(len(b)))
			return append(dst, b...), nil
		}
	}
	if composite(v) {
		// Not formatted: it may be large, or cyclic.
		return nil, fmt.Errorf("%s: %T does not fit %s", at, v, s.String())
	}
	return nil, fmt.Errorf("%s: %T (%v) does not fit %s", at, v, v, s.String())
}
