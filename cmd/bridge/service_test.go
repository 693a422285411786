package main

import (
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
		svc := &service{settings: s, registry: prometheus.NewRegistry(), breakers: newBreakerBoard(nil)}
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
