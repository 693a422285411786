package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
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
