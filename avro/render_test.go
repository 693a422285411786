package avro_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/avro"
)

// kitchenSink has every Avro type and logical type the renderer handles.
const kitchenSink = `{
  "type": "record", "name": "KitchenSink", "namespace": "com.thena.test",
  "fields": [
    {"name": "eventId", "type": "string"},
    {"name": "b", "type": "boolean"},
    {"name": "i", "type": "int"},
    {"name": "l", "type": "long"},
    {"name": "f", "type": "float"},
    {"name": "d", "type": "double"},
    {"name": "s", "type": "string"},
    {"name": "by", "type": "bytes"},
    {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
    {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
    {"name": "dt", "type": {"type": "int", "logicalType": "date"}},
    {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "tsm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "lts", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
    {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 2}},
    {"name": "decf", "type": {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4}},
    {"name": "uuid", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "arr", "type": {"type": "array", "items": "int"}},
    {"name": "mp", "type": {"type": "map", "values": "string"}},
    {"name": "u", "type": ["null", "long", "string", {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "string"}]}]},
    {"name": "nl", "type": ["null", "string"], "default": null},
    {"name": "opt", "type": ["null", "string"], "default": null, "thena.optional": true},
    {"name": "jv", "type": {"type": "map", "values": {"type": "record", "name": "JsonValue", "fields": [
      {"name": "value", "type": ["null", "boolean", "long", "double", "string",
        {"type": "array", "items": "JsonValue"}, {"type": "map", "values": "JsonValue"}]}]}}},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-micros"}}
  ]
}`

