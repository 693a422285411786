package benchsink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// inProcess serves the SDK's requests by calling the Server directly.
type inProcess struct{ s *Server }

func (rt inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rt.s.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// client is an SDK SNS client of s, as the bridge builds one (no retries).
func client(s *Server) *awssns.Client { return clientWith(inProcess{s}) }

func clientWith(rt http.RoundTripper) *awssns.Client {
	return awssns.New(awssns.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://sink.invalid"),
		Credentials:  aws.AnonymousCredentials{},
		HTTPClient:   &http.Client{Transport: rt},
		Retryer:      aws.NopRetryer{},
	})
}

// sinks is every way of serving: the lean path in process and over
// loopback (its own HTTP/1.1 loop), and the double over loopback.
var sinks = []struct {
	name           string
	double, listen bool
}{{"lean", false, false}, {"lean over loopback", false, true}, {"double", true, true}}

// start returns a Server with opts served the way tc says, and an SDK
// client of it.
func start(t testing.TB, tc struct {
	name           string
	double, listen bool
}, opts Options) (*Server, *awssns.Client) {
	t.Helper()
	opts.Double = tc.double
	if !tc.listen {
		s := newServer(opts)
		return s, client(s)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(func() { tr.CloseIdleConnections(); s.Close() })
	return s, awssns.New(awssns.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL()), Credentials: aws.AnonymousCredentials{},
		HTTPClient: &http.Client{Transport: tr}, Retryer: aws.NopRetryer{}})
}

func attrs(eventID, ts string) map[string]types.MessageAttributeValue {
	m := map[string]types.MessageAttributeValue{}
	for k, v := range map[string]string{"event_name": "ticket:updated", "event_id": eventID, "event_timestamp": ts,
		"context_user_id": "U1", "context_user_type": "AGENT", "context_organization_id": "O1"} {
		m[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return m
}

func batch(arn string, n int, body string, fifo bool) *awssns.PublishBatchInput {
	in := &awssns.PublishBatchInput{TopicArn: aws.String(arn)}
	for i := range n {
		e := types.PublishBatchRequestEntry{Id: aws.String("e" + strconv.Itoa(i)), Message: aws.String(body),
			MessageAttributes: attrs(fmt.Sprintf("ev-%s-%d", arn, i), "2026-11-27T05:08:30.123Z")}
		if fifo {
			e.MessageGroupId, e.MessageDeduplicationId = aws.String("O1"), aws.String("d"+strconv.Itoa(i))
		}
		in.PublishBatchRequestEntries = append(in.PublishBatchRequestEntries, e)
	}
	return in
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestSDKRoundTrip: what the bridge sends through the SDK is accepted and
// answered so the SDK reads every entry's result, on both paths; the
// start-up check (GetTopicAttributes) sees FIFO-ness; the counters say what
// was accepted.
func TestSDKRoundTrip(t *testing.T) {
	for _, tc := range sinks {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, tc, Options{})
			std, _ := s.CreateTopic("events")
			fifo, _ := s.CreateTopic("events.fifo")
			ctx := context.Background()
			infos, err := sns.Topics(ctx, c, []string{std, fifo})
			if err != nil || infos[std].FIFO || !infos[fifo].FIFO || infos[std].MaxMessageSize != sns.DefaultMaxMessageSize {
				t.Fatalf("Topics: %+v, %v", infos, err)
			}
			out, err := c.PublishBatch(ctx, batch(std, 10, `{"eventId":"x","ü":"a&b=c%"}`, false))
			if err != nil || len(out.Successful) != 10 || len(out.Failed) != 0 {
				t.Fatalf("standard batch: %+v, %v", out, err)
			}
			for i, r := range out.Successful {
				if aws.ToString(r.Id) != "e"+strconv.Itoa(i) || aws.ToString(r.MessageId) == "" {
					t.Fatalf("entry %d answered %+v", i, r)
				}
			}
			fout, err := c.PublishBatch(ctx, batch(fifo, 3, "b", true))
			if err != nil || len(fout.Successful) != 3 || aws.ToString(fout.Successful[0].SequenceNumber) == "" {
				t.Fatalf("FIFO batch: %+v, %v", fout, err)
			}
			p, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(std), Message: aws.String("one"), MessageAttributes: attrs("single", "1764220110123")})
			if err != nil || aws.ToString(p.MessageId) == "" {
				t.Fatalf("Publish: %+v, %v", p, err)
			}
			st := s.Stats()
			if st.Accepted != 14 || st.Requests != 3 || st.Duplicates != 0 || st.Throttled != 0 || len(st.Refused) != 0 || st.First.IsZero() {
				t.Fatalf("stats %+v, want 14 accepted in 3 requests", st)
			}
			// The same event again is a duplicate.
			if _, err := c.PublishBatch(ctx, batch(std, 2, "again", false)); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Duplicates != 2 || st.Accepted != 16 {
				t.Fatalf("after a resend: %+v, want 2 duplicates", st)
			}
			// Without an event id, the body tells events apart.
			for _, body := range []string{"a", "b", "a"} {
				if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(std), Message: aws.String(body), MessageAttributes: attrs("null", "1")}); err != nil {
					t.Fatal(err)
				}
			}
			if st := s.Stats(); st.Duplicates != 3 || st.Accepted != 19 {
				t.Fatalf("after events without ids: %+v, want one more duplicate", st)
			}
		})
	}
}

