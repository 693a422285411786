package main

import (
	"strings"
	"testing"
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
