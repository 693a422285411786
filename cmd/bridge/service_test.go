package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// Profiles are served only when http.pprof asks for them.
func TestPprofOnlyWhenEnabled(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		s := defaultSettings()
		s.HTTP.Pprof = enabled
		svc := &service{settings: s, registry: prometheus.NewRegistry()}
		rec := httptest.NewRecorder()
		svc.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
		want := http.StatusNotFound
		if enabled {
			want = http.StatusOK
		}
		if rec.Code != want {
			t.Errorf("pprof %v: /debug/pprof/ answered %d, want %d", enabled, rec.Code, want)
		}
	}
}

// /debug/keys answers JSON with a keys list, and refuses a bad n.
func TestDebugKeys(t *testing.T) {
	svc := &service{settings: defaultSettings(), registry: prometheus.NewRegistry()}
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"", http.StatusOK},
		{"?n=5", http.StatusOK},
		{"?n=0", http.StatusBadRequest},
		{"?n=many", http.StatusBadRequest},
		{"?n=100000", http.StatusBadRequest},
	} {
		rec := httptest.NewRecorder()
		svc.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/keys"+tc.query, nil))
		if rec.Code != tc.code {
			t.Errorf("/debug/keys%s answered %d, want %d: %s", tc.query, rec.Code, tc.code, rec.Body)
			continue
		}
		if tc.code != http.StatusOK {
			continue
		}
		var body struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Keys == nil {
			t.Errorf("/debug/keys%s: %v, want a JSON object with a keys list: %s", tc.query, err, rec.Body)
		}
	}
}

// From start-up, before any event: bridge_build_info names the build, and
// every routed topic has its breaker series (closed), so that dashboards
// and alerts over them have data from the first scrape.
func TestSeriesFromStartup(t *testing.T) {
	w := newStartupWorld(t)
	s := defaultSettings()
	s.Kafka.Brokers, s.Kafka.GroupID, s.Kafka.Topics = w.cluster.ListenAddrs(), "g", []string{"thena.events"}
	s.Schemas.LocalDir = schemasDir(t)
	s.SNS.Endpoint, s.SNS.Region = w.double.URL, "us-east-1"
	s.Routing = mapping.Config{Routes: mapping.StandardRoutes(w.ticketARN, w.customARN)}
	s.HTTP.Listen = "127.0.0.1:0"
	ln, src, err := checkLocal(s)
	if err != nil {
		t.Fatal(err)
	}
	client, topics, err := checkRemote(context.Background(), s, src)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := assemble(context.Background(), s, src, client, topics, ln, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ln.Close()
		if err := svc.publisher.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	rec := httptest.NewRecorder()
	svc.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b := build()
	for _, want := range []string{
		fmt.Sprintf(`bridge_build_info{commit=%q,go=%q,version=%q} 1`, b.Commit, b.Go, b.Version),
		fmt.Sprintf(`bridge_sns_breaker_state{topic_arn=%q} 0`, w.ticketARN),
		fmt.Sprintf(`bridge_sns_breaker_state{topic_arn=%q} 0`, w.customARN),
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
