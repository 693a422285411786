//go:build integration

package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hamba/avro/v2/registry"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
)

// TestTranslateSchemaVersionsThroughRegistry: v1 and v2 of one schema
// registered under one subject (BACKWARD compatibility), records written
// with each under the registry's ids, and `bridge translate -registry`
// prints for both what the local directory gives (the golden files), apart
// from the schema id.
func TestTranslateSchemaVersionsThroughRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := testenv.Registry(t)
	client, err := registry.NewClient(base)
	if err != nil {
		t.Fatal(err)
	}
	subject := testenv.Name(t, "translate-versions", 200) + "-value"
	if err := client.SetCompatibilityLevel(ctx, subject, "BACKWARD"); err != nil {
		t.Fatalf("setting BACKWARD compatibility on %s: %v", subject, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteSubject(ctx, subject); err != nil {
			t.Errorf("deleting subject %s: %v", subject, err)
		}
	})
	for _, r := range versionRecords(t) { // oldest first, as a team evolves the schema
		text, err := os.ReadFile(filepath.Join(versionsDir, r.version.File))
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := client.CreateSchema(ctx, subject, string(text))
		if err != nil {
			t.Fatalf("registering %s: %v", r.version.File, err)
		}
		value := append([]byte(nil), r.value...)
		binary.BigEndian.PutUint32(value[1:5], uint32(id))

		stdout, stderr, err := runBridge(t, value, nil, "translate", "-config", "absent.yaml", "-registry", base, "-key", r.key, "-topic", "thena.events")
		if err != nil {
			t.Fatalf("%s through the registry: %v\n%s\n%s", r.version.File, err, stdout, stderr)
		}
		var got, want translate.Explanation
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		golden, err := os.ReadFile(filepath.Join("testdata", r.golden))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(golden, &want); err != nil {
			t.Fatal(err)
		}
		if got.SchemaID != id {
			t.Errorf("%s: schema id %d, want the registry's %d", r.version.File, got.SchemaID, id)
		}
		want.SchemaID = id
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s (registry id %d) through the registry:\n got %s\nwant %s", r.version.File, id, g, w)
		}
	}
}
