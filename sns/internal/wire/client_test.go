package wire_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire/wiretest"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// verifiedDouble serves the SNS double over loopback behind a SigV4
// verifier for testCreds.
func verifiedDouble(t *testing.T) (*snstest.Server, *sigV4Verifier, string, *http.Client) {
	t.Helper()
	srv := snstest.New(snstest.Options{})
	v := &sigV4Verifier{accessKey: "AKIDTEST", secret: "secret-test", region: "us-east-1", service: "sns", next: srv}
	ts := httptest.NewServer(v)
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ts.Close()
	})
	return srv, v, ts.URL, &http.Client{Transport: tr}
}

// doubleTopics returns a maker of new topics on srv.
func doubleTopics(srv *snstest.Server) func(t *testing.T, fifo bool) string {
	n := 0
	return func(t *testing.T, fifo bool) string {
		t.Helper()
		n++
		name, attrs := fmt.Sprintf("topic-%d", n), map[string]string{}
		if fifo {
			name += ".fifo"
			attrs["FifoTopic"] = "true"
		}
		arn, err := srv.CreateTopic(name, attrs)
		if err != nil {
			t.Fatal(err)
		}
		return arn
	}
}

// received is a message as the double's topic got it.
type received struct {
	Body, GroupID, DedupID string
	Attributes             map[string]string
}

func messages(srv *snstest.Server, arn string) []received {
	var out []received
	for _, m := range srv.Messages(arn) {
		r := received{Body: m.Body, GroupID: m.GroupID, DedupID: m.DedupID, Attributes: map[string]string{}}
		for k, a := range m.Attributes {
			switch a.DataType {
			case "String":
				r.Attributes[k] = a.StringValue
			case "Number":
				r.Attributes[k] = "number " + a.StringValue
			default:
				r.Attributes[k] = "type " + a.DataType
			}
		}
		out = append(out, r)
	}
	return out
}

// TestSignedBatchesReachTheDouble publishes the corpus through the SNS
// double behind a SigV4 verifier, with the wire client and with the SDK:
// every request verifies, each topic gets the same messages, intact, and
// both get the same per-entry answer.
func TestSignedBatchesReachTheDouble(t *testing.T) {
	srv, v, endpoint, hc := verifiedDouble(t)
	sdk, w := clients(t, endpoint, hc)
	newTopic := doubleTopics(srv)
	for name, entries := range corpus() {
		t.Run(name, func(t *testing.T) {
			fifo := len(entries) > 0 && entries[0].GroupID != ""
			direct, viaSDK := newTopic(t, fifo), newTopic(t, fifo)
			var res, sdkRes wire.BatchResult
			before := v.verified.Load()
			errDirect := w.PublishBatch(t.Context(), direct, entries, &res)
			errSDK := wire.SDK{API: sdk}.PublishBatch(t.Context(), viaSDK, entries, &sdkRes)
			if v.verified.Load() != before+2 {
				t.Fatalf("verified %d of 2 requests: %v / %v", v.verified.Load()-before, errDirect, errSDK)
			}
			a, b := outcomeOf(&res, errDirect), outcomeOf(&sdkRes, errSDK)
			a.Result.RequestID, b.Result.RequestID = "", ""
			for _, o := range []*outcome{&a, &b} {
				for i := range o.Result.Successful {
					o.Result.Successful[i].MessageID, o.Result.Successful[i].SequenceNumber = "", ""
				}
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("direct %+v\nSDK    %+v", a, b)
			}
			got, want := messages(srv, direct), messages(srv, viaSDK)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("delivered differently:\ndirect %.400v\nSDK    %.400v", got, want)
			}
			if errDirect == nil && len(res.Successful) > 0 {
				checkDelivered(t, entries, res, got)
			}
		})
	}
}

// checkDelivered compares what the topic got with the entries SNS accepted.
func checkDelivered(t *testing.T, entries []wire.Entry, res wire.BatchResult, got []received) {
	t.Helper()
	if len(got) != len(res.Successful) {
		t.Fatalf("topic got %d messages, %d accepted", len(got), len(res.Successful))
	}
	byID := map[string]wire.Entry{}
	for _, e := range entries {
		byID[e.ID] = e
	}
	for i, s := range res.Successful {
		e := byID[s.ID]
		want := received{Body: e.Body, GroupID: e.GroupID, DedupID: e.DedupID, Attributes: map[string]string{}}
		for _, a := range e.Attributes {
			want.Attributes[a.Name] = a.Value
			if a.Number {
				want.Attributes[a.Name] = "number " + a.Value
			}
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("entry %s arrived as %.300v, sent %.300v", s.ID, got[i], want)
		}
	}
}

