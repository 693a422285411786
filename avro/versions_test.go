package avro_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/thena-ai/kafka-sns-bridge/avro"
)

// versionsDir holds two versions of com.thena.test.TicketEvent side by side,
// as a producer team's schema directory does while producers upgrade:
// TicketEvent.v1.avsc, and the current TicketEvent.avsc, in which Ticket lost
// legacyQueue, gained channel (with a default) and the optional
// firstResponseDueAt, and the Priority enum gained URGENT. The
// ticket_updated.v1.json and .v2.json events are written with each.
const versionsDir = "testdata/versions"

const versionedTicket = "com.thena.test.TicketEvent"

// readEvent reads a natural-JSON event fixture.
func readEvent(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// versionNamed returns the version of src loaded from file.
func versionNamed(t testing.TB, src *avro.LocalSource, file string) *avro.LocalSchema {
	t.Helper()
	for _, v := range src.Versions() {
		if v.File == file {
			return v
		}
	}
	t.Fatalf("no version from %s", file)
	return nil
}

// eventJSON is ev's fields as one JSON object, parsed.
func eventJSON(t testing.TB, ev *avro.Event) map[string]any {
	t.Helper()
	got := map[string]any{}
	for _, f := range ev.Fields {
		var v any
		if err := json.Unmarshal(f.Value, &v); err != nil {
			t.Fatalf("field %s is not JSON: %v", f.Name, err)
		}
		got[f.Name] = v
	}
	return got
}

// TestLocalSourceLoadsEveryVersion: two versions of one schema in one
// directory both load, each with its own id (not "already defined"), and
// records written with either decode with their own writer schema, in one
// Decoder: the removed field still shows in the old writer's events, the
// added ones and the new enum symbol in the new writer's.
func TestLocalSourceLoadsEveryVersion(t *testing.T) {
	src, err := avro.NewLocalSource(os.DirFS(versionsDir))
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Names(); len(got) != 1 || got[0] != versionedTicket {
		t.Fatalf("Names() = %v, want [%s]", got, versionedTicket)
	}
	v1, v2 := versionNamed(t, src, "TicketEvent.v1.avsc"), versionNamed(t, src, "TicketEvent.avsc")
	if v1.ID == v2.ID || v1.Current || !v2.Current {
		t.Fatalf("v1 id %d current %v, v2 id %d current %v: want distinct ids, v2 current", v1.ID, v1.Current, v2.ID, v2.Current)
	}
	if id, _ := src.ID(versionedTicket); id != v2.ID {
		t.Errorf("ID(%s) = %d, want the current version's %d", versionedTicket, id, v2.ID)
	}
	for _, v := range []*avro.LocalSchema{v1, v2} {
		if id, err := avro.LocalID(v.Schema); err != nil || id != v.ID || v.Canonical != avro.CanonicalForm(v.Schema) {
			t.Errorf("%s: id %d, LocalID %d (%v)", v.File, v.ID, id, err)
		}
	}

	d, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version       *avro.LocalSchema
		fixture       string
		has, hasNot   string
		wantPriority  string
		wantTimestamp string
	}{
		{v1, "ticket_updated.v1.json", `"legacyQueue":"Q7"`, `"channel"`, "HIGH", "2026-11-27T05:08:30.123Z"},
		{v2, "ticket_updated.v2.json", `"channel":"slack"`, `"legacyQueue"`, "URGENT", "2026-11-27T05:09:45.678Z"},
	} {
		t.Run(tc.version.File, func(t *testing.T) {
			want := readEvent(t, filepath.Join(versionsDir, tc.fixture))
			value, err := tc.version.Append(nil, want)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := d.Decode(context.Background(), value)
			if err != nil {
				t.Fatalf("decoding a record of %s: %v", tc.version.File, err)
			}
			if ev.SchemaID != tc.version.ID || ev.SchemaName != versionedTicket {
				t.Errorf("schema %s id %d, want %s id %d", ev.SchemaName, ev.SchemaID, versionedTicket, tc.version.ID)
			}
			payload := string(ev.Field("payload"))
			if !strings.Contains(payload, tc.has) || strings.Contains(payload, tc.hasNot) || !strings.Contains(payload, `"priority":"`+tc.wantPriority+`"`) {
				t.Errorf("payload %s: want %s and priority %s, not %s", payload, tc.has, tc.wantPriority, tc.hasNot)
			}
			if got := ev.Header.Timestamp.Format(mappingLayout); got != tc.wantTimestamp {
				t.Errorf("timestamp %s, want %s", got, tc.wantTimestamp)
			}
			if got := eventJSON(t, ev); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("decoded\n got %s\nwant %s", g, w)
			}
		})
	}
}

// mappingLayout is the millisecond ISO-8601 form the fixtures use.
const mappingLayout = "2006-01-02T15:04:05.000Z"

// TestLocalSourceCurrentVersion: name lookups give the version in the file
// named after the schema wherever the others are, else the path that sorts
// last; two files of one canonical form are refused, naming both.
func TestLocalSourceCurrentVersion(t *testing.T) {
	v1 := []byte(`{"type":"record","name":"R","namespace":"x","fields":[{"name":"a","type":"int"}]}`)
	v2 := []byte(`{"type":"record","name":"R","namespace":"x","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""}]}`)
	for _, tc := range []struct {
		name        string
		fsys        fstest.MapFS
		wantCurrent string
	}{
		{"named after the schema", fstest.MapFS{"R.avsc": {Data: v2}, "old/R.v1.avsc": {Data: v1}}, "R.avsc"},
		{"last path", fstest.MapFS{"a.avsc": {Data: v1}, "b/c.avsc": {Data: v2}}, "b/c.avsc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := avro.NewLocalSource(tc.fsys)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(src.Versions()); n != 2 {
				t.Fatalf("%d versions, want 2", n)
			}
			cur := versionNamed(t, src, tc.wantCurrent)
			if id, _ := src.ID("x.R"); id != cur.ID || !cur.Current {
				t.Errorf("ID(x.R) = %d, want %s's %d", id, tc.wantCurrent, cur.ID)
			}
			s, _ := src.SchemaByName("x.R")
			if s != cur.Schema {
				t.Error("SchemaByName does not give the current version")
			}
			value, err := src.Encode("x.R", map[string]any{"a": 1, "b": "x"})
			if id, _, _ := avro.ParseWire(value); err != nil || id != cur.ID {
				t.Errorf("Encode wrote id %d (%v), want %d", id, err, cur.ID)
			}
		})
	}

	_, err := avro.NewLocalSource(fstest.MapFS{"R.avsc": {Data: v1}, "R.copy.avsc": {Data: []byte(`{"type":"record","name":"R","namespace":"x","doc":"d","fields":[{"name":"a","type":"int"}]}`)}})
	if err == nil || !strings.Contains(err.Error(), "same Parsing Canonical Form as R.avsc") {
		t.Errorf("two files of one canonical form: %v", err)
	}
}
