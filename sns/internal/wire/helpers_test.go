package wire_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
)

const testTopic = "arn:aws:sns:us-east-1:123456789012:wire-test"

// fakeHTTP is an HTTP client that answers in process: it reads each
// request's body, keeps it, and answers with answer.
type fakeHTTP struct {
	answer func(req *http.Request, body []byte) (*http.Response, error)

	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func (f *fakeHTTP) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	return f.answer(req, body)
}

// last returns the last request and its body.
func (f *fakeHTTP) last(t testing.TB) (*http.Request, []byte) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no request was sent")
	}
	return f.requests[len(f.requests)-1], f.bodies[len(f.bodies)-1]
}

// answering returns a fakeHTTP that always gives the same answer.
func answering(status int, header map[string]string, body string) *fakeHTTP {
	return &fakeHTTP{answer: func(*http.Request, []byte) (*http.Response, error) {
		return response(status, header, body), nil
	}}
}

func response(status int, header map[string]string, body string) *http.Response {
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body))}
}

var testCreds = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-test", "")

// sdkOptions configures an SDK client the way sns.NewClient does (one
// attempt per call) against endpoint, through h.
func sdkOptions(endpoint string, h awssns.HTTPClient) awssns.Options {
	return awssns.Options{
		Region:       "us-east-1",
		Credentials:  testCreds,
		HTTPClient:   h,
		BaseEndpoint: aws.String(endpoint),
		Retryer:      aws.NopRetryer{},
	}
}

// clients returns the SDK's client and a wire client built from its
// options, both going through h to endpoint.
func clients(t testing.TB, endpoint string, h awssns.HTTPClient) (*awssns.Client, *wire.Client) {
	t.Helper()
	sdk := awssns.New(sdkOptions(endpoint, h))
	w, err := wire.New(context.Background(), sdk.Options())
	if err != nil {
		t.Fatalf("wire.New: %v", err)
	}
	return sdk, w
}

// outcome is what the sns package reads from a PublishBatch call: the
// result, or what sns.Classify and permanentErr inspect in the error.
type outcome struct {
	Result          wire.BatchResult
	Err             bool
	Status          int // of the *awshttp.ResponseError, -1 without one
	RequestID       string
	API             bool
	Code, Message   string
	Fault           smithy.ErrorFault
	Deserialization bool
	Canceled        bool
	Deadline        bool
	NetTimeout      bool
}

func outcomeOf(res *wire.BatchResult, err error) outcome {
	o := outcome{Status: -1}
	if err == nil {
		o.Result = *res
		if len(o.Result.Successful) == 0 {
			o.Result.Successful = nil
		}
		if len(o.Result.Failed) == 0 {
			o.Result.Failed = nil
		}
		return o
	}
	o.Err = true
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		o.Status = re.HTTPStatusCode()
		o.RequestID = re.ServiceRequestID()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		o.API, o.Code, o.Message, o.Fault = true, apiErr.ErrorCode(), apiErr.ErrorMessage(), apiErr.ErrorFault()
	}
	var de *smithy.DeserializationError
	o.Deserialization = errors.As(err, &de)
	o.Canceled = errors.Is(err, context.Canceled)
	o.Deadline = errors.Is(err, context.DeadlineExceeded)
	var ne net.Error
	o.NetTimeout = errors.As(err, &ne) && ne.Timeout()
	return o
}

// publishBoth makes the same PublishBatch call through the SDK (with the
// wire.SDK adapter) and through w, and returns both outcomes.
func publishBoth(ctx context.Context, sdk *awssns.Client, w *wire.Client, topic string, entries []wire.Entry) (viaSDK, direct outcome) {
	var a, b wire.BatchResult
	errA := wire.SDK{API: sdk}.PublishBatch(ctx, topic, entries, &a)
	errB := w.PublishBatch(ctx, topic, entries, &b)
	return outcomeOf(&a, errA), outcomeOf(&b, errB)
}
