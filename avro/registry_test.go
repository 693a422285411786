package avro

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/backoff"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

const testSchema = `{"type":"record","name":"Ping","namespace":"com.thena.test","fields":[{"name":"eventType","type":"string"}]}`

// registryDouble speaks the Confluent GET /schemas/ids/{id} API. fail is
// how many requests answer 500 before it answers properly.
type registryDouble struct {
	fail     atomic.Int64
	requests atomic.Int64
	user     string
	password string
	schemas  map[string]string // id -> response body
}

func (r *registryDouble) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	if r.user != "" {
		if u, p, ok := req.BasicAuth(); !ok || u != r.user || p != r.password {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
			return
		}
	}
	if r.fail.Add(-1) >= 0 {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error_code":50001,"message":"Error in the backend datastore"}`))
		return
	}
	id, ok := strings.CutPrefix(req.URL.Path, "/schemas/ids/")
	body, found := r.schemas[id]
	if req.Method != http.MethodGet || !ok || !found {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error_code":40403,"message":"Schema not found"}`))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	_, _ = w.Write([]byte(body))
}

func schemaBody(s string) string {
	b, _ := json.Marshal(map[string]string{"schema": s})
	return string(b)
}

func newDouble() *registryDouble {
	return &registryDouble{schemas: map[string]string{
		"7":  schemaBody(testSchema),
		"11": schemaBody(testSchema),
		"12": schemaBody(testSchema),
		"13": schemaBody(testSchema),
		"8":  schemaBody(`{"type":"record","name":"Broken","fields":[{"name":"x","type":"nope"}]}`),
		"9":  `<html>proxy error</html>`,
		"10": `{"schemaType":"AVRO"}`,
	}}
}

// noSleep records the backoff waits instead of sleeping.
func noSleep(src *RegistrySource) *[]time.Duration {
	var waits []time.Duration
	src.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return &waits
}

// withinCaps reports whether waits has one wait per cap, each in [0, cap]:
// the waits are full jitter, so only their bounds are known.
func withinCaps(waits []time.Duration, caps ...time.Duration) bool {
	if len(waits) != len(caps) {
		return false
	}
	for i, w := range waits {
		if w < 0 || w > caps[i] {
			return false
		}
	}
	return true
}

