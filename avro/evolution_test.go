package avro_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

// TestEvolutionAddOptionalField: a producer that upgrades to a TicketEvent
// with a new optional Ticket field keeps working next to one that has not.
// Both versions decode; the new field shows only in the new writer's events.
func TestEvolutionAddOptionalField(t *testing.T) {
	v1, err := fs.ReadFile(schemas.FS(), "TicketEvent.avsc")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(v1, &doc); err != nil {
		t.Fatal(err)
	}
	// Add the field to the Ticket record definition (the first one in the file).
	ticket := findRecord(doc, "Ticket")
	if ticket == nil {
		t.Fatal("no Ticket record in TicketEvent.avsc")
	}
	ticket["fields"] = append(ticket["fields"].([]any), map[string]any{
		"name": "firstResponseDueAt", "type": []any{"null", map[string]any{"type": "long", "logicalType": "timestamp-millis"}},
		"default": nil, "thena.optional": true,
	})
	v2, _ := json.Marshal(doc)

	// Both versions have the same name, as in a registry subject, so they
	// come from two local sources; their ids differ because their canonical
	// forms do.
	src1, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	src2, err := avro.NewLocalSource(fstest.MapFS{"TicketEvent.avsc": {Data: v2}})
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := src1.SchemaByName(eventgen.TicketEvent)
	s2, _ := src2.SchemaByName(eventgen.TicketEvent)
	id1, _ := src1.ID(eventgen.TicketEvent)
	id2, _ := src2.ID(eventgen.TicketEvent)
	if id1 == id2 {
		t.Fatal("v1 and v2 have the same id")
	}
	// What a registry with BACKWARD compatibility checks: the new schema
	// reads data written with the old one.
	if err := havro.NewSchemaCompatibility().Compatible(s2, s1); err != nil {
		t.Fatalf("v2 cannot read v1: %v", err)
	}

	g, err := eventgen.New(9, eventgen.Options{Source: src1})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := avro.NewDecoder(sources{src1, src2}, avro.DefaultConfig())
	_, oldValue, nat := g.Event("ticket:updated")
	payload := nat["payload"].(map[string]any)
	payload["ticket"].(map[string]any)["firstResponseDueAt"] = "2026-11-27T06:00:00.000Z"
	newValue, err := src2.Encode(eventgen.TicketEvent, nat)
	if err != nil {
		t.Fatal(err)
	}

	oldEv, err := d.Decode(context.Background(), oldValue)
	if err != nil {
		t.Fatalf("old writer: %v", err)
	}
	newEv, err := d.Decode(context.Background(), newValue)
	if err != nil {
		t.Fatalf("new writer: %v", err)
	}
	if strings.Contains(string(oldEv.Field("payload")), "firstResponseDueAt") {
		t.Error("old writer's event has the new field")
	}
	if !strings.Contains(string(newEv.Field("payload")), `"firstResponseDueAt":"2026-11-27T06:00:00.000Z"`) {
		t.Errorf("new writer's event lacks the new field: %s", newEv.Field("payload"))
	}
	if newEv.Header != oldEv.Header || newEv.SchemaID != id2 || oldEv.SchemaID != id1 {
		t.Errorf("headers differ: %+v vs %+v", newEv.Header, oldEv.Header)
	}
	// Apart from the new field the two renderings are the same.
	trimmed := strings.Replace(string(newEv.Field("payload")), `,"firstResponseDueAt":"2026-11-27T06:00:00.000Z"`, "", 1)
	if trimmed != string(oldEv.Field("payload")) {
		t.Error("payloads differ beyond the new field")
	}
}

// findRecord returns the first definition of the named record in a parsed
// .avsc document.
func findRecord(v any, name string) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "record" && x["name"] == name {
			return x
		}
		for _, k := range []string{"type", "fields", "items", "values"} {
			if r := findRecord(x[k], name); r != nil {
				return r
			}
		}
	case []any:
		for _, e := range x {
			if r := findRecord(e, name); r != nil {
				return r
			}
		}
	}
	return nil
}

// sources looks a schema id up in each source in turn.
type sources []*avro.LocalSource

func (ss sources) Schema(ctx context.Context, id int) (havro.Schema, error) {
	var err error
	for _, s := range ss {
		var schema havro.Schema
		if schema, err = s.Schema(ctx, id); err == nil {
			return schema, nil
		}
	}
	return nil, err
}
