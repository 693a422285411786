//go:build integration

package avro_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2/registry"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

// TestRegistryDecodesEveryEventType registers every schema in schemas/ with
// the real registry, then decodes one event of every type written with the
// registry's ids through a RegistrySource. It proves the registry accepts the
// recursive JsonValue and keeps what rendering relies on (the thena.optional
// field property, logical types, the recursion itself), and that unknown ids
// come back as unknown_schema.
func TestRegistryDecodesEveryEventType(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := testenv.Registry(t)
	client, err := registry.NewClient(base)
	if err != nil {
		t.Fatal(err)
	}
	g, err := eventgen.New(21, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	local := g.Source()

	// Register each family under a fresh subject; map local ids to registry ids.
	registryID := map[int]int{}
	files, _ := fs.Glob(schemas.FS(), "*.avsc")
	for _, file := range files {
		text, _ := fs.ReadFile(schemas.FS(), file)
		name := "com.thena.events." + strings.TrimSuffix(file, ".avsc")
		subject := freshSubject(t, client, strings.TrimSuffix(file, ".avsc"))
		id, _, err := client.CreateSchema(ctx, subject, string(text))
		if err != nil {
			t.Fatalf("registering %s: %v", file, err)
		}
		localID, _ := local.ID(name)
		registryID[localID] = id
	}

	src, err := avro.NewRegistrySource(base)
	if err != nil {
		t.Fatal(err)
	}
	d, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range eventgen.AllTypes() {
		r, err := g.Record(typ)
		if err != nil {
			t.Fatal(err)
		}
		localID, _, _ := avro.ParseWire(r.Value)
		value := append([]byte(nil), r.Value...)
		binary.BigEndian.PutUint32(value[1:5], uint32(registryID[localID]))
		ev, err := d.Decode(ctx, value)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		got := map[string]any{}
		for _, f := range ev.Fields {
			var v any
			if err := json.Unmarshal(f.Value, &v); err != nil {
				t.Fatal(err)
			}
			got[f.Name] = v
		}
		wantJSON, _ := json.Marshal(r.Natural)
		var want map[string]any
		_ = json.Unmarshal(wantJSON, &want)
		if !reflect.DeepEqual(got, want) {
			gotJSON, _ := json.Marshal(got)
			t.Errorf("%s through the registry:\n got %s\nwant %s", typ, gotJSON, wantJSON)
		}
	}

	// The registry keeps JsonValue recursive: free-form metadata nested far
	// deeper than the old unrolled schemas' seven levels decodes with the
	// schema the registry hands back.
	var deep any = "leaf"
	for i := range 40 {
		if i%2 == 0 {
			deep = []any{deep}
		} else {
			deep = map[string]any{"k": deep}
		}
	}
	_, _, nat := g.Event("custom-object:deal:created")
	nat["metadata"] = map[string]any{"deep": deep}
	value, err := local.Encode(eventgen.CustomObjectEvent, nat)
	if err != nil {
		t.Fatal(err)
	}
	localID, _ := local.ID(eventgen.CustomObjectEvent)
	binary.BigEndian.PutUint32(value[1:5], uint32(registryID[localID]))
	ev, err := d.Decode(ctx, value)
	if err != nil {
		t.Fatalf("deep metadata through the registry: %v", err)
	}
	if want, _ := json.Marshal(nat["metadata"]); string(ev.Field("metadata")) != string(want) {
		t.Errorf("deep metadata through the registry:\n got %s\nwant %s", ev.Field("metadata"), want)
	}

	_, err = d.Decode(ctx, append(avro.AppendWireHeader(nil, 987654321), 0))
	if !failure.IsPermanent(err) || failure.ReasonOf(err) != failure.ReasonUnknownSchema {
		t.Errorf("unknown id: %v, want permanent unknown_schema", err)
	}
}

// TestRegistryDecodesSchemaVersions: v1 and v2 of one schema registered
// under one subject with BACKWARD compatibility (the registry checks that v2
// reads v1's records: a field removed, one added with a default, an enum
// symbol added), then records written with each, carrying the registry's
// ids, decode through one RegistrySource and Decoder with their writer
// schema, as they do from the local directory.
func TestRegistryDecodesSchemaVersions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := testenv.Registry(t)
	client, err := registry.NewClient(base)
	if err != nil {
		t.Fatal(err)
	}
	local, err := avro.NewLocalSource(os.DirFS(versionsDir))
	if err != nil {
		t.Fatal(err)
	}
	subject := freshSubject(t, client, "versions")
	if err := client.SetCompatibilityLevel(ctx, subject, "BACKWARD"); err != nil {
		t.Fatalf("setting BACKWARD compatibility on %s: %v", subject, err)
	}
	registryID := map[int]int{}
	for _, file := range []string{"TicketEvent.v1.avsc", "TicketEvent.avsc"} { // oldest first, as a team evolves it
		text, err := os.ReadFile(filepath.Join(versionsDir, file))
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := client.CreateSchema(ctx, subject, string(text))
		if err != nil {
			t.Fatalf("registering %s under %s: %v", file, subject, err)
		}
		registryID[versionNamed(t, local, file).ID] = id
	}
	if len(registryID) != 2 {
		t.Fatalf("registry ids %v, want two", registryID)
	}
	src, err := avro.NewRegistrySource(base)
	if err != nil {
		t.Fatal(err)
	}
	d, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for file, fixture := range map[string]string{"TicketEvent.v1.avsc": "ticket_updated.v1.json", "TicketEvent.avsc": "ticket_updated.v2.json"} {
		want := readEvent(t, filepath.Join(versionsDir, fixture))
		v := versionNamed(t, local, file)
		value, err := v.Append(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint32(value[1:5], uint32(registryID[v.ID]))
		ev, err := d.Decode(ctx, value)
		if err != nil {
			t.Fatalf("%s through the registry: %v", file, err)
		}
		if got := eventJSON(t, ev); !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s through the registry:\n got %s\nwant %s", file, g, w)
		}
	}
}

// freshSubject returns a subject name unique to the test, which t.Cleanup
// deletes from the registry again.
func freshSubject(t *testing.T, client *registry.Client, prefix string) string {
	t.Helper()
	subject := testenv.Name(t, prefix, 200) + "-value"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteSubject(ctx, subject); err != nil {
			t.Errorf("deleting subject %s: %v", subject, err)
		}
	})
	return subject
}
