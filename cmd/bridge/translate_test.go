package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* from the current output")

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/bridge -run '%s' -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n got %s\nwant %s", path, got, want)
	}
}

// versionsDir holds v1 and v2 of com.thena.test.TicketEvent side by side
// (avro's schema evolution fixtures): Ticket loses legacyQueue, gains
// channel with a default and an optional field, and Priority gains URGENT.
const versionsDir = "../../avro/testdata/versions"

// runBridge runs the command line in-process and returns its outputs.
func runBridge(t *testing.T, stdin []byte, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	err = run(context.Background(), append([]string{"bridge"}, args...), getenv, environ, bytes.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestTranslateShowsTheSNSMessage(t *testing.T) {
	rec, err := eventgen.Sample(7, "ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runBridge(t, rec.Value, nil, "translate", "-config", "absent.yaml", "-schemas", "../../schemas", "-key", string(rec.Key))
	if err != nil {
		t.Fatalf("translate failed: %v\n%s", err, stderr)
	}
	var got translate.Explanation
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if !got.OK || got.EventType != "ticket:created" || got.TopicARN != "arn:aws:sns:us-east-1:123456789012:thena-events" {
		t.Errorf("got ok=%v type=%q topic=%q", got.OK, got.EventType, got.TopicARN)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if body["eventId"] != rec.Natural["eventId"] || body["orgId"] != rec.Natural["orgId"] {
		t.Errorf("body ids %v/%v, want %v/%v", body["eventId"], body["orgId"], rec.Natural["eventId"], rec.Natural["orgId"])
	}
	names := []string{}
	for _, a := range got.Attributes {
		names = append(names, a.Name)
	}
	if want := "event_name,event_id,event_timestamp,context_user_id,context_user_type,context_organization_id"; strings.Join(names, ",") != want {
		t.Errorf("attributes %v, want %s", names, want)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, got.Body); err != nil {
		t.Fatal(err)
	}
	attrBytes := 0
	for _, a := range got.Attributes {
		attrBytes += len(a.Name) + len("String") + len(a.Value)
	}
	if got.Size != compact.Len()+attrBytes {
		t.Errorf("size %d, want body %d + attributes %d", got.Size, compact.Len(), attrBytes)
	}
}

func TestTranslateReadsBase64AndFiles(t *testing.T) {
	rec, err := eventgen.Sample(8, "custom-object:deal:created")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "record.b64")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(rec.Value)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runBridge(t, nil, map[string]string{"AWS_SNS_CUSTOM_OBJECT_TOPIC_ARN": "arn:aws:sns:eu-west-1:111122223333:objects.fifo"},
		"translate", "-config", "absent.yaml", "-schemas", "../../schemas", "-encoding", "base64", path)
	if err != nil {
		t.Fatalf("translate failed: %v\n%s", err, stderr)
	}
	var got translate.Explanation
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.TopicARN != "arn:aws:sns:eu-west-1:111122223333:objects.fifo" || !got.FIFO || got.GroupID == "" || got.DedupID == "" {
		t.Errorf("custom object to a FIFO topic: topic=%q fifo=%v group=%q dedup=%q", got.TopicARN, got.FIFO, got.GroupID, got.DedupID)
	}
}

func TestTranslateExplainsPoison(t *testing.T) {
	gen, err := eventgen.New(9, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		value  []byte
		reason string
	}{
		{"not wire format", []byte("{\"hello\":1}"), "bad_magic"},
		{"unknown schema id", []byte{0, 0x7f, 0, 0, 1, 2, 3}, "unknown_schema"},
		{"too large after truncation", gen.TooLarge().Value, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := runBridge(t, tc.value, nil, "translate", "-config", "absent.yaml", "-schemas", "../../schemas")
			if err == nil {
				t.Fatal("translate succeeded for a record that cannot be published")
			}
			if exitCode(err) != 1 {
				t.Errorf("exit code %d, want 1", exitCode(err))
			}
			var got translate.Explanation
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout)
			}
			if got.OK || got.Error == nil || got.Error.Reason != tc.reason || got.Error.Class != "permanent" {
				t.Errorf("got %+v, want permanent %s", got.Error, tc.reason)
			}
		})
	}
}

