package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// The per-route keys of issue 14 load from the config file.
func TestRouteKeysLoad(t *testing.T) {
	path := writeConfig(t, `
kafka:
  brokers: ["127.0.0.1:9092"]
  group_id: g
  topics: [a]
schemas:
  local_dir: ../../schemas
routing:
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
	path := writeConfig(t, `
kafka:
  brokers: ["127.0.0.1:1"]
  group_id: g
  topics: [a]
schemas:
  local_dir: ../../schemas
routing:
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