func sinkSource(t testing.TB, extra ...string) *avro.LocalSource {
	t.Helper()
	fsys := fstest.MapFS{"sink.avsc": {Data: []byte(kitchenSink)}}
	for i, s := range extra {
		fsys[string(rune('a'+i))+".avsc"] = &fstest.MapFile{Data: []byte(s)}
	}
	src, err := avro.NewLocalSource(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func decodeNatural(t testing.TB, src *avro.LocalSource, name string, v any) (*avro.Event, error) {
	t.Helper()
	b, err := src.Encode(name, v)
	if err != nil {
		t.Fatal(err)
	}
	d, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return d.Decode(context.Background(), b)
}

func sinkValue() map[string]any {
	return map[string]any{
		"eventId": "E1", "b": true, "i": int32(-7), "l": int64(math.MaxInt64), "f": float32(1.5), "d": 0.1,
		"s": "tab\there \"q\" \\ </script> \u2028 é 🎉", "by": []byte{0, 1, 0xfe, 0xff}, "fx": []byte("abcd"),
		"e": "GREEN", "dt": "2026-11-27", "tm": 5*3_600_000 + 8*60_000 + 30_123,
		"tsm": time.Date(2026, 11, 27, 5, 8, 30, 123_000_000, time.UTC),
		"tsu": time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		"lts": time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		"dec": "-12345678901234567.89", "decf": "3.1400", "uuid": "0b5d8f9e-52b5-4c8b-9c47-1c7f4f0a2b11",
		"arr": []int{1, -2, 3}, "mp": map[string]string{"b": "2", "a": "1"},
		"u": map[string]any{"x": "inner"}, "nl": nil,
		"jv":        map[string]any{"n": nil, "t": true, "i": 42, "f": 2.5, "s": "x", "a": []any{1, "two", []any{}}, "o": map[string]any{"k": map[string]any{}}},
		"timestamp": time.Date(2026, 11, 27, 5, 8, 30, 123_456_000, time.UTC),
	}
}

func TestRenderEveryType(t *testing.T) {
	src := sinkSource(t)
	ev, err := decodeNatural(t, src, "com.thena.test.KitchenSink", sinkValue())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"eventId":   `"E1"`,
		"b":         `true`,
		"i":         `-7`,
		"l":         `9223372036854775807`,
		"f":         `1.5`,
		"d":         `0.1`,
		"s":         `"tab\there \"q\" \\ </script> \u2028 é 🎉"`,
		"by":        `"AAH+/w=="`,
		"fx":        `"YWJjZA=="`,
		"e":         `"GREEN"`,
		"dt":        `"2026-11-27"`,
		"tm":        `"05:08:30.123"`,
		"tsm":       `"2026-11-27T05:08:30.123Z"`,
		"tsu":       `"1969-12-31T23:59:59.999Z"`,
		"lts":       `"2026-01-02T03:04:05.006"`,
		"dec":       `-12345678901234567.89`,
		"decf":      `3.1400`,
		"uuid":      `"0b5d8f9e-52b5-4c8b-9c47-1c7f4f0a2b11"`,
		"arr":       `[1,-2,3]`,
		"mp":        `{"a":"1","b":"2"}`,
		"u":         `{"x":"inner"}`,
		"nl":        `null`,
		"jv":        `{"a":[1,"two",[]],"f":2.5,"i":42,"n":null,"o":{"k":{}},"s":"x","t":true}`,
		"timestamp": `"2026-11-27T05:08:30.123Z"`,
	}
	if len(ev.Fields) != len(want) {
		t.Errorf("%d fields, want %d (opt omitted)", len(ev.Fields), len(want))
	}
	for _, f := range ev.Fields {
		if got := string(f.Value); got != want[f.Name] {
			t.Errorf("%s = %s, want %s", f.Name, got, want[f.Name])
		}
		if !json.Valid(f.Value) {
			t.Errorf("%s is not valid JSON: %s", f.Name, f.Value)
		}
	}
	if ev.Field("opt") != nil {
		t.Errorf("null thena.optional field rendered: %s", ev.Field("opt"))
	}
	// timestamp-micros keeps its precision in the header.
	if want := time.Date(2026, 11, 27, 5, 8, 30, 123_456_000, time.UTC); !ev.Header.Timestamp.Equal(want) || !ev.Header.HasTimestamp {
		t.Errorf("header timestamp %v, want %v", ev.Header.Timestamp, want)
	}
	if ev.Header.EventID != "E1" || ev.SchemaName != "com.thena.test.KitchenSink" {
		t.Errorf("header %+v, schema %s", ev.Header, ev.SchemaName)
	}
	id, _ := src.ID("com.thena.test.KitchenSink")
	if ev.SchemaID != id {
		t.Errorf("SchemaID %d, want %d", ev.SchemaID, id)
	}
}

func TestRenderSpecialValues(t *testing.T) {
	src := sinkSource(t)
	tests := []struct {
		name  string
		field string
		value any
		want  string
	}{
		{"NaN", "d", math.NaN(), `null`},
		{"+Inf", "d", math.Inf(1), `null`},
		{"-Inf float", "f", float32(math.Inf(-1)), `null`},
		{"tiny double", "d", 1e-9, `1e-9`},
		{"huge double", "d", 1e300, `1e+300`},
		{"integral double", "d", 50000.0, `50000`},
		{"invalid UTF-8", "s", "a\xffb\xc3", `"a` + "\ufffd" + `b` + "\ufffd" + `"`},
		{"control chars", "s", "\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`},
		{"optional set", "opt", "here", `"here"`},
		{"union long", "u", int64(-5), `-5`},
		{"union string", "u", "s", `"s"`},
		{"union null", "u", nil, `null`},
		{"decimal small", "dec", "0.05", `0.05`},
		{"decimal negative fraction", "dec", "-0.05", `-0.05`},
		{"decimal zero", "dec", "0", `0.00`},
		{"decimal negative fixed", "decf", "-1", `-1.0000`},
		{"year 0001", "tsm", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), `"0001-01-01T00:00:00.000Z"`},
		{"leap day", "dt", "2024-02-29", `"2024-02-29"`},
		{"pre-epoch date", "dt", "1900-03-01", `"1900-03-01"`},
		{"empty array", "arr", []int{}, `[]`},
		{"empty map", "mp", map[string]string{}, `{}`},
		{"map key escaping", "mp", map[string]string{"a\"b": "c"}, `{"a\"b":"c"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := sinkValue()
			v[tt.field] = tt.value
			ev, err := decodeNatural(t, src, "com.thena.test.KitchenSink", v)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(ev.Field(tt.field)); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.field, got, tt.want)
			}
		})
	}
}

// TestSanitizedCounts: every value the decoder renders other than as written
// (invalid UTF-8 in a string, a map key or the captured eventId; a NaN or
// infinite float or double) is counted once in Event.Sanitized, for
// bridge_sanitized_values_total; a clean record counts nothing.
func TestSanitizedCounts(t *testing.T) {
	src := sinkSource(t)
	for _, tc := range []struct {
		name   string
		change map[string]any
		want   avro.Sanitized
	}{
		{"clean", nil, avro.Sanitized{}},
		{"NaN double", map[string]any{"d": math.NaN()}, avro.Sanitized{NonFinite: 1}},
		{"infinite float and double", map[string]any{"d": math.Inf(1), "f": float32(math.Inf(-1))}, avro.Sanitized{NonFinite: 2}},
		{"non-finite in free-form values", map[string]any{"jv": map[string]any{"x": math.NaN(), "y": []any{math.Inf(1)}}}, avro.Sanitized{NonFinite: 2}},
		{"invalid UTF-8 twice in one string", map[string]any{"s": "a\xffb\xc3"}, avro.Sanitized{InvalidUTF8: 1}},
		{"invalid UTF-8 in a map key and value", map[string]any{"mp": map[string]string{"k\xff": "v\xfe"}}, avro.Sanitized{InvalidUTF8: 2}},
		{"invalid UTF-8 in the eventId", map[string]any{"eventId": "E\xff"}, avro.Sanitized{InvalidUTF8: 1}},
		{"both kinds", map[string]any{"s": "\xff", "d": math.NaN()}, avro.Sanitized{InvalidUTF8: 1, NonFinite: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := sinkValue()
			for k, x := range tc.change {
				v[k] = x
			}
			ev, err := decodeNatural(t, src, "com.thena.test.KitchenSink", v)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Sanitized != tc.want || ev.Sanitized.Any() != (tc.want != avro.Sanitized{}) {
				t.Errorf("Sanitized = %+v, want %+v", ev.Sanitized, tc.want)
			}
		})
	}
}

// TestTimestampsMatchTimePackage checks the hand-written calendar code
// against the time package over a wide range of instants.
func TestTimestampsMatchTimePackage(t *testing.T) {
	src := sinkSource(t)
	d, _ := avro.NewDecoder(src, avro.DefaultConfig())
	schema, _ := src.SchemaByName("com.thena.test.KitchenSink")
	id, _ := src.ID("com.thena.test.KitchenSink")
	v := sinkValue()
	for ms := int64(-62135596800000); ms < 253402300799999; ms += 7_777_777_777_77 + ms%997 {
		v["tsm"] = ms
		v["dt"] = ms / 86_400_000
		b, err := avro.AppendNatural(avro.AppendWireHeader(nil, id), schema, v)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := d.Decode(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		tm := time.UnixMilli(ms).UTC()
		if want := `"` + tm.Format("2006-01-02T15:04:05.000Z") + `"`; string(ev.Field("tsm")) != want {
			t.Fatalf("%d ms = %s, want %s", ms, ev.Field("tsm"), want)
		}
		if want := `"` + time.Unix(ms/86_400_000*86400, 0).UTC().Format("2006-01-02") + `"`; string(ev.Field("dt")) != want {
			t.Fatalf("day %d = %s, want %s", ms/86_400_000, ev.Field("dt"), want)
		}
	}
}

func TestJsonValueNesting(t *testing.T) {
	src := sinkSource(t)
	v := sinkValue()
	var deep any = "leaf"
	for range 20 {
		deep = []any{map[string]any{"k": deep}}
	}
	v["jv"] = map[string]any{"deep": deep}
	ev, err := decodeNatural(t, src, "com.thena.test.KitchenSink", v)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(map[string]any{"deep": deep})
	if string(ev.Field("jv")) != string(want) {
		t.Errorf("jv = %s, want %s", ev.Field("jv"), want)
	}
	if strings.Contains(string(ev.Field("jv")), `"value"`) {
		t.Error("JsonValue wrapper leaked into the JSON")
	}
}

func TestAppendNaturalRejects(t *testing.T) {
	src := sinkSource(t)
	schema, _ := src.SchemaByName("com.thena.test.KitchenSink")
	for name, mutate := range map[string]func(map[string]any){
		"missing required": func(v map[string]any) { delete(v, "s") },
		"unknown field":    func(v map[string]any) { v["nope"] = 1 },
		"wrong type":       func(v map[string]any) { v["b"] = "yes" },
		"bad enum":         func(v map[string]any) { v["e"] = "BLUE" },
		"bad fixed size":   func(v map[string]any) { v["fx"] = []byte("abc") },
		"int overflow":     func(v map[string]any) { v["i"] = int64(math.MaxInt32) + 1 },
		"fractional long":  func(v map[string]any) { v["l"] = 1.5 },
		"decimal scale":    func(v map[string]any) { v["dec"] = "1.234" },
		"no union branch":  func(v map[string]any) { v["u"] = true },
	} {
		v := sinkValue()
		mutate(v)
		if _, err := avro.AppendNatural(nil, schema, v); err == nil {
			t.Errorf("%s: AppendNatural succeeded", name)
		}
	}
	var _ havro.Schema = schema
}

// TestStringEscapingMatchesEncodingJSON compares the renderer's string
// escaping, fast path included, with encoding/json on strings that put every
// interesting byte at every offset of an 8-byte word.
func TestStringEscapingMatchesEncodingJSON(t *testing.T) {
	src := sinkSource(t)
	specials := []string{"\"", "\\", "\x00", "\x1f", "\x7f", "é", "\xff", "\u2028", "🎉", "<", " "}
	for _, sp := range specials {
		for off := range 17 {
			s := strings.Repeat("a", off) + sp + strings.Repeat("b", 17-off)
			v := sinkValue()
			v["s"] = s
			ev, err := decodeNatural(t, src, "com.thena.test.KitchenSink", v)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if err := json.Unmarshal(ev.Field("s"), &got); err != nil {
				t.Fatalf("%q: invalid JSON %s", s, ev.Field("s"))
			}
			if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
				t.Fatalf("%q rendered as %s", s, ev.Field("s"))
			}
		}
	}
}
