package sns_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire/wiretest"
)

// answerTransport answers every request with answer, in process.
type answerTransport func(*http.Request) (*http.Response, error)

func (f answerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return f(req)
}

func answer(status int, header map[string]string, body string) answerTransport {
	return func(req *http.Request) (*http.Response, error) {
		h := http.Header{}
		for k, v := range header {
			h.Set(k, v)
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	}
}

// classified is what the publisher takes from a failed call: Classify's
// verdict, and the message and sender fault a dead letter carries.
type classified struct {
	Class       failure.Class
	Reason      string
	Code        string
	Message     string
	SenderFault bool
}

func classify(err error) classified {
	if err == nil {
		return classified{}
	}
	fe := sns.Classify(err)
	c := classified{Class: fe.Class, Reason: fe.Reason, Code: fe.Code}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		c.Message, c.SenderFault = apiErr.ErrorMessage(), apiErr.ErrorFault() != smithy.FaultServer
	}
	return c
}

// bothPaths makes one PublishBatch call through the SDK client sns.NewClient
// builds and one through the direct client built from its options, both
// answered by rt.
func bothPaths(t *testing.T, ctx func() (context.Context, context.CancelFunc), rt http.RoundTripper) (sdkRes, directRes wire.BatchResult, viaSDK, direct error) {
	t.Helper()
	client, err := sns.NewClient(t.Context(), sns.ClientConfig{Region: "us-east-1", Endpoint: "http://sns.test",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wire.New(t.Context(), client.Options())
	if err != nil {
		t.Fatal(err)
	}
	entries := []wire.Entry{{ID: "0", Body: "x", Attributes: []wire.Attribute{{Name: "event_name", Value: "ticket:created"}}}}
	c, cancel := ctx()
	viaSDK = wire.SDK{API: client}.PublishBatch(c, "arn:aws:sns:us-east-1:123456789012:t", entries, &sdkRes)
	cancel()
	c, cancel = ctx()
	direct = w.PublishBatch(c, "arn:aws:sns:us-east-1:123456789012:t", entries, &directRes)
	cancel()
	return sdkRes, directRes, viaSDK, direct
}

func background() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// TestDirectPathClassifiesAsSDK: for every answer SNS and its stand-ins
// give, and every way a call fails without an answer, sns.Classify gives the
// direct path's error the class, reason and code it gives the SDK's, and the
// dead letter would carry the same message and sender fault. A few verdicts
// are pinned so that agreeing on the wrong thing fails too.
func TestDirectPathClassifiesAsSDK(t *testing.T) {
	want := map[string]classified{
		"NotFound (moto)":         {failure.Systemic, failure.ReasonTopicMissing, "NotFound", "Topic does not exist", true},
		"InvalidParameter (moto)": {failure.Permanent, failure.ReasonSNSRejected, "InvalidParameter", "", true},
		"BatchRequestTooLong":     {failure.Permanent, failure.ReasonTooLarge, "BatchRequestTooLong", "", true},
		"Throttled 429":           {failure.Transient, failure.ReasonThrottled, "Throttled", "Rate exceeded", true},
		"InternalError 500":       {failure.Transient, failure.ReasonSNSUnavail, "InternalError", "Internal failure", false},
		"AuthorizationError":      {failure.Systemic, failure.ReasonForbidden, "AuthorizationError", "", true},
		"503 empty":               {failure.Transient, failure.ReasonSNSUnavail, sns.CodeHTTP5xx, "", false},
		"502 html":                {failure.Transient, failure.ReasonSNSUnavail, sns.CodeHTTP5xx, "", false},
		// A bare 429 is throttling (issue 10): the status alone says so.
		"429 empty": {failure.Transient, failure.ReasonThrottled, sns.CodeHTTP429, "", false},
		// The SDK reads no code from this; neither does the direct path.
		"400 json query-compatible": {failure.Transient, failure.ReasonSNSUnavail, sns.CodeNetwork, "", false},
	}
	for name, a := range wiretest.ErrorAnswers {
		t.Run(name, func(t *testing.T) {
			_, _, viaSDK, direct := bothPaths(t, background, answer(a.Status, a.Header, a.Body))
			s, d := classify(viaSDK), classify(direct)
			if s != d {
				t.Errorf("SDK    %+v (%v)\ndirect %+v (%v)", s, viaSDK, d, direct)
			}
			if w, ok := want[name]; ok {
				if w.Message == "" {
					w.Message = d.Message
				}
				if d != w {
					t.Errorf("direct %+v, want %+v", d, w)
				}
			}
		})
	}
	for name, body := range wiretest.BatchAnswers {
		t.Run("200 "+name, func(t *testing.T) {
			sdkRes, directRes, viaSDK, direct := bothPaths(t, background, answer(200, nil, body))
			if (viaSDK == nil) != (direct == nil) || classify(viaSDK) != classify(direct) {
				t.Errorf("SDK %v, direct %v", viaSDK, direct)
			}
			if len(sdkRes.Successful)+len(directRes.Successful) > 0 && !reflect.DeepEqual(sdkRes.Successful, directRes.Successful) ||
				len(sdkRes.Failed)+len(directRes.Failed) > 0 && !reflect.DeepEqual(sdkRes.Failed, directRes.Failed) {
				t.Errorf("SDK %+v\ndirect %+v", sdkRes, directRes)
			}
		})
	}
	fail := func(err error) answerTransport {
		return func(*http.Request) (*http.Response, error) { return nil, err }
	}
	block := answerTransport(func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	})
	failures := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		rt   http.RoundTripper
		want classified
	}{
		{"connection refused", background, fail(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}),
			classified{failure.Transient, failure.ReasonSNSUnavail, sns.CodeNetwork, "", false}},
		{"connection reset", background, fail(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}),
			classified{failure.Transient, failure.ReasonSNSUnavail, sns.CodeNetwork, "", false}},
		{"dial timeout", background, fail(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{IsTimeout: true}}),
			classified{failure.Transient, failure.ReasonSNSUnavail, sns.CodeTimeout, "", false}},
		{"call deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, block, classified{failure.Transient, failure.ReasonSNSUnavail, sns.CodeTimeout, "", false}},
		{"publisher closing", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, block, classified{failure.Transient, failure.ReasonSNSUnavail, sns.CodeCanceled, "", false}},
		{"cancelled before the call", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, block, classified{failure.Transient, failure.ReasonSNSUnavail, sns.CodeCanceled, "", false}},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			_, _, viaSDK, direct := bothPaths(t, f.ctx, f.rt)
			if s, d := classify(viaSDK), classify(direct); s != d || d != f.want {
				t.Errorf("SDK    %+v (%v)\ndirect %+v (%v)\nwant   %+v", s, viaSDK, d, direct, f.want)
			}
		})
	}
}
