package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
)

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