func TestTranslateUsageErrors(t *testing.T) {
	_, _, err := runBridge(t, nil, nil, "translate", "-config", "absent.yaml")
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "-schemas DIR") {
		t.Errorf("no schema source: got %v", err)
	}
	_, _, err = runBridge(t, []byte("x"), nil, "translate", "-config", "absent.yaml", "-schemas", "../../schemas", "-encoding", "rot13")
	if err == nil || exitCode(err) != 2 {
		t.Errorf("bad encoding: got %v", err)
	}
}

// versionRecord is a record written with one version of the versions
// fixtures' schema: its wire value (with the local id), key and the golden
// file of its translation.
type versionRecord struct {
	version *avro.LocalSchema
	key     string
	value   []byte
	golden  string
}

// versionRecords returns one record per version in versionsDir, oldest
// first, each written from that version's fixture event.
func versionRecords(t *testing.T) []versionRecord {
	t.Helper()
	src, err := avro.NewLocalSource(os.DirFS(versionsDir))
	if err != nil {
		t.Fatal(err)
	}
	fixtures := map[string]string{"TicketEvent.v1.avsc": "ticket_updated.v1", "TicketEvent.avsc": "ticket_updated.v2"}
	var recs []versionRecord
	for _, v := range src.Versions() {
		b, err := os.ReadFile(filepath.Join(versionsDir, fixtures[v.File]+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var event map[string]any
		if err := json.Unmarshal(b, &event); err != nil {
			t.Fatal(err)
		}
		value, err := v.Append(nil, event)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, versionRecord{version: v, key: event["orgId"].(string), value: value, golden: "translate_" + fixtures[v.File] + ".golden.json"})
	}
	return recs
}

// TestTranslateSchemaVersions: records written with two versions of one
// schema, both in the schema directory, translate in one run, each decoded
// with its writer schema: the output (schema id, attributes, body) is
// testdata/translate_ticket_updated.v1.golden.json and .v2.
func TestTranslateSchemaVersions(t *testing.T) {
	s, err := loadSettingsForTool("absent.yaml", versionsDir, "", commandEnv{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	tt, err := toolTranslator(s, 262144)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range versionRecords(t) {
		t.Run(r.version.File, func(t *testing.T) {
			out := tt.Explain(context.Background(), &kgo.Record{Topic: "thena.events", Key: []byte(r.key), Value: r.value}, 262144)
			if !out.OK || out.SchemaID != r.version.ID {
				t.Fatalf("%s: ok=%v schema id %d (want %d): %+v", r.version.File, out.OK, out.SchemaID, r.version.ID, out.Error)
			}
			got, _ := json.MarshalIndent(out, "", "  ")
			checkGolden(t, r.golden, append(got, '\n'))
		})
	}
}

// TestTranslateSourceCoordinates: -topic, -partition and -offset give a
// custom object event without an eventId the id the bridge published for
// the record at that position; other coordinates give another id.
func TestTranslateSourceCoordinates(t *testing.T) {
	gen, err := eventgen.New(11, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := gen.Record("custom-object:deal:created")
	if err != nil {
		t.Fatal(err)
	}
	delete(r.Natural, "eventId")
	value, err := gen.Source().Encode(eventgen.CustomObjectEvent, r.Natural)
	if err != nil {
		t.Fatal(err)
	}
	idAt := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := runBridge(t, value, nil, append([]string{"translate", "-config", "absent.yaml", "-schemas", "../../schemas"}, args...)...)
		if err != nil {
			t.Fatalf("translate %v: %v\n%s", args, err, stderr)
		}
		var got translate.Explanation
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		return got.EventID
	}
	at42 := idAt("-topic", "thena.custom-objects", "-partition", "3", "-offset", "42")
	if want := mapping.GeneratedEventID(mapping.Source{Topic: "thena.custom-objects", Partition: 3, Offset: 42}); at42 != want {
		t.Errorf("eventId at thena.custom-objects/3@42 = %q, want the bridge's %q", at42, want)
	}
	if at43 := idAt("-topic", "thena.custom-objects", "-partition", "3", "-offset", strconv.Itoa(43)); at43 == at42 || at43 == "" {
		t.Errorf("eventId at offset 43 = %q, the same as at 42", at43)
	}
}
