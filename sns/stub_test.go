package sns_test

// The benchmarks' SNS: an in-process stub that accepts every entry of every
// PublishBatch at the cost of counting them, so that what a benchmark
// measures is the publisher and its encoder, not a sink's parsing. It
// checks nothing: correctness is the double's and moto's (the contract
// suite).

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// stubSNS is an http.RoundTripper that answers a PublishBatch of n entries
// (ids "0" to "n-1", as the publisher numbers them) with n successes.
type stubSNS struct {
	accepted atomic.Int64
}

// stubAnswers[n] is the answer to a batch of n entries.
var stubAnswers = func() (out [11][]byte) {
	for n := range out {
		var b strings.Builder
		b.WriteString(`<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>`)
		for i := range n {
			id := strconv.Itoa(i)
			b.WriteString(`<member><Id>` + id + `</Id><MessageId>6d5f8e3c-2b1a-4c9d-8e7f-00000000000` + id + `</MessageId></member>`)
		}
		b.WriteString(`</Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>0c8a4d7e-3f2b-5a1c-9e8d-7b6a5c4d3e2f</RequestId></ResponseMetadata></PublishBatchResponse>`)
		out[n] = []byte(b.String())
	}
	return out
}()

var stubBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// entryKey ends every entry's Id key in a PublishBatch form body; attribute
// keys and escaped values cannot contain it.
var entryKey = []byte(".Id=")

func (s *stubSNS) RoundTrip(req *http.Request) (*http.Response, error) {
	buf := stubBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(req.Body)
	req.Body.Close()
	n := bytes.Count(buf.Bytes(), entryKey)
	stubBuffers.Put(buf)
	if err != nil {
		return nil, err
	}
	n = min(n, len(stubAnswers)-1)
	s.accepted.Add(int64(n))
	answer := stubAnswers[n]
	return &http.Response{StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Request: req,
		ContentLength: int64(len(answer)), Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(bytes.NewReader(answer))}, nil
}

// newStubClient is the SDK client NewClient builds, over a stub.
func newStubClient(tb testing.TB) (*awssns.Client, *stubSNS) {
	tb.Helper()
	stub := &stubSNS{}
	client, err := sns.NewClient(tb.Context(), sns.ClientConfig{
		Region: "us-east-1", Endpoint: "http://sns.stub.invalid",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
		HTTPClient:  &http.Client{Transport: stub},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return client, stub
}

// cpuTime is the process's user and system CPU so far: what contention on
// a shared machine does not inflate, unlike elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
