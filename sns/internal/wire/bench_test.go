package wire_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
)

const benchTopic = "arn:aws:sns:us-east-1:123456789012:thena-events"

// benchBatches returns batches of ten realistic events of about 1.6 KB
// (those of 1.2 to 2 KB in a generated mix of every event type, decoded
// and mapped as the bridge does), and their mean size as SNS counts it.
func benchBatches(b *testing.B) ([][]wire.Entry, int) {
	b.Helper()
	g, err := eventgen.New(1, eventgen.Options{Orgs: 1000})
	if err != nil {
		b.Fatal(err)
	}
	dec, err := avro.NewDecoder(g.Source(), avro.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	m, err := mapping.NewMapper(mapping.Config{Routes: mapping.StandardRoutes(benchTopic, benchTopic)},
		map[string]mapping.TopicInfo{benchTopic: {}})
	if err != nil {
		b.Fatal(err)
	}
	var batches [][]wire.Entry
	total, n := 0, 0
	for _, r := range g.Mixed(2000) {
		ev, err := dec.Decode(context.Background(), r.Value)
		if err != nil {
			b.Fatal(err)
		}
		msg, err := m.Map(ev, mapping.Source{Key: r.Key})
		if err != nil {
			b.Fatal(err)
		}
		size := sns.MessageSize(msg.Entry.Body, msg.Entry.Attributes)
		if size < 1200 || size > 2000 {
			continue
		}
		if n%10 == 0 {
			batches = append(batches, nil)
		}
		last := &batches[len(batches)-1]
		*last = append(*last, wire.Entry{ID: fmt.Sprint(n % 10), Body: msg.Entry.Body,
			Attributes: toWire(msg.Entry.Attributes)})
		total += size
		n++
		if n == 200 {
			break
		}
	}
	if n < 200 {
		b.Fatalf("only %d events of 1.2 to 2 KB", n)
	}
	return batches, total / n
}

func toWire(attrs []sns.Attribute) []wire.Attribute {
	out := make([]wire.Attribute, len(attrs))
	for i, a := range attrs {
		out[i] = wire.Attribute(a)
	}
	return out
}

// successBody is SNS's answer to a batch of ten, ids "0" to "9".
var successBody = func() string {
	var b strings.Builder
	b.WriteString(`<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>`)
	for i := range 10 {
		fmt.Fprintf(&b, `<member><Id>%d</Id><MessageId>6d5f8e3c-2b1a-4c9d-8e7f-%012d</MessageId></member>`, i, i)
	}
	b.WriteString(`</Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>0c8a4d7e-3f2b-5a1c-9e8d-7b6a5c4d3e2f</RequestId></ResponseMetadata></PublishBatchResponse>`)
	return b.String()
}()

// cannedTransport answers every request in process with successBody after
// draining it: the client's cost alone, no socket, no server.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, Request: req, ContentLength: int64(len(successBody)),
		Header: http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {"rid"}},
		Body:   io.NopCloser(strings.NewReader(successBody))}, nil
}

// publisher is either path: wire.Client or wire.SDK.
type publisher interface {
	PublishBatch(ctx context.Context, topicARN string, entries []wire.Entry, res *wire.BatchResult) error
}

// BenchmarkPublishBatch compares the SDK's PublishBatch (built as
// sns.NewClient builds it, the input as sns/send.go builds it) with the
// direct path, on batches of ten realistic events, against an HTTP server
// on loopback that answers a fixed success (its CPU and allocations
// included, as they are in the process) and against an in-process canned
// answer (the client alone). cpu-us/event is user+system CPU of the whole
// process per event, which contention on a shared machine does not inflate.
//
//	go test -run '^$' -bench BenchmarkPublishBatch -benchtime 2000x ./sns/internal/wire/
func BenchmarkPublishBatch(b *testing.B) {
	batches, meanSize := benchBatches(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(successBody))
	}))
	defer srv.Close()
	for _, transport := range []string{"loopback", "inproc"} {
		cc := sns.ClientConfig{Region: "us-east-1", Endpoint: srv.URL,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", "")}
		var tr *http.Transport
		if transport == "inproc" {
			cc.Endpoint = "http://sns.bench.invalid"
			cc.HTTPClient = &http.Client{Transport: cannedTransport{}}
		} else {
			tr = &http.Transport{MaxIdleConnsPerHost: 4}
			cc.HTTPClient = &http.Client{Transport: tr}
		}
		client, err := sns.NewClient(context.Background(), cc)
		if err != nil {
			b.Fatal(err)
		}
		direct, err := wire.New(context.Background(), client.Options())
		if err != nil {
			b.Fatal(err)
		}
		for _, path := range []struct {
			name string
			p    publisher
		}{{"sdk", wire.SDK{API: client}}, {"direct", direct}} {
			b.Run(transport+"/"+path.name, func(b *testing.B) {
				benchPath(b, path.p, batches, meanSize)
			})
		}
		if tr != nil {
			tr.CloseIdleConnections()
		}
	}
}

func benchPath(b *testing.B, p publisher, batches [][]wire.Entry, meanSize int) {
	ctx := context.Background()
	var res wire.BatchResult
	b.ReportAllocs()
	b.SetBytes(int64(10 * meanSize))
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := p.PublishBatch(ctx, benchTopic, batches[i%len(batches)], &res); err != nil {
			b.Fatal(err)
		}
		if len(res.Successful) != 10 {
			b.Fatalf("answer %+v", res)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	events := float64(b.N * 10)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/events, "us/event")
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-us/event")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/events, "allocs/event")
	b.ReportMetric(float64(meanSize), "B/event-size")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAppendPublishBatch is the encoder alone on a batch of ten.
func BenchmarkAppendPublishBatch(b *testing.B) {
	batches, meanSize := benchBatches(b)
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(10 * meanSize))
	for i := 0; b.Loop(); i++ {
		buf = wire.AppendPublishBatch(buf[:0], benchTopic, batches[i%len(batches)])
	}
}