// TestRefusesWhatSNSRefuses: a publisher that breaks SNS's rules is refused
// as SNS would refuse it, and counted, so a broken bridge cannot look fast.
func TestRefusesWhatSNSRefuses(t *testing.T) {
	big := strings.Repeat("x", 30000)
	for _, tc := range sinks {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, tc, Options{})
			std, _ := s.CreateTopic("events")
			fifo, _ := s.CreateTopic("events.fifo")
			ctx := context.Background()
			whole := []struct {
				name string
				in   *awssns.PublishBatchInput
				code string
			}{
				{"eleven entries", batch(std, 11, "b", false), "TooManyEntriesInBatchRequest"},
				{"duplicate ids", func() *awssns.PublishBatchInput {
					in := batch(std, 3, "b", false)
					in.PublishBatchRequestEntries[2].Id = aws.String("e0")
					return in
				}(), "BatchEntryIdsNotDistinct"},
				{"bad id", func() *awssns.PublishBatchInput {
					in := batch(std, 2, "b", false)
					in.PublishBatchRequestEntries[1].Id = aws.String("a.b")
					return in
				}(), "InvalidBatchEntryId"},
				{"batch over 256 KiB", batch(std, 9, big, false), "BatchRequestTooLong"},
				{"one message over 256 KiB", func() *awssns.PublishBatchInput {
					in := batch(std, 2, "b", false)
					in.PublishBatchRequestEntries[1].Message = aws.String(strings.Repeat("y", 262144))
					return in
				}(), "BatchRequestTooLong"},
				{"unknown topic", batch(std+"x", 1, "b", false), "NotFound"},
			}
			for _, w := range whole {
				_, err := c.PublishBatch(ctx, w.in)
				if code(err) != w.code {
					t.Errorf("%s: %v, want %s", w.name, err, w.code)
				}
			}
			entries := []struct {
				name  string
				arn   string
				entry func(*types.PublishBatchRequestEntry)
			}{
				{"empty body", std, func(e *types.PublishBatchRequestEntry) { e.Message = aws.String("") }},
				{"empty attribute", std, func(e *types.PublishBatchRequestEntry) {
					e.MessageAttributes["event_id"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("")}
				}},
				{"unknown attribute type", std, func(e *types.PublishBatchRequestEntry) {
					e.MessageAttributes["event_id"] = types.MessageAttributeValue{DataType: aws.String("Text"), StringValue: aws.String("v")}
				}},
				{"deduplication id on a standard topic", std, func(e *types.PublishBatchRequestEntry) { e.MessageDeduplicationId = aws.String("d") }},
				{"FIFO without a group", fifo, func(e *types.PublishBatchRequestEntry) { e.MessageGroupId = nil }},
				{"FIFO without a deduplication id", fifo, func(e *types.PublishBatchRequestEntry) { e.MessageDeduplicationId = nil }},
			}
			if !tc.double { // the double takes eleven attributes
				entries = append(entries, struct {
					name  string
					arn   string
					entry func(*types.PublishBatchRequestEntry)
				}{"eleven attributes", std, func(e *types.PublishBatchRequestEntry) {
					for i := range 5 {
						e.MessageAttributes["extra"+strconv.Itoa(i)] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
					}
				}})
			}
			for _, w := range entries {
				in := batch(w.arn, 3, "b", w.arn == fifo)
				w.entry(&in.PublishBatchRequestEntries[1])
				out, err := c.PublishBatch(ctx, in)
				if err != nil || len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "e1" || !out.Failed[0].SenderFault {
					t.Errorf("%s: %+v, %v; want entry e1 alone failed with sender fault", w.name, out, err)
				}
			}
			_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(std), Message: aws.String(strings.Repeat("y", 262144)), MessageAttributes: attrs("p", "1")})
			if code(err) != "InvalidParameter" {
				t.Errorf("Publish over 256 KiB: %v, want InvalidParameter", err)
			}
			// What the SDK does not let through: a batch without entries.
			form := url.Values{"Action": {"PublishBatch"}, "TopicArn": {std}}
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "<Code>EmptyBatchRequest</Code>") {
				t.Errorf("empty batch: %d %s", rec.Code, rec.Body)
			}
			st := s.Stats()
			var refused int64
			for _, n := range st.Refused {
				refused += n
			}
			if want := int64(len(whole) + len(entries) + 2); refused != want {
				t.Errorf("refused %v (%d), want %d", st.Refused, refused, want)
			}
		})
	}
}

