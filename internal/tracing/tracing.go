// Package tracing builds the bridge's OpenTelemetry tracer from the
// standard OTEL_* environment variables. cmd/bridge hands the tracer to the
// sns publisher, which emits the spans (sns/trace.go); nothing else in the
// pipeline knows about OpenTelemetry.
//
// Tracing is off unless OTEL_TRACES_EXPORTER is otlp: the bridge departs
// from the specification's default (otlp) so that a deployment that never
// asked for traces neither dials a collector nor pays for spans. With it
// on, the exporter is OTLP over HTTP (protobuf), batched, and reads its own
// variables: OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// ..._HEADERS, ..._TIMEOUT, ..._COMPRESSION, ..._CERTIFICATE; the SDK reads
// OTEL_TRACES_SAMPLER(_ARG) (default parentbased_always_on: the producer's
// sampling decision is kept) and OTEL_BSP_*; OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES name the resource (default service.name
// kafka-sns-bridge). OTEL_SDK_DISABLED=true turns it all off.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of the bridge's spans unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise.
const ServiceName = "kafka-sns-bridge"

// InstrumentationName names the tracer the publisher's spans come from.
const InstrumentationName = "github.com/thena-ai/kafka-sns-bridge/sns"

// Tracing is the bridge's tracer provider, or nothing when tracing is off.
// The zero value and nil are "off". Safe for concurrent use.
type Tracing struct {
	tp *sdktrace.TracerProvider
}

// New reads the OTEL_* variables through getenv and returns the bridge's
// Tracing: off (Tracer returns nil) unless OTEL_TRACES_EXPORTER is otlp.
// An exporter or protocol the bridge does not have is an error naming the
// variable. log receives the SDK's own errors (an export that failed),
// under the err key. New dials nothing: the exporter connects when it
// first exports.
func New(ctx context.Context, getenv func(string) string, version string, log *slog.Logger) (*Tracing, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return &Tracing{}, nil
	}
	on, err := exporterOn(getenv("OTEL_TRACES_EXPORTER"))
	if err != nil || !on {
		return &Tracing{}, err
	}
	// The signal's own variable wins over the general one, as the
	// exporter reads them.
	key := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if getenv(key) == "" {
		key = "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	if p := strings.TrimSpace(getenv(key)); p != "" && p != "http/protobuf" {
		return nil, fmt.Errorf("tracing: %s=%q: the bridge exports OTLP over http/protobuf only", key, p)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(ServiceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource from OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME: %w", err)
	}
	if log != nil {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("opentelemetry", slog.String("err", err.Error()))
		}))
	}
	return &Tracing{tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))}, nil
}

// NewWithProvider wraps a tracer provider built elsewhere (tests: an SDK
// provider over an in-memory exporter).
func NewWithProvider(tp *sdktrace.TracerProvider) *Tracing { return &Tracing{tp: tp} }

// exporterOn reads OTEL_TRACES_EXPORTER: a comma-separated list in which
// the bridge knows otlp and none.
func exporterOn(v string) (bool, error) {
	on := false
	for _, name := range strings.Split(v, ",") {
		switch name = strings.TrimSpace(name); name {
		case "", "none":
		case "otlp":
			on = true
		default:
			return false, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q: the bridge exports otlp or none", v)
		}
	}
	return on, nil
}

// Tracer returns the tracer the publisher emits spans through, nil when
// tracing is off.
func (t *Tracing) Tracer(version string) trace.Tracer {
	if t == nil || t.tp == nil {
		return nil
	}
	return t.tp.Tracer(InstrumentationName, trace.WithInstrumentationVersion(version))
}

// Shutdown exports the spans still buffered and stops the exporter,
// waiting until ctx ends at most. A no-op when tracing is off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.tp == nil {
		return nil
	}
	if err := t.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flushing spans: %w", err)
	}
	return nil
}
