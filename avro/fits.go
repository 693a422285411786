package avro

import (
	"reflect"
	"slices"

	havro "github.com/hamba/avro/v2"
)

// fits reports whether v can be encoded with s at depth; unions use it to
// choose a branch. A record, array or map deeper than the bound does not fit
// (and sets e.deep), so fits ends on a cyclic value too.
func (e *encoder) fits(s havro.Schema, v any, depth int) bool {
	switch s := s.(type) {
	case *havro.RefSchema:
		return e.fits(s.Schema(), v, depth)
	case *havro.NullSchema:
		return v == nil
	case *havro.UnionSchema:
		for _, t := range s.Types() {
			if e.fits(t, v, depth) {
				return true
			}
		}
		return false
	case *havro.RecordSchema:
		fields := s.Fields()
		if isJSONValue(s) {
			return e.fits(fields[0].Type(), v, depth)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if depth++; depth > e.maxDepth {
			e.deep = true
			return false
		}
		for k := range m {
			if !slices.ContainsFunc(fields, func(f *havro.Field) bool { return f.Name() == k }) {
				return false
			}
		}
		for _, f := range fields {
			fv, present := m[f.Name()]
			if !present {
				if !nullable(f.Type()) && !f.HasDefault() {
					return false
				}
				continue
			}
			if !e.fits(f.Type(), fv, depth) {
				return false
			}
		}
		return true
	case *havro.EnumSchema:
		sym, ok := v.(string)
		return ok && slices.Contains(s.Symbols(), sym)
	case *havro.ArraySchema:
		rv := reflect.ValueOf(v)
		if v == nil || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return false
		}
		if _, isBytes := v.([]byte); isBytes {
			return false
		}
		if depth++; depth > e.maxDepth {
			e.deep = true
			return false
		}
		for i := range rv.Len() {
			if !e.fits(s.Items(), rv.Index(i).Interface(), depth) {
				return false
			}
		}
		return true
	case *havro.MapSchema:
		entries, ok := mapEntries(v)
		if !ok {
			return false
		}
		if depth++; depth > e.maxDepth {
			e.deep = true
			return false
		}
		for _, en := range entries {
			if !e.fits(s.Values(), en.value, depth) {
				return false
			}
		}
		return true
	case *havro.FixedSchema:
		_, err := e.value(nil, s, v, "", depth)
		return err == nil
	case *havro.PrimitiveSchema:
		if v == nil {
			return s.Type() == havro.Null
		}
		if composite(v) {
			return false
		}
		switch s.Type() {
		case havro.Float, havro.Double:
			// A number with a fractional part prefers double over long, and an
			// integer prefers long: long is tried first in JsonValue.
			_, ok := floatOf(v)
			return ok
		case havro.String:
			_, ok := v.(string)
			return ok
		case havro.Boolean:
			_, ok := v.(bool)
			return ok
		}
		_, err := appendPrimitive(nil, s, v, "")
		return err == nil
	}
	return false
}
