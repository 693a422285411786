package avro

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"

	"github.com/thena-ai/kafka-sns-bridge/internal/backoff"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// RegistrySource is a SchemaSource backed by a Confluent-compatible Schema
// Registry (GET /schemas/ids/{id}), using hamba's registry client. Schemas are
// immutable per id, so the Decoder's bounded cache of compiled schemas in
// front of it means the registry is asked once per id; hamba's client also
// keeps every parsed schema it fetched (a few KiB each, one per id ever seen).
// It is safe for concurrent use.
type RegistrySource struct {
	client      *registry.Client
	maxAttempts int
	retry       backoff.Policy
	// sleep waits between attempts; tests replace it to run without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// RegistryOption configures a RegistrySource.
type RegistryOption func(*registryOptions)

type registryOptions struct {
	tls            *tls.Config
	user, password string
	basicAuth      bool
	timeout        time.Duration
	maxAttempts    int
	backoff        time.Duration
	maxBackoff     time.Duration
	maxBody        int64
}

// WithTLSConfig sets the TLS configuration for an https registry URL (CA
// pool, client certificate, server name).
func WithTLSConfig(cfg *tls.Config) RegistryOption {
	return func(o *registryOptions) { o.tls = cfg }
}

// WithBasicAuth sends HTTP basic auth credentials (Confluent Cloud API key
// and secret) with every request.
func WithBasicAuth(user, password string) RegistryOption {
	return func(o *registryOptions) { o.user, o.password, o.basicAuth = user, password, true }
}

// WithRequestTimeout bounds one HTTP request (default 5s).
func WithRequestTimeout(d time.Duration) RegistryOption {
	return func(o *registryOptions) { o.timeout = d }
}

// WithRetry sets how many attempts a lookup makes on 5xx and network errors
// (default 5) and the backoff between them (internal/backoff): after n failed
// attempts the wait is uniformly random in [0, min(max, initial*2^(n-1))]
// (full jitter), initial defaulting to 100ms and max to 2s.
func WithRetry(attempts int, initial, maxBackoff time.Duration) RegistryOption {
	return func(o *registryOptions) { o.maxAttempts, o.backoff, o.maxBackoff = attempts, initial, maxBackoff }
}

// WithMaxResponseBytes bounds the size of one registry response (default 4 MiB).
func WithMaxResponseBytes(n int64) RegistryOption {
	return func(o *registryOptions) { o.maxBody = n }
}

// NewRegistrySource returns a source for the registry at baseURL, e.g.
// "https://psrc-xxxx.eu-west-1.aws.confluent.cloud" or Apicurio's
// "http://localhost:8080/apis/ccompat/v7". It does not contact the registry.
func NewRegistrySource(baseURL string, opts ...RegistryOption) (*RegistrySource, error) {
	o := registryOptions{timeout: 5 * time.Second, maxAttempts: 5, backoff: 100 * time.Millisecond, maxBackoff: 2 * time.Second, maxBody: 4 << 20}
	for _, opt := range opts {
		opt(&o)
	}
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("avro: registry URL %q: %w", baseURL, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("avro: registry URL %q: want http(s)://host[:port][/path]", baseURL)
	case o.tls != nil && u.Scheme != "https":
		return nil, fmt.Errorf("avro: registry URL %q: WithTLSConfig needs an https URL", baseURL)
	case o.basicAuth && o.user == "":
		return nil, errors.New("avro: WithBasicAuth: empty user")
	case o.timeout <= 0:
		return nil, fmt.Errorf("avro: WithRequestTimeout: %v, want > 0", o.timeout)
	case o.maxAttempts < 1:
		return nil, fmt.Errorf("avro: WithRetry: %d attempts, want at least 1", o.maxAttempts)
	case o.backoff <= 0 || o.maxBackoff < o.backoff:
		return nil, fmt.Errorf("avro: WithRetry: backoff %v up to %v, want 0 < initial <= max", o.backoff, o.maxBackoff)
	case o.maxBody < 1:
		return nil, fmt.Errorf("avro: WithMaxResponseBytes: %d, want > 0", o.maxBody)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	if o.tls != nil {
		base.TLSClientConfig = o.tls.Clone()
	}
	httpClient := &http.Client{
		Timeout:   o.timeout,
		Transport: &checkedTransport{next: base, maxBody: o.maxBody},
	}
	copts := []registry.ClientFunc{registry.WithHTTPClient(httpClient)}
	if o.basicAuth {
		copts = append(copts, registry.WithBasicAuth(o.user, o.password))
	}
	client, err := registry.NewClient(baseURL, copts...)
	if err != nil {
		return nil, fmt.Errorf("avro: registry client: %w", err)
	}
	return &RegistrySource{
		client:      client,
		maxAttempts: o.maxAttempts,
		retry:       backoff.Policy{Base: o.backoff, Max: o.maxBackoff},
		sleep:       sleepCtx,
	}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Schema fetches the schema with the given id. A 404 is a Permanent failure
// with reason unknown_schema; a schema that does not parse is Permanent
// schema_invalid; 5xx, other error statuses and network errors are retried
// with full-jitter exponential backoff up to the configured attempts, then
// returned as a Transient failure with reason registry. Schema blocks for at
// most the attempts' timeouts and backoffs, and returns early when ctx is
// done.
func (r *RegistrySource) Schema(ctx context.Context, id int) (havro.Schema, error) {
	for attempt := 1; ; attempt++ {
		s, err := r.client.GetSchema(ctx, id)
		if err == nil {
			return s, nil
		}
		var regErr registry.Error
		var urlErr *url.Error
		switch {
		case errors.As(err, &regErr) && regErr.StatusCode == http.StatusNotFound:
			return nil, failure.Permanentf(failure.ReasonUnknownSchema, "schema id %d: registry answered 404: %w", id, err)
		case errors.As(err, &regErr), errors.As(err, &urlErr), ctx.Err() != nil:
			// Retried below. 401/403 are retried too: they are the bridge's
			// configuration, not the event's fault, so never a dead letter.
		default:
			// checkedTransport has vetted the response, so what is left is
			// hamba failing to parse the schema text.
			return nil, failure.Permanentf(failure.ReasonSchemaInvalid, "schema id %d: %w", id, err)
		}
		if attempt >= r.maxAttempts || ctx.Err() != nil {
			return nil, failure.Transientf(failure.ReasonRegistry, "schema id %d: giving up after %d attempts: %w", id, attempt, err)
		}
		if err := r.sleep(ctx, r.retry.Delay(attempt)); err != nil {
			return nil, failure.Transientf(failure.ReasonRegistry, "schema id %d: %w", id, err)
		}
	}
}

// checkedTransport reads each response body in full, up to a limit, inside
// RoundTrip, and checks that a 200 response is a JSON object with a "schema"
// string. So a connection cut mid-body, an oversized body or a proxy's HTML
// page surface as a *url.Error (retried), and a parse error from the client
// can only mean the schema text itself is invalid.
type checkedTransport struct {
	next    http.RoundTripper
	maxBody int64
}

func (t *checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxBody+1))
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading registry response: %w", err)
	}
	if int64(len(body)) > t.maxBody {
		return nil, fmt.Errorf("registry response larger than %d bytes", t.maxBody)
	}
	if resp.StatusCode == http.StatusOK {
		var payload struct {
			Schema *string `json:"schema"`
		}
		if err := json.Unmarshal(body, &payload); err != nil || payload.Schema == nil {
			return nil, fmt.Errorf("registry response is not a schema object (content type %q)", resp.Header.Get("Content-Type"))
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}
