package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

// TestSchemasCommand: `bridge schemas` prints, for the built-in schemas,
// each file's name, id and fingerprint input as testdata/schemas.golden.txt
// records them (a changed id shows in review), with the ids the local
// source gives; for a directory with two versions of a schema, both, the
// current one marked.
func TestSchemasCommand(t *testing.T) {
	stdout, stderr, err := runBridge(t, nil, nil, "schemas")
	if err != nil {
		t.Fatalf("schemas: %v\n%s", err, stderr)
	}
	checkGolden(t, "schemas.golden.txt", []byte(stdout))

	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range src.Names() {
		id, _ := src.ID(name)
		if !strings.Contains(stdout, name+" (current version)\n  id           "+itoaHex(id)) {
			t.Errorf("output lacks %s with id %s", name, itoaHex(id))
		}
	}

	stdout, stderr, err = runBridge(t, nil, nil, "schemas", "-json", "-schemas", versionsDir)
	if err != nil {
		t.Fatalf("schemas -json: %v\n%s", err, stderr)
	}
	var lines []schemaLine
	if err := json.Unmarshal([]byte(stdout), &lines); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	versions, err := avro.NewLocalSource(os.DirFS(versionsDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 {
		t.Fatalf("%d schemas, want the two versions: %s", len(lines), stdout)
	}
	for i, v := range versions.Versions() {
		l := lines[i]
		if l.File != v.File || l.ID != v.ID || l.Current != v.Current || l.Canonical != v.Canonical || l.Name != "com.thena.test.TicketEvent" {
			t.Errorf("line %d: %+v, want %s id %d current %v", i, l, v.File, v.ID, v.Current)
		}
	}

	if _, _, err := runBridge(t, nil, nil, "schemas", "-schemas", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no .avsc files") {
		t.Errorf("empty directory: %v", err)
	}
	if _, _, err := runBridge(t, nil, nil, "schemas", "extra"); err == nil || exitCode(err) != 2 {
		t.Errorf("an argument: %v, want a usage error", err)
	}
}

// itoaHex renders id as `bridge schemas` does: decimal, then hex.
func itoaHex(id int) string { return fmt.Sprintf("%d (0x%08x)", id, id) }
