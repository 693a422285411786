package schemas_test

import (
	"io/fs"
	"strings"
	"testing"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

const jsonValue = "com.thena.events.JsonValue"

// TestFreeFormValuesUseRecursiveJsonValue: every schema models free-form
// values with the one recursive com.thena.events.JsonValue (README, "Free-form
// values"): a record with the single field value, whose array items and map
// values are JsonValue itself, and no unrolled JsonValue2, JsonValue3, ...
func TestFreeFormValuesUseRecursiveJsonValue(t *testing.T) {
	files, err := fs.Glob(schemas.FS(), "*.avsc")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas: %v", err)
	}
	for _, file := range files {
		text, err := fs.ReadFile(schemas.FS(), file)
		if err != nil {
			t.Fatal(err)
		}
		s, err := havro.ParseWithCache(string(text), "", &havro.SchemaCache{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		records := map[string]*havro.RecordSchema{}
		collectRecords(s, records)
		jv, ok := records[jsonValue]
		if !ok {
			t.Errorf("%s: no record %s", file, jsonValue)
			continue
		}
		for name := range records {
			if name != jsonValue && strings.Contains(name, "JsonValue") {
				t.Errorf("%s: record %s besides the recursive %s", file, name, jsonValue)
			}
		}
		fields := jv.Fields()
		if len(fields) != 1 || fields[0].Name() != "value" {
			t.Errorf("%s: %s must have exactly one field, value", file, jsonValue)
			continue
		}
		u, ok := fields[0].Type().(*havro.UnionSchema)
		if !ok {
			t.Errorf("%s: %s.value is a %s, want a union", file, jsonValue, fields[0].Type().Type())
			continue
		}
		var got []string
		for _, b := range u.Types() {
			switch b := b.(type) {
			case *havro.ArraySchema:
				got = append(got, "array<"+nameOf(b.Items())+">")
			case *havro.MapSchema:
				got = append(got, "map<"+nameOf(b.Values())+">")
			default:
				got = append(got, string(b.Type()))
			}
		}
		want := "null,boolean,long,double,string,array<" + jsonValue + ">,map<" + jsonValue + ">"
		if strings.Join(got, ",") != want {
			t.Errorf("%s: %s.value = [%s], want [%s]", file, jsonValue, strings.Join(got, ","), want)
		}
	}
}

// collectRecords adds every named record reachable from s, once each (the
// recursion of JsonValue ends at the already-seen name).
func collectRecords(s havro.Schema, into map[string]*havro.RecordSchema) {
	switch s := s.(type) {
	case *havro.RefSchema:
		collectRecords(s.Schema(), into)
	case *havro.RecordSchema:
		if _, seen := into[s.FullName()]; seen {
			return
		}
		into[s.FullName()] = s
		for _, f := range s.Fields() {
			collectRecords(f.Type(), into)
		}
	case *havro.UnionSchema:
		for _, t := range s.Types() {
			collectRecords(t, into)
		}
	case *havro.ArraySchema:
		collectRecords(s.Items(), into)
	case *havro.MapSchema:
		collectRecords(s.Values(), into)
	}
}

func nameOf(s havro.Schema) string {
	if r, ok := s.(*havro.RefSchema); ok {
		s = r.Schema()
	}
	if n, ok := s.(havro.NamedSchema); ok {
		return n.FullName()
	}
	return string(s.Type())
}
