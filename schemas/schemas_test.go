package schemas_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/avro"
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

// TestDocumentedShapesEncode: an event carrying only what the Thena
// documentation lists encodes with these schemas and renders back exactly
// as written: a comment without the undocumented author, visibility and
// timestamps; a ticket:updated with the optional comment ticket:created has;
// an account custom-field event without previousAccount.
func TestDocumentedShapesEncode(t *testing.T) {
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	d, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	envelope := func(eventType string, payload map[string]any) map[string]any {
		return map[string]any{
			"eventId": "01JDW3K7ZQ3S5N0C2E4G6J8M9P", "eventType": eventType, "timestamp": "2026-11-27T05:08:30.123Z",
			"orgId": "E0ZKM4RHPQ6XN2T8VB3C5Y7D9F", "actor": map[string]any{"id": "U1", "type": "AGENT", "email": "a@example.com"},
			"payload": payload,
		}
	}
	ticket := func(title string) map[string]any {
		t := map[string]any{"createdAt": "2026-11-27T05:00:00.000Z", "isEscalated": false, "isArchived": false,
			"customer": map[string]any{"id": "C1", "email": "c@example.com", "name": "C"}, "assignedTo": nil, "assignedAgent": nil}
		for _, f := range []string{"id", "ticketId", "description", "customerContactFirstName", "customerContactLastName", "customerContactEmail",
			"priorityId", "statusId", "statusName", "priorityName", "sentimentId", "sentimentName", "source", "teamId", "teamName", "teamIdentifier"} {
			t[f] = f + "-1"
		}
		t["title"] = title
		return t
	}
	account := map[string]any{"id": "A1", "name": "Acme", "status": "active", "health": "good", "classification": "enterprise",
		"createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-11-27T05:00:00.000Z"}
	for _, tc := range []struct {
		schema string
		event  map[string]any
	}{
		{"com.thena.events.CommentEvent", envelope("ticket:comment:created", map[string]any{
			"comment": map[string]any{"id": "CM1", "content": "Hello", "commentType": "comment", "teamId": "T1", "metadata": map[string]any{"mentions": []any{}}},
		})},
		{"com.thena.events.TicketEvent", envelope("ticket:updated", map[string]any{
			"ticket": ticket("new"), "previousTicket": ticket("old"),
			"comment": map[string]any{"id": "CM2", "content": "c", "contentHtml": "<p>c</p>", "contentJson": "{}", "customerContactId": "CC1", "createdAt": "2026-11-27T05:08:00.000Z"},
		})},
		{"com.thena.events.AccountEvent", envelope("account-custom_field_value:added", map[string]any{
			"account":             account,
			"changedCustomFields": []any{map[string]any{"fieldUid": "F1", "newValues": []any{"x"}, "changeType": "added"}},
		})},
	} {
		t.Run(tc.event["eventType"].(string), func(t *testing.T) {
			value, err := src.Encode(tc.schema, tc.event)
			if err != nil {
				t.Fatalf("the documented shape does not encode: %v", err)
			}
			ev, err := d.Decode(context.Background(), value)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, f := range ev.Fields {
				var v any
				if err := json.Unmarshal(f.Value, &v); err != nil {
					t.Fatal(err)
				}
				got[f.Name] = v
			}
			want, _ := json.Marshal(tc.event)
			if g, _ := json.Marshal(got); string(g) != string(want) {
				t.Errorf("rendered\n got %s\nwant %s", g, want)
			}
		})
	}
}
