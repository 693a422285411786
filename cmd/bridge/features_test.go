package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// minimalConfig writes a configuration with the embedded schemas and the
// given YAML after it (the routing section, say), and returns its path.
func minimalConfig(t *testing.T, brokers, rest string) string {
	t.Helper()
	return writeConfig(t, "kafka:\n  brokers: [\""+brokers+"\"]\n  group_id: g\n  topics: [a]\nschemas:\n  local_dir: ../../schemas\n"+rest)
}

// The per-route keys of issue 14 load from the config file.
func TestRouteKeysLoad(t *testing.T) {
	path := minimalConfig(t, "127.0.0.1:9092", `routing:
  routes:
    - pattern: "ticket:*"
      topic_arn: arn:aws:sns:us-east-1:123456789012:t
      fair_group: true
    - pattern: "*"
      topic_arn: arn:aws:sns:us-east-1:123456789012:t
`)
	s, err := loadSettings(path, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Routing.Routes[0].FairGroup || s.Routing.Routes[1].FairGroup {
		t.Errorf("fair_group: %+v", s.Routing.Routes)
	}
}

// An OTEL_* value the bridge cannot honour stops start-up naming the
// variable, before anything is dialled.
func TestRunRefusesAnUnknownTraceExporter(t *testing.T) {
	path := minimalConfig(t, "127.0.0.1:1", `routing:
  routes:
    - pattern: "*"
      topic_arn: arn:aws:sns:us-east-1:123456789012:t
`)
	_, stderr, err := runBridge(t, nil, map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "run", "-config", path)
	if err == nil || !strings.Contains(stderr, "OTEL_TRACES_EXPORTER") {
		t.Fatalf("run: %v, stderr %s; want a start-up failure naming OTEL_TRACES_EXPORTER", err, stderr)
	}
}

// Start-up checks the buckets routes offload to, naming the route of one
// that is missing; routes that do not offload need no S3.
func TestStartUpChecksOffloadBuckets(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && r.URL.Path == "/present" {
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	route := func(policy mapping.LargeEvents, bucket string) mapping.Route {
		return mapping.Route{Pattern: bucket, TopicARN: "arn:aws:sns:us-east-1:123456789012:t", LargeEvents: policy,
			Offload: mapping.Offload{Bucket: bucket}}
	}
	s := defaultSettings()
	s.SNS.Region, s.S3.Endpoint = "us-east-1", srv.URL
	s.Routing.Routes = []mapping.Route{route(mapping.LargeOffload, "present"), route(mapping.LargeTruncateThenOffload, "absent")}
	err := checkBuckets(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "routing.routes[1].offload.bucket") || !strings.Contains(err.Error(), "absent does not exist") ||
		strings.Contains(err.Error(), "routes[0]") {
		t.Errorf("checkBuckets: %v; want routes[1]'s bucket named missing", err)
	}
	s.Routing.Routes = s.Routing.Routes[:1]
	if err := checkBuckets(context.Background(), s); err != nil {
		t.Errorf("present bucket: %v", err)
	}
	s.S3.Endpoint = "http://127.0.0.1:1"
	s.Routing.Routes = []mapping.Route{{Pattern: "*", TopicARN: "arn:aws:sns:us-east-1:123456789012:t"}}
	if err := checkBuckets(context.Background(), s); err != nil {
		t.Errorf("no route offloads, yet S3 was asked: %v", err)
	}
}

// `bridge translate` on a route that offloads shows the pointer it would
// publish and where the event would be stored, and needs no S3 for it.
func TestTranslateShowsTheOffloadPointer(t *testing.T) {
	rec, err := eventgen.Sample(7, "ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	path := minimalConfig(t, "127.0.0.1:9092", `s3:
  endpoint: http://127.0.0.1:1
routing:
  routes:
    - pattern: "*"
      topic_arn: arn:aws:sns:us-east-1:123456789012:t
      large_events: offload
      offload:
        bucket: thena-large
        key_prefix: "ev/"
        sse: AES256
`)
	stdout, stderr, err := runBridge(t, rec.Value, nil, "translate", "-config", path, "-key", string(rec.Key), "-max-message-size", "500")
	if err != nil {
		t.Fatalf("translate: %v\n%s", err, stderr)
	}
	var got translate.Explanation
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	key := "ev/" + rec.Natural["eventId"].(string) + ".json"
	if got.Offload == nil || got.Offload.Bucket != "thena-large" || got.Offload.Key != key || got.Offload.SSE != "AES256" || got.Offload.Size <= 500 {
		t.Fatalf("offload %+v, want s3://thena-large/%s", got.Offload, key)
	}
	var body bytes.Buffer // the command indents its JSON, the body included
	if err := json.Compact(&body, got.Body); err != nil {
		t.Fatal(err)
	}
	if want := mapping.PointerBody("thena-large", key); body.String() != want {
		t.Errorf("body %s, want %s", body.String(), want)
	}
	last := got.Attributes[len(got.Attributes)-1]
	if last.Name != "ExtendedPayloadSize" || last.DataType != "Number" || last.Value != fmt.Sprint(got.Offload.Size) {
		t.Errorf("last attribute %+v", last)
	}
}