func TestRegistrySource(t *testing.T) {
	reg := newDouble()
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	src, err := NewRegistrySource(srv.URL, WithRetry(4, 100*time.Millisecond, 250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	waits := noSleep(src)
	ctx := context.Background()
	if want := (backoff.Policy{Base: 100 * time.Millisecond, Max: 250 * time.Millisecond}); src.retry != want {
		t.Fatalf("retry policy %+v, want %+v from WithRetry", src.retry, want)
	}

	t.Run("found", func(t *testing.T) {
		s, err := src.Schema(ctx, 7)
		if err != nil || !strings.Contains(s.String(), "com.thena.test.Ping") {
			t.Fatalf("Schema(7) = %v, %v", s, err)
		}
	})
	t.Run("404 is unknown_schema", func(t *testing.T) {
		*waits = nil
		_, err := src.Schema(ctx, 404)
		if !failure.IsPermanent(err) || failure.ReasonOf(err) != failure.ReasonUnknownSchema || len(*waits) != 0 {
			t.Fatalf("err = %v after %d waits, want permanent unknown_schema at once", err, len(*waits))
		}
	})
	t.Run("500 then 200 is retried", func(t *testing.T) {
		*waits = nil
		reg.fail.Store(2)
		before := reg.requests.Load()
		if _, err := src.Schema(ctx, 11); err != nil {
			t.Fatal(err)
		}
		if n := reg.requests.Load() - before; n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
		if got := *waits; !withinCaps(got, 100*time.Millisecond, 200*time.Millisecond) {
			t.Errorf("waits %v, want two, at most [100ms 200ms] (full jitter)", got)
		}
	})
	t.Run("500 forever gives up transient", func(t *testing.T) {
		*waits = nil
		reg.fail.Store(1000)
		t.Cleanup(func() { reg.fail.Store(0) })
		before := reg.requests.Load()
		_, err := src.Schema(ctx, 12)
		if failure.ClassOf(err) != failure.Transient || failure.ReasonOf(err) != failure.ReasonRegistry {
			t.Fatalf("err = %v, want transient registry", err)
		}
		if n := reg.requests.Load() - before; n != 4 {
			t.Errorf("%d requests, want 4 attempts", n)
		}
		if got := *waits; !withinCaps(got, 100*time.Millisecond, 200*time.Millisecond, 250*time.Millisecond) {
			t.Errorf("waits %v, want three, capped at 250ms", got)
		}
	})
	t.Run("invalid schema is schema_invalid", func(t *testing.T) {
		_, err := src.Schema(ctx, 8)
		if !failure.IsPermanent(err) || failure.ReasonOf(err) != failure.ReasonSchemaInvalid {
			t.Fatalf("err = %v, want permanent schema_invalid", err)
		}
	})
	t.Run("non-registry answer is transient", func(t *testing.T) {
		for _, id := range []int{9, 10} {
			_, err := src.Schema(ctx, id)
			if failure.ClassOf(err) != failure.Transient {
				t.Errorf("id %d: err = %v, want transient", id, err)
			}
		}
	})
	t.Run("unreachable is transient", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		s, _ := NewRegistrySource(dead.URL, WithRetry(2, time.Millisecond, time.Millisecond))
		noSleep(s)
		_, err := s.Schema(ctx, 7)
		if failure.ClassOf(err) != failure.Transient || failure.ReasonOf(err) != failure.ReasonRegistry {
			t.Fatalf("err = %v, want transient registry", err)
		}
	})
	t.Run("cancelled context stops retrying", func(t *testing.T) {
		reg.fail.Store(1000)
		t.Cleanup(func() { reg.fail.Store(0) })
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := src.Schema(cctx, 13)
		if failure.ClassOf(err) != failure.Transient {
			t.Fatalf("err = %v, want transient", err)
		}
	})
}

func TestRegistrySourceTLSAndBasicAuth(t *testing.T) {
	reg := newDouble()
	reg.user, reg.password = "key", "secret"
	srv := httptest.NewTLSServer(reg)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	src, err := NewRegistrySource(srv.URL, WithTLSConfig(tlsCfg), WithBasicAuth("key", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Schema(context.Background(), 7); err != nil {
		t.Fatalf("with CA and credentials: %v", err)
	}

	wrong, _ := NewRegistrySource(srv.URL, WithTLSConfig(tlsCfg), WithBasicAuth("key", "wrong"), WithRetry(2, time.Millisecond, time.Millisecond))
	noSleep(wrong)
	if _, err := wrong.Schema(context.Background(), 7); failure.ClassOf(err) != failure.Transient || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("wrong password: err = %v, want transient (a configuration problem, never a dead letter)", err)
	}

	untrusted, _ := NewRegistrySource(srv.URL, WithRetry(1, time.Millisecond, time.Millisecond))
	if _, err := untrusted.Schema(context.Background(), 7); failure.ClassOf(err) != failure.Transient || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: err = %v, want a transient certificate error", err)
	}
}

func TestNewRegistrySourceValidates(t *testing.T) {
	for name, tt := range map[string]struct {
		url  string
		opts []RegistryOption
		want string
	}{
		"no scheme":     {"localhost:8081", nil, "want http"},
		"TLS over http": {"http://r:8081", []RegistryOption{WithTLSConfig(&tls.Config{})}, "WithTLSConfig"},
		"empty user":    {"http://r:8081", []RegistryOption{WithBasicAuth("", "x")}, "WithBasicAuth"},
		"no attempts":   {"http://r:8081", []RegistryOption{WithRetry(0, time.Second, time.Second)}, "WithRetry"},
		"backoff order": {"http://r:8081", []RegistryOption{WithRetry(3, time.Second, time.Millisecond)}, "WithRetry"},
		"timeout":       {"http://r:8081", []RegistryOption{WithRequestTimeout(0)}, "WithRequestTimeout"},
		"body limit":    {"http://r:8081", []RegistryOption{WithMaxResponseBytes(0)}, "WithMaxResponseBytes"},
	} {
		if _, err := NewRegistrySource(tt.url, tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one naming %s", name, err, tt.want)
		}
	}
}

// TestDecoderOverRegistry decodes through the registry source end to end.
func TestDecoderOverRegistry(t *testing.T) {
	reg := newDouble()
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	src, _ := NewRegistrySource(srv.URL)
	d, err := NewDecoder(src, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	value := append(AppendWireHeader(nil, 7), byte(2*len("ticket:created")))
	value = append(value, "ticket:created"...)
	for range 3 {
		ev, err := d.Decode(context.Background(), value)
		if err != nil || ev.Header.EventType != "ticket:created" || ev.SchemaID != 7 {
			t.Fatalf("Decode = %+v, %v", ev, err)
		}
	}
	if n := reg.requests.Load(); n != 1 {
		t.Errorf("%d registry requests for one schema id, want 1", n)
	}
	_, err = d.Decode(context.Background(), append(AppendWireHeader(nil, 404), 0))
	if failure.ReasonOf(err) != failure.ReasonUnknownSchema {
		t.Errorf("unknown id: %v", err)
	}
}
