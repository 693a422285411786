package tracing

import (
	"context"
	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// Off unless asked for; what the bridge cannot export is refused naming
// the variable.
func TestNewReadsTheStandardVariables(t *testing.T) {
	for _, tt := range []struct {
		name    string
		getenv  func(string) string
		on      bool
		problem string
	}{
		{"unset is off", env(), false, ""},
		{"none", env("OTEL_TRACES_EXPORTER", "none"), false, ""},
		{"otlp", env("OTEL_TRACES_EXPORTER", "otlp"), true, ""},
		{"otlp in a list", env("OTEL_TRACES_EXPORTER", "none, otlp"), true, ""},
		{"disabled wins", env("OTEL_TRACES_EXPORTER", "otlp", "OTEL_SDK_DISABLED", "true"), false, ""},
		{"unknown exporter", env("OTEL_TRACES_EXPORTER", "zipkin"), false, "OTEL_TRACES_EXPORTER"},
		{"grpc", env("OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), false, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"signal protocol wins", env("OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"), true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := New(context.Background(), tt.getenv, "test", nil)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("New: %v, want an error naming %s", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
			if got := tr.Tracer("test") != nil; got != tt.on {
				t.Errorf("tracer on = %v, want %v", got, tt.on)
			}
		})
	}
}

// A nil or off Tracing is safe to use.
func TestOffIsSafe(t *testing.T) {
	var tr *Tracing
	if tr.Tracer("x") != nil || tr.Shutdown(context.Background()) != nil {
		t.Error("nil Tracing is not off")
	}
}
