//go:build integration

package avro_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io/fs"
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
		subject := testenv.Name(t, strings.TrimSuffix(file, ".avsc"), 200) + "-value"
		id, _, err := client.CreateSchema(ctx, subject, string(text))
		if err != nil {
			t.Fatalf("registering %s: %v", file, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := client.DeleteSubject(ctx, subject); err != nil {
				t.Errorf("deleting subject %s: %v", subject, err)
			}
		})
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