// TestVerifierRejectsBadSignatures shows the verifier can fail: a wrong
// secret, and a body changed after signing.
func TestVerifierRejectsBadSignatures(t *testing.T) {
	srv, _, endpoint, hc := verifiedDouble(t)
	arn, _ := srv.CreateTopic("t", nil)
	o := sdkOptions(endpoint, hc)
	o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "wrong", "")
	w, err := wire.New(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	var res wire.BatchResult
	got := outcomeOf(&res, w.PublishBatch(t.Context(), arn, oneEntry, &res))
	if got.Code != "SignatureDoesNotMatch" || got.Status != 403 {
		t.Errorf("wrong secret: %+v", got)
	}
	tamper := &fakeHTTP{answer: func(req *http.Request, body []byte) (*http.Response, error) {
		req = req.Clone(req.Context())
		body[len(body)-1] ^= 1
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		return hc.Do(req)
	}}
	_, w = clients(t, endpoint, tamper)
	got = outcomeOf(&res, w.PublishBatch(t.Context(), arn, oneEntry, &res))
	if got.Code != "SignatureDoesNotMatch" {
		t.Errorf("changed body: %+v", got)
	}
	if len(srv.Messages(arn)) != 0 {
		t.Errorf("a badly signed request was delivered")
	}
}