// TestQuotaAndStorm: past the quota, and during a storm, entries are
// Throttled (not a sender fault) and the others go through; a Publish is a
// 429; the storm ends when it says.
func TestQuotaAndStorm(t *testing.T) {
	for _, tc := range sinks {
		t.Run(tc.name, func(t *testing.T) {
			// A rate too slow to refill during the test: exactly Burst pass.
			s, c := start(t, tc, Options{Quota: Quota{PerSecond: 0.001, Burst: 4}})
			std, _ := s.CreateTopic("events")
			ctx := context.Background()
			out, err := c.PublishBatch(ctx, batch(std, 10, "b", false))
			if err != nil || len(out.Successful) != 4 || len(out.Failed) != 6 {
				t.Fatalf("quota of 4: %+v, %v", out, err)
			}
			for _, f := range out.Failed {
				if aws.ToString(f.Code) != "Throttled" || f.SenderFault {
					t.Fatalf("failed entry %+v, want Throttled without sender fault", f)
				}
			}
			_, err = c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(std), Message: aws.String("m"), MessageAttributes: attrs("p", "1")})
			var re interface{ HTTPStatusCode() int }
			if code(err) != "Throttled" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusTooManyRequests {
				t.Fatalf("Publish past the quota: %v, want 429 Throttled", err)
			}
			if st := s.Stats(); st.Throttled != 7 || st.Accepted != 4 || len(st.Refused) != 0 {
				t.Fatalf("stats %+v, want 7 throttled, 4 accepted, none refused", st)
			}

			s, c = start(t, tc, Options{})
			std, _ = s.CreateTopic("events")
			s.StartStorm(1, time.Hour)
			if out, err := c.PublishBatch(ctx, batch(std, 10, "b", false)); err != nil || len(out.Failed) != 10 {
				t.Fatalf("full storm: %+v, %v", out, err)
			}
			s.StartStorm(0.5, time.Hour)
			var ok int
			for i := range 100 {
				in := batch(std, 10, "b", false)
				for j := range in.PublishBatchRequestEntries {
					in.PublishBatchRequestEntries[j].MessageAttributes = attrs(fmt.Sprintf("s%d-%d", i, j), "1")
				}
				out, err := c.PublishBatch(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				ok += len(out.Successful)
			}
			if ok < 400 || ok > 600 {
				t.Fatalf("half storm let %d of 1000 through", ok)
			}
			s.StartStorm(1, 0) // over at once
			if out, err := c.PublishBatch(ctx, batch(std, 10, "after", false)); err != nil || len(out.Successful) != 10 {
				t.Fatalf("after the storm: %+v, %v", out, err)
			}
		})
	}
}

