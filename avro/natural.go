// The Go values AppendNatural takes, converted to what an Avro type needs.

package avro

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	havro "github.com/hamba/avro/v2"
)

// composite reports whether v is a map, array or slice other than []byte:
// no primitive type takes one.
func composite(v any) bool {
	if _, ok := v.([]byte); ok || v == nil {
		return false
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return true
	}
	return false
}

// integerOf converts v to the Avro int/long value for the logical type.
func integerOf(v any, logical havro.LogicalType) (int64, bool) {
	switch logical {
	case havro.TimestampMillis, havro.TimestampMicros, havro.LocalTimestampMillis, havro.LocalTimestampMicros:
		t, ok := timeOf(v, time.RFC3339Nano)
		if !ok {
			return intOf(v)
		}
		if logical == havro.TimestampMicros || logical == havro.LocalTimestampMicros {
			return t.UnixMicro(), true
		}
		return t.UnixMilli(), true
	case havro.Date:
		t, ok := timeOf(v, time.DateOnly)
		if !ok {
			return intOf(v)
		}
		d, _ := floorDiv(t.Unix(), 86400)
		return d, true
	}
	return intOf(v)
}

// timeOf returns v as a time: a time.Time, or a string in layout. Any other
// value, or a string that does not parse, is not one (intOf refuses strings
// too).
func timeOf(v any, layout string) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		t, err := time.Parse(layout, x)
		return t, err == nil
	}
	return time.Time{}, false
}

func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x), true
		}
		return 0, false
	case float32:
		return intOf(float64(x))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		return int64(u), u <= math.MaxInt64
	}
	return 0, false
}

func floatOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	if n, ok := intOf(v); ok {
		return float64(n), true
	}
	return 0, false
}

func bytesOf(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		b, err := base64.StdEncoding.DecodeString(x)
		return b, err == nil
	}
	return nil, false
}

// decimalBytes returns the two's-complement big-endian unscaled value of v
// at scale; size > 0 pads to a fixed size.
func decimalBytes(v any, scale, size int) ([]byte, error) {
	var r big.Rat
	switch x := v.(type) {
	case string:
		if _, ok := r.SetString(x); !ok {
			return nil, fmt.Errorf("%q is not a decimal", x)
		}
	case json.Number:
		if _, ok := r.SetString(string(x)); !ok {
			return nil, fmt.Errorf("%q is not a decimal", x)
		}
	case *big.Rat:
		r.Set(x)
	default:
		f, ok := floatOf(v)
		if !ok {
			return nil, fmt.Errorf("%T is not a decimal", v)
		}
		r.SetFloat64(f)
	}
	r.Mul(&r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("%s has more than %d fractional digits", r.FloatString(scale+4), scale)
	}
	n := r.Num()
	// Two's complement, minimal length (or size).
	length := n.BitLen()/8 + 1
	if size > 0 {
		if length > size {
			return nil, fmt.Errorf("decimal does not fit %d bytes", size)
		}
		length = size
	}
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*length))
	u := new(big.Int).Set(n)
	if u.Sign() < 0 {
		u.Add(u, mod)
	}
	return u.FillBytes(make([]byte, length)), nil
}

type entry struct {
	key   string
	value any
}

func mapEntries(v any) ([]entry, bool) {
	if v == nil {
		return nil, false
	}
	var entries []entry
	switch m := v.(type) {
	case map[string]any:
		for k, x := range m {
			entries = append(entries, entry{k, x})
		}
	case map[string]string:
		for k, x := range m {
			entries = append(entries, entry{k, x})
		}
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		it := rv.MapRange()
		for it.Next() {
			entries = append(entries, entry{it.Key().String(), it.Value().Interface()})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	return entries, true
}