// TestEndpointMatchesSDK: requests go where the SDK's go, for every way of
// naming the endpoint.
func TestEndpointMatchesSDK(t *testing.T) {
	tests := []struct {
		name string
		opts func(*awssns.Options)
		env  string
		want string
	}{
		{"base endpoint", func(o *awssns.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:4566") }, "", "http://127.0.0.1:4566/"},
		{"base endpoint with a path", func(o *awssns.Options) { o.BaseEndpoint = aws.String("https://proxy.example/sns") }, "", "https://proxy.example/sns"},
		{"region", func(o *awssns.Options) { o.Region = "eu-west-1" }, "", "https://sns.eu-west-1.amazonaws.com/"},
		{"China", func(o *awssns.Options) { o.Region = "cn-north-1" }, "", "https://sns.cn-north-1.amazonaws.com.cn/"},
		{"FIPS", func(o *awssns.Options) { o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled }, "", "https://sns-fips.us-east-1.amazonaws.com/"},
		{"dual-stack", func(o *awssns.Options) { o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled }, "", "https://sns.us-east-1.api.aws/"},
		{"AWS_ENDPOINT_URL_SNS", nil, "http://127.0.0.1:9911", "http://127.0.0.1:9911/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := answering(200, nil, wiretest.BatchAnswers["moto"])
			var sdk *awssns.Client
			var w *wire.Client
			var err error
			if tt.env != "" {
				t.Setenv("AWS_ENDPOINT_URL_SNS", tt.env)
				t.Setenv("AWS_CA_BUNDLE", "") // a CA bundle needs the SDK's own HTTP client
				cfg, cerr := config.LoadDefaultConfig(t.Context(), config.WithRegion("us-east-1"),
					config.WithCredentialsProvider(testCreds), config.WithHTTPClient(h),
					config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
				if cerr != nil {
					t.Fatal(cerr)
				}
				sdk = awssns.NewFromConfig(cfg)
				w, err = wire.NewFromConfig(t.Context(), cfg)
			} else {
				o := awssns.Options{Region: "us-east-1", Credentials: testCreds, HTTPClient: h, Retryer: aws.NopRetryer{}}
				tt.opts(&o)
				sdk = awssns.New(o)
				w, err = wire.New(t.Context(), sdk.Options())
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Endpoint() != tt.want {
				t.Errorf("Endpoint() = %s, want %s", w.Endpoint(), tt.want)
			}
			viaSDK, direct := publishBoth(t.Context(), sdk, w, testTopic, oneEntry)
			if viaSDK.Err || direct.Err {
				t.Fatalf("%+v / %+v", viaSDK, direct)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			a, b := h.requests[0], h.requests[1]
			if a.URL.String() != b.URL.String() || cmp.Or(a.Host, a.URL.Host) != cmp.Or(b.Host, b.URL.Host) || a.URL.String() != tt.want {
				t.Errorf("SDK sent to %s (host %q), wire to %s (host %q)", a.URL, a.Host, b.URL, b.Host)
			}
		})
	}
	if _, err := wire.New(t.Context(), awssns.Options{Region: "us east/1"}); err == nil {
		t.Error("an invalid region was accepted")
	}
}

// countingCreds counts Retrieve calls.
type countingCreds struct {
	n     atomic.Int64
	token string
}

func (c *countingCreds) Retrieve(context.Context) (aws.Credentials, error) {
	c.n.Add(1)
	return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret-test", SessionToken: c.token,
		CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
}

func TestCredentials(t *testing.T) {
	t.Run("cached, session token signed", func(t *testing.T) {
		srv, v, endpoint, hc := verifiedDouble(t)
		arn, _ := srv.CreateTopic("t", nil)
		creds := &countingCreds{token: "session-token"}
		o := sdkOptions(endpoint, hc)
		o.Credentials = creds
		w, err := wire.New(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		var res wire.BatchResult
		for range 3 {
			if err := w.PublishBatch(t.Context(), arn, oneEntry, &res); err != nil {
				t.Fatal(err)
			}
		}
		if creds.n.Load() != 1 || v.verified.Load() != 3 {
			t.Errorf("3 calls retrieved credentials %d times, %d verified", creds.n.Load(), v.verified.Load())
		}
	})
	t.Run("session token header", func(t *testing.T) {
		h := answering(200, nil, wiretest.BatchAnswers["moto"])
		o := sdkOptions("http://sns.test", h)
		o.Credentials = &countingCreds{token: "session-token"}
		w, _ := wire.New(t.Context(), o)
		var res wire.BatchResult
		if err := w.PublishBatch(t.Context(), testTopic, oneEntry, &res); err != nil {
			t.Fatal(err)
		}
		req, _ := h.last(t)
		if req.Header.Get("X-Amz-Security-Token") != "session-token" ||
			!strings.Contains(req.Header.Get("Authorization"), "x-amz-security-token") {
			t.Errorf("session token not sent and signed: %v", req.Header)
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		h := answering(200, nil, wiretest.BatchAnswers["moto"])
		o := sdkOptions("http://sns.test", h)
		o.Credentials = aws.AnonymousCredentials{}
		sdk := awssns.New(o)
		w, err := wire.New(t.Context(), sdk.Options())
		if err != nil {
			t.Fatal(err)
		}
		publishBoth(t.Context(), sdk, w, testTopic, oneEntry)
		for _, req := range h.requests {
			if req.Header.Get("Authorization") != "" {
				t.Errorf("anonymous request signed: %v", req.Header)
			}
		}
	})
	t.Run("failing provider", func(t *testing.T) {
		h := answering(200, nil, wiretest.BatchAnswers["moto"])
		o := sdkOptions("http://sns.test", h)
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no role")
		})
		sdk := awssns.New(o)
		w, _ := wire.New(t.Context(), sdk.Options())
		viaSDK, direct := publishBoth(t.Context(), sdk, w, testTopic, oneEntry)
		if !reflect.DeepEqual(viaSDK, direct) || !direct.Err || len(h.requests) != 0 {
			t.Errorf("SDK %+v\ndirect %+v (%d requests sent)", viaSDK, direct, len(h.requests))
		}
	})
}

// TestClockSkewCorrected: like the SDK, the client signs in the server's
// time once an answer's Date header shows the host clock is off.
func TestClockSkewCorrected(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		t.Run(fmt.Sprintf("disabled=%t", disabled), func(t *testing.T) {
			ahead := time.Now().Add(2 * time.Hour).UTC()
			h := answering(200, map[string]string{"Date": ahead.Format(http.TimeFormat)}, wiretest.BatchAnswers["moto"])
			o := sdkOptions("http://sns.test", h)
			o.DisableClockSkewCorrection = disabled
			sdk := awssns.New(o)
			w, _ := wire.New(t.Context(), sdk.Options())
			for range 2 {
				publishBoth(t.Context(), sdk, w, testTopic, oneEntry)
			}
			signedAt := func(i int) time.Time {
				at, err := time.Parse("20060102T150405Z", h.requests[i].Header.Get("X-Amz-Date"))
				if err != nil {
					t.Fatal(err)
				}
				return at
			}
			skewed := func(at time.Time) bool { return at.Sub(ahead).Abs() < 10*time.Second }
			if skewed(signedAt(1)) {
				t.Errorf("first wire request signed at %v, before any answer", signedAt(1))
			}
			// Requests: SDK, wire, SDK, wire.
			if skewed(signedAt(2)) != !disabled || skewed(signedAt(3)) != !disabled {
				t.Errorf("second calls signed at %v (SDK), %v (wire); server time %v", signedAt(2), signedAt(3), ahead)
			}
		})
	}
}

// TestTransportFailuresMatchSDK: failures without an answer give the
// SDK's errors.
func TestTransportFailuresMatchSDK(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name   string
		answer func(req *http.Request, body []byte) (*http.Response, error)
		ctx    func() (context.Context, context.CancelFunc)
		check  func(outcome) bool
	}{
		{"connection refused", func(*http.Request, []byte) (*http.Response, error) { return nil, refused }, nil,
			func(o outcome) bool { return o.Err && !o.NetTimeout && !o.API }},
		{"timeout", func(*http.Request, []byte) (*http.Response, error) {
			return nil, &net.DNSError{Err: "i/o timeout", IsTimeout: true}
		}, nil, func(o outcome) bool { return o.NetTimeout }},
		{"cancelled during the call", func(req *http.Request, _ []byte) (*http.Response, error) {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx, cancel
		}, func(o outcome) bool { return o.Canceled }},
		{"deadline", func(req *http.Request, _ []byte) (*http.Response, error) {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		},
			func(o outcome) bool { return o.Deadline }},
		{"cancelled before", nil, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, func(o outcome) bool { return o.Canceled }},
		{"body cut short", func(*http.Request, []byte) (*http.Response, error) {
			r := response(200, nil, "")
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader("<PublishBatchResponse><PublishBatchResult>"), errReader{}))
			return r, nil
		}, nil, func(o outcome) bool { return o.Deserialization && o.Status == 200 }},
		{"503 body cut short", func(*http.Request, []byte) (*http.Response, error) {
			r := response(503, nil, "")
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader("<ErrorResponse>"), errReader{}))
			return r, nil
		}, nil, func(o outcome) bool { return o.Deserialization && o.Status == 503 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHTTP{answer: tt.answer}
			if h.answer == nil {
				h.answer = func(*http.Request, []byte) (*http.Response, error) { return nil, errors.New("no request expected") }
			}
			sdk, w := clients(t, "http://sns.test", h)
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			var res wire.BatchResult
			var direct, viaSDK outcome
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			viaSDK = outcomeOf(&res, wire.SDK{API: sdk}.PublishBatch(ctx, testTopic, oneEntry, &res))
			cancel()
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			direct = outcomeOf(&res, w.PublishBatch(ctx, testTopic, oneEntry, &res))
			cancel()
			if !reflect.DeepEqual(viaSDK, direct) || !tt.check(direct) {
				t.Errorf("SDK    %+v\ndirect %+v", viaSDK, direct)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, syscall.ECONNRESET }

// TestEarlyAnswerCannotReadAnotherCallsBody: a transport that answers
// before reading the request body, and reads it later, gets an error, never
// the bytes of the next call, which reuses the buffer.
func TestEarlyAnswerCannotReadAnotherCallsBody(t *testing.T) {
	var held []io.Reader
	early := httpDoer(func(req *http.Request) (*http.Response, error) {
		held = append(held, req.Body)
		return response(200, nil, wiretest.BatchAnswers["moto"]), nil
	})
	o := sdkOptions("http://sns.test", early)
	w, err := wire.New(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	var res wire.BatchResult
	for _, body := range []string{"first call", "second call"} {
		if err := w.PublishBatch(t.Context(), testTopic, []wire.Entry{{ID: "0", Body: body}}, &res); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range held {
		b, err := io.ReadAll(r)
		if err == nil || len(b) != 0 {
			t.Errorf("body of call %d read %q, %v after the call returned", i, b, err)
		}
	}
}

type httpDoer func(*http.Request) (*http.Response, error)

func (f httpDoer) Do(req *http.Request) (*http.Response, error) { return f(req) }

// TestConcurrentCalls runs calls from many goroutines through one client
// (pooled buffers, one skew, one credentials cache) against the double.
func TestConcurrentCalls(t *testing.T) {
	srv := snstest.New(snstest.Options{CountOnly: true})
	arn, _ := srv.CreateTopic("t", nil)
	_, w := clients(t, "http://snstest.invalid", srv.HTTPClient())
	const goroutines, calls = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			var res wire.BatchResult
			entries := make([]wire.Entry, 10)
			for c := range calls {
				for i := range entries {
					entries[i] = wire.Entry{ID: fmt.Sprint(i), Body: fmt.Sprintf("g%d c%d e%d %s", g, c, i, strings.Repeat("x", 100*g)),
						Attributes: bridgeAttributes(i)}
				}
				if err := w.PublishBatch(t.Context(), arn, entries, &res); err != nil {
					errs <- err
					return
				}
				ids := make([]string, 0, 10)
				for _, s := range res.Successful {
					ids = append(ids, s.ID)
				}
				sort.Strings(ids)
				if len(res.Failed) != 0 || strings.Join(ids, "") != "0123456789" {
					errs <- fmt.Errorf("answer %+v", res)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.Count(arn); n != goroutines*calls*10 {
		t.Errorf("topic counted %d, want %d", n, goroutines*calls*10)
	}
}
