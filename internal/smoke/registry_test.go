//go:build integration

package smoke

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"net/http"
	"testing"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// ticketSchema is a small record with an optional field.
//
//go:embed testdata/ticket_created.avsc
var ticketSchema string

type ticketCreated struct {
	EventID  string `avro:"eventId"`
	OrgID    string `avro:"orgId"`
	Priority *int   `avro:"priority"`
}

// TestRegistryConfluentWireFormatRoundTrip: a schema registered under a subject gets an id; a
// record written in Confluent wire format with that id (magic byte 0, 4-byte big-endian id, Avro
// body) is decoded by hamba/avro's registry decoder, which fetches the schema by id. An id the
// registry does not know comes back as a 404, the error the bridge dead-letters on.
func TestRegistryConfluentWireFormatRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client := testenv.RegistryClient(t)
	subject, id, schema := testenv.RegisterSchema(t, client, ticketSchema)
	if again, _, err := client.CreateSchema(ctx, subject, ticketSchema); err != nil || again != id {
		t.Fatalf("registering the same schema again: id %d, err %v; want id %d", again, err, id)
	}

	priority := 3
	in := ticketCreated{EventID: "e-1", OrgID: "org-1", Priority: &priority}
	body, err := havro.Marshal(schema, in)
	if err != nil {
		t.Fatalf("encoding: %v", err)
	}
	wire := binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
	wire = append(wire, body...)

	var out ticketCreated
	if err := registry.NewDecoder(client).Decode(ctx, wire, &out); err != nil {
		t.Fatalf("decoding wire format with schema id %d: %v", id, err)
	}
	if out.EventID != in.EventID || out.OrgID != in.OrgID || out.Priority == nil || *out.Priority != priority {
		t.Fatalf("decoded %+v, want %+v", out, in)
	}

	const unknownID = 1 << 30
	_, err = client.GetSchema(ctx, unknownID)
	var regErr registry.Error
	if !errors.As(err, &regErr) || regErr.StatusCode != http.StatusNotFound {
		t.Fatalf("fetching unknown schema id %d: got %v, want a registry error with HTTP 404", unknownID, err)
	}
	t.Logf("unknown schema id: HTTP %d, error_code %d: %s", regErr.StatusCode, regErr.Code, regErr.Message)
}

// jsonValueSchema is shaped like the JsonValue type in schemas/*.avsc: a record that refers to
// itself through an array and a map. Apicurio 2.6 answered 500 (a stack overflow) when such a
// schema was registered, which is why the stack runs Apicurio 3.
//
//go:embed testdata/json_value.avsc
var jsonValueSchema string

// TestRegistryAcceptsSelfReferencingSchemas: the bridge's event schemas carry a self-referencing
// JsonValue; the registry must store them and hand them back so records using them decode.
func TestRegistryAcceptsSelfReferencingSchemas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client := testenv.RegistryClient(t)
	_, id, schema := testenv.RegisterSchema(t, client, jsonValueSchema)

	in := map[string]any{
		"eventId": "e-1",
		"metadata": map[string]any{"value": map[string]any{"map": map[string]any{
			"tags": map[string]any{"value": map[string]any{"array": []any{
				map[string]any{"value": map[string]any{"string": "vip"}},
			}}},
		}}},
	}
	body, err := havro.Marshal(schema, in)
	if err != nil {
		t.Fatalf("encoding: %v", err)
	}
	wire := append(binary.BigEndian.AppendUint32([]byte{0}, uint32(id)), body...)
	var out map[string]any
	if err := registry.NewDecoder(client).Decode(ctx, wire, &out); err != nil {
		t.Fatalf("decoding with schema id %d: %v", id, err)
	}
	if out["eventId"] != "e-1" {
		t.Fatalf("decoded eventId %v, want e-1 (whole record: %v)", out["eventId"], out)
	}
	// How unions decode into Go values is the library's business; what must hold is that the
	// nested JsonValue survived: encoding what was decoded gives back the same bytes.
	again, err := havro.Marshal(schema, out)
	if err != nil {
		t.Fatalf("re-encoding the decoded record %v: %v", out, err)
	}
	if !bytes.Equal(again, body) {
		t.Fatalf("decoded record %v re-encodes to %x, want %x", out, again, body)
	}
}