// TestLatencyAndRate: with latency recording on, each message counts the
// time from its event_timestamp (ISO-8601 or Unix milliseconds) to its
// acceptance; Rate finds acceptances by time.
func TestLatencyAndRate(t *testing.T) {
	s := newServer(Options{})
	std, _ := s.CreateTopic("events")
	c := client(s)
	ctx := context.Background()
	before := time.Now()
	s.RecordLatencyFrom(before.Add(-time.Hour))
	iso := before.Add(-2 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	ms := strconv.FormatInt(before.Add(-3*time.Second).UnixMilli(), 10)
	old := before.Add(-2 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	for i, ts := range []string{iso, ms, old, "not a time"} {
		_, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(std), Message: aws.String("m"), MessageAttributes: attrs("l"+strconv.Itoa(i), ts)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := s.Latencies(before.Add(-2500 * time.Millisecond)); len(l) != 1 || l[0] < 2*time.Second {
		t.Fatalf("latencies of events since 2.5s ago: %v, want the ISO one alone", l)
	}
	l, unparsed := s.Latencies(time.Time{})
	if len(l) != 2 || unparsed != 1 {
		t.Fatalf("latencies %v, unparsed %d: want two (the old one not counted) and one unreadable", l, unparsed)
	}
	if l[0] < 2*time.Second || l[0] > time.Minute || l[1] < 3*time.Second || l[1] > time.Minute {
		t.Fatalf("latencies %v, want about 2s and 3s", l)
	}
	if r := s.Rate(time.Now().Add(time.Second), time.Now().Add(2*time.Second)); r != 0 {
		t.Fatalf("Rate in the future = %v", r)
	}
	if r := s.Rate(s.start, s.start.Add(time.Minute)); r != 4.0/60 {
		t.Fatalf("Rate over the first minute = %v, want 4/60", r)
	}
}

// TestListening: New serves over loopback and Close ends it (goleak checks
// that its goroutines are gone).
func TestListening(t *testing.T) {
	s, err := New(Options{Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	arn, _ := s.CreateTopic("events")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := awssns.New(awssns.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL()), Credentials: aws.AnonymousCredentials{},
		HTTPClient: &http.Client{Transport: tr}, Retryer: aws.NopRetryer{}})
	start := time.Now()
	out, err := c.PublishBatch(context.Background(), batch(arn, 10, "b", false))
	if err != nil || len(out.Successful) != 10 {
		t.Fatalf("%+v, %v", out, err)
	}
	if time.Since(start) < time.Millisecond {
		t.Fatalf("answered in %s, before the 1ms latency", time.Since(start))
	}
}

// FuzzParse: any body parses without panicking, and a body url.Values
// encodes gives back its topic, ids and sizes.
func FuzzParse(f *testing.F) {
	f.Add("Action=PublishBatch&TopicArn=arn%3Aaws&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=%7B%7D", "a b", "é&=%")
	f.Add("PublishBatchRequestEntries.member.99999999.Id=x&%", "", "")
	f.Add("PublishBatchRequestEntries.member.1.MessageAttributes.entry.11.Name=x", "x", "%zz")
	f.Fuzz(func(t *testing.T, raw, id, msg string) {
		var r request
		_ = r.parse([]byte(raw))
		form := url.Values{"Action": {"PublishBatch"}, "TopicArn": {"arn:aws:sns:" + id}}
		form.Set("PublishBatchRequestEntries.member.1.Id", id)
		form.Set("PublishBatchRequestEntries.member.1.Message", msg)
		form.Set("PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name", id)
		form.Set("PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue", msg)
		if err := r.parse([]byte(form.Encode())); err != nil {
			t.Fatalf("parse of an encoded form: %v", err)
		}
		e := &r.entries[0]
		if string(r.topic) != "arn:aws:sns:"+id || string(e.id) != id || e.bodyLen != len(msg) ||
			string(e.attrs[0].name) != id || e.attrs[0].valueLen != len(msg) || r.maxMember != 1 {
			t.Fatalf("parsed topic %q id %q body %d attr %q/%d from id %q msg %q", r.topic, e.id, e.bodyLen, e.attrs[0].name, e.attrs[0].valueLen, id, msg)
		}
	})
}

// TestHTTP: the listening Server's HTTP/1.1 takes what clients send besides
// the SDK's plain requests (a chunked body, Expect: 100-continue, several
// requests on one connection, Connection: close) and answers a request it
// cannot read with 400.
func TestHTTP(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	arn, _ := s.CreateTopic("events")
	form := url.Values{"Action": {"Publish"}, "TopicArn": {arn}, "Message": {"hello"}}.Encode()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	chunked := fmt.Sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 5, form[:5], len(form)-5, form[5:])
	requests := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + strconv.Itoa(len(form)) + "\r\n\r\n" + form +
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
		"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(form)) + "\r\n\r\n" + form
	if _, err := c.Write([]byte(requests)); err != nil {
		t.Fatal(err)
	}
	continues := 0
	for i := 0; i < 3; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if resp.StatusCode == http.StatusContinue {
			continues++
			i--
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), "<MessageId>") {
			t.Fatalf("answer %d: %d %s", i, resp.StatusCode, b)
		}
	}
	if continues != 1 || s.Stats().Accepted != 3 {
		t.Fatalf("%d continues, %d accepted; want 1 and 3", continues, s.Stats().Accepted)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("after Connection: close the connection is open (%v)", err)
	}

	c2, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write([]byte("NONSENSE\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a malformed request: %v, %v", resp, err)
	}
}
