package offload

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// fakeS3 answers path-style PutObject and HeadBucket for the buckets it
// has, or with the error it is told to give.
type fakeS3 struct {
	mu      sync.Mutex
	buckets map[string]bool
	objects map[string]stored
	fail    func(w http.ResponseWriter) bool // answers instead, when it returns true
}

type stored struct {
	body, contentType, sse, kmsKey string
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil && f.fail(w) {
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !f.buckets[bucket] {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s3Error(w, http.StatusNotFound, "NoSuchBucket")
		return
	}
	switch r.Method {
	case http.MethodHead:
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		f.objects[bucket+"/"+key] = stored{string(b), r.Header.Get("Content-Type"),
			r.Header.Get("X-Amz-Server-Side-Encryption"), r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")}
		w.Header().Set("ETag", `"1"`)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message></Error>`, code)
}

func newFake(t *testing.T) (*fakeS3, *Store, *prometheus.Registry) {
	t.Helper()
	f := &fakeS3{buckets: map[string]bool{"events": true}, objects: map[string]stored{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := NewClient(context.Background(), ClientConfig{Region: "us-east-1", Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s, err := NewStore(client, reg)
	if err != nil {
		t.Fatal(err)
	}
	return f, s, reg
}

func TestPutStoresTheBodyWithItsEncryption(t *testing.T) {
	f, s, reg := newFake(t)
	body := `{"eventId":"E1","payload":{"text":"héllo"}}`
	for _, ev := range []*mapping.OffloadedEvent{
		{Bucket: "events", Key: "p/E1.json", Body: body, SSE: mapping.SSEKMS, KMSKeyID: "alias/thena"},
		{Bucket: "events", Key: "p/E2.json", Body: body, SSE: mapping.SSEAES256},
		{Bucket: "events", Key: "p/E3.json", Body: body},
	} {
		if err := s.Put(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range map[string]stored{
		"events/p/E1.json": {body, ContentType, "aws:kms", "alias/thena"},
		"events/p/E2.json": {body, ContentType, "AES256", ""},
		"events/p/E3.json": {body, ContentType, "", ""},
	} {
		if got := f.objects[key]; got != want {
			t.Errorf("%s: stored %+v, want %+v", key, got, want)
		}
	}
	if n := testutil.ToFloat64(s.offloads.WithLabelValues("events")); n != 3 {
		t.Errorf("bridge_offloads_total = %v, want 3", n)
	}
	if n := testutil.ToFloat64(s.bytes.WithLabelValues("events")); n != float64(3*len(body)) {
		t.Errorf("bridge_offloaded_bytes_total = %v, want %d", n, 3*len(body))
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// S3's failures classify as the sns package's do: throttling and 5xx
// transient, a missing bucket and refusals systemic; none permanent.
func TestPutFailureClasses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		code   string
		class  failure.Class
		reason string
	}{
		{"throttled", 503, "SlowDown", failure.Transient, failure.ReasonThrottled},
		{"internal error", 500, "InternalError", failure.Transient, ReasonS3Unavail},
		{"5xx without a code", 502, "", failure.Transient, ReasonS3Unavail},
		{"access denied", 403, "AccessDenied", failure.Systemic, failure.ReasonForbidden},
		{"kms refused", 400, "KMS.DisabledException", failure.Systemic, failure.ReasonForbidden},
		{"other refusal", 400, "InvalidArgument", failure.Systemic, failure.ReasonForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, s, _ := newFake(t)
			f.fail = func(w http.ResponseWriter) bool {
				if tt.code == "" {
					w.WriteHeader(tt.status)
				} else {
					s3Error(w, tt.status, tt.code)
				}
				return true
			}
			err := s.Put(context.Background(), &mapping.OffloadedEvent{Bucket: "events", Key: "k", Body: "{}"})
			if failure.ClassOf(err) != tt.class || failure.ReasonOf(err) != tt.reason {
				t.Errorf("Put: %v; want %s %s", err, tt.class, tt.reason)
			}
			if !strings.Contains(err.Error(), "s3://events/k") {
				t.Errorf("error %q does not name the object", err)
			}
		})
	}
	_, s, _ := newFake(t)
	err := s.Put(context.Background(), &mapping.OffloadedEvent{Bucket: "nosuch", Key: "k", Body: "{}"})
	if failure.ClassOf(err) != failure.Systemic || failure.ReasonOf(err) != ReasonBucketMissing || failure.CodeOf(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: %v", err)
	}
	if n := testutil.ToFloat64(s.errors.WithLabelValues("systemic", "NoSuchBucket")); n != 1 {
		t.Errorf("bridge_offload_errors_total{systemic,NoSuchBucket} = %v", n)
	}
}

func TestCheckBucket(t *testing.T) {
	_, s, _ := newFake(t)
	if err := s.CheckBucket(context.Background(), "events"); err != nil {
		t.Errorf("existing bucket: %v", err)
	}
	err := s.CheckBucket(context.Background(), "nosuch")
	if failure.ClassOf(err) != failure.Systemic || failure.ReasonOf(err) != ReasonBucketMissing {
		t.Errorf("missing bucket: %v", err)
	}
	// Nothing answers: transient, so start-up says S3 is unreachable.
	client, err := NewClient(context.Background(), ClientConfig{Region: "us-east-1", Endpoint: "http://127.0.0.1:1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err != nil {
		t.Fatal(err)
	}
	down, _ := NewStore(client, nil)
	if err := down.CheckBucket(context.Background(), "events"); failure.ClassOf(err) != failure.Transient || failure.CodeOf(err) != CodeNetwork {
		t.Errorf("no S3: %v (code %s)", err, failure.CodeOf(err))
	}
}
