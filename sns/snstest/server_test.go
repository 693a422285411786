package snstest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func post(s *Server, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func publishForm(arn, body, group, dedup string) url.Values {
	return url.Values{"Action": {"Publish"}, "TopicArn": {arn}, "Message": {body},
		"MessageGroupId": {group}, "MessageDeduplicationId": {dedup}}
}

func TestFIFODeduplicatesWithinFiveMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{})
		arn, err := s.CreateTopic("t.fifo", map[string]string{"FifoTopic": "true"})
		if err != nil {
			t.Fatal(err)
		}
		first := post(s, publishForm(arn, "a", "g", "d1"))
		time.Sleep(4 * time.Minute)
		again := post(s, publishForm(arn, "a", "g", "d1"))
		if first.Code != 200 || again.Code != 200 || first.Body.String() == "" {
			t.Fatalf("answers %d %d", first.Code, again.Code)
		}
		if s.Count(arn) != 1 {
			t.Fatalf("repeat inside the window delivered: count %d", s.Count(arn))
		}
		time.Sleep(2 * time.Minute)
		post(s, publishForm(arn, "a", "g", "d1"))
		if s.Count(arn) != 2 {
			t.Fatalf("repeat after the window dropped: count %d", s.Count(arn))
		}
		if rec := post(s, publishForm(arn, "a", "", "d2")); rec.Code != 400 || !strings.Contains(rec.Body.String(), "MessageGroupId") {
			t.Fatalf("FIFO publish without a group: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestCountOnlyKeepsNoMessages(t *testing.T) {
	s := New(Options{CountOnly: true})
	arn, _ := s.CreateTopic("t", nil)
	for range 3 {
		if rec := post(s, publishForm(arn, "a", "", "")); rec.Code != 200 {
			t.Fatalf("publish: %d %s", rec.Code, rec.Body)
		}
	}
	if s.Count(arn) != 3 || len(s.Messages(arn)) != 0 {
		t.Fatalf("count %d, messages %d", s.Count(arn), len(s.Messages(arn)))
	}
}

func TestFaultTimesAndTopic(t *testing.T) {
	s := New(Options{})
	a, _ := s.CreateTopic("a", nil)
	b, _ := s.CreateTopic("b", nil)
	s.Inject(&Fault{TopicARN: a, Code: "NotFound", Times: 2})
	codes := []int{}
	for _, arn := range []string{a, b, a, a} {
		codes = append(codes, post(s, publishForm(arn, "x", "", "")).Code)
	}
	if want := []int{404, 200, 404, 200}; !equal(codes, want) {
		t.Fatalf("codes %v, want %v", codes, want)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzServeHTTP feeds the double arbitrary request bodies: it must answer
// every one with a status and never panic.
func FuzzServeHTTP(f *testing.F) {
	f.Add("Action=PublishBatch&TopicArn=arn:aws:sns:us-east-1:123456789012:t&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=x")
	f.Add("Action=Publish&TopicArn=arn:aws:sns:us-east-1:123456789012:t&Message=x&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.DataType=Binary&MessageAttributes.entry.1.Value.BinaryValue=%%%")
	f.Add("Action=CreateTopic&Name=x.fifo&Attributes.entry.1.key=FifoTopic&Attributes.entry.1.value=true")
	f.Add("Action=GetTopicAttributes&TopicArn=nope")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, body string) {
		s := New(Options{})
		if _, err := s.CreateTopic("t", nil); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code >= 600 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func TestOnAcceptSeesEveryAcceptedMessageInCountOnlyMode(t *testing.T) {
	var got []string
	s := New(Options{CountOnly: true, OnAccept: func(m *Message) {
		got = append(got, m.TopicARN+" "+m.Body+" "+m.Attributes["event_timestamp"].StringValue)
	}})
	arn, _ := s.CreateTopic("t", nil)
	s.FailEntries(func(m Message) bool { return m.Body == "bad" }, "InternalError", false)
	form := publishForm(arn, "one", "", "")
	form.Set("MessageAttributes.entry.1.Name", "event_timestamp")
	form.Set("MessageAttributes.entry.1.Value.DataType", "String")
	form.Set("MessageAttributes.entry.1.Value.StringValue", "2026-11-27T05:00:00.000Z")
	if rec := post(s, form); rec.Code != 200 {
		t.Fatalf("publish: %d %s", rec.Code, rec.Body)
	}
	batch := url.Values{"Action": {"PublishBatch"}, "TopicArn": {arn},
		"PublishBatchRequestEntries.member.1.Id": {"a"}, "PublishBatchRequestEntries.member.1.Message": {"two"},
		"PublishBatchRequestEntries.member.2.Id": {"b"}, "PublishBatchRequestEntries.member.2.Message": {"bad"}}
	if rec := post(s, batch); rec.Code != 200 {
		t.Fatalf("batch: %d %s", rec.Code, rec.Body)
	}
	want := []string{arn + " one 2026-11-27T05:00:00.000Z", arn + " two "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("OnAccept saw %q, want %q", got, want)
	}
}

func batchForm(arn string, bodies ...string) url.Values {
	form := url.Values{"Action": {"PublishBatch"}, "TopicArn": {arn}}
	for i, b := range bodies {
		p := "PublishBatchRequestEntries.member." + strconv.Itoa(i+1) + "."
		form.Set(p+"Id", "e"+strconv.Itoa(i))
		form.Set(p+"Message", b)
		form.Set(p+"MessageGroupId", "g")
		form.Set(p+"MessageDeduplicationId", "d-"+b)
	}
	return form
}

func TestQuotaThrottlesEntriesPastIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{Quota: Quota{PerSecond: 100, Burst: 10}})
		arn, _ := s.CreateTopic("t", nil)
		ten := make([]string, 10)
		for i := range ten {
			ten[i] = "m" + strconv.Itoa(i)
		}
		unfifo := func(f url.Values) url.Values {
			for k := range f {
				if strings.HasSuffix(k, "MessageGroupId") || strings.HasSuffix(k, "MessageDeduplicationId") {
					delete(f, k)
				}
			}
			return f
		}
		if rec := post(s, unfifo(batchForm(arn, ten...))); rec.Code != 200 || strings.Contains(rec.Body.String(), "<Failed><member>") {
			t.Fatalf("first batch within the burst: %d %s", rec.Code, rec.Body)
		}
		rec := post(s, unfifo(batchForm(arn, ten[:3]...)))
		if rec.Code != 200 || strings.Count(rec.Body.String(), "<Code>Throttled</Code>") != 3 ||
			!strings.Contains(rec.Body.String(), "<SenderFault>false</SenderFault>") {
			t.Fatalf("batch past the quota: %d %s; want every entry Throttled, SenderFault false", rec.Code, rec.Body)
		}
		if rec := post(s, publishForm(arn, "x", "", "")); rec.Code != 429 || !strings.Contains(rec.Body.String(), "Throttled") {
			t.Fatalf("Publish past the quota: %d %s; want 429 Throttled", rec.Code, rec.Body)
		}
		time.Sleep(50 * time.Millisecond) // five tokens
		rec = post(s, unfifo(batchForm(arn, ten...)))
		if n := strings.Count(rec.Body.String(), "<Code>Throttled</Code>"); n != 5 || s.Count(arn) != 15 {
			t.Fatalf("50ms later: %d throttled, %d accepted in all; want 5 and 15", n, s.Count(arn))
		}
		if !s.SetQuota(arn, Quota{}) {
			t.Fatal("SetQuota: topic missing")
		}
		if rec := post(s, unfifo(batchForm(arn, ten...))); strings.Contains(rec.Body.String(), "Throttled") {
			t.Fatalf("after the quota was removed: %s", rec.Body)
		}
	})
}

// TestFIFOGroupPartlyFailing checks what publish_batch.go's header says SNS
// documents: each entry of a FIFO batch is judged alone, and one refused
// entry does not fail the later entries of its group.
func TestFIFOGroupPartlyFailing(t *testing.T) {
	s := New(Options{})
	arn, _ := s.CreateTopic("t.fifo", map[string]string{"FifoTopic": "true"})
	s.FailEntries(func(m Message) bool { return m.Body == "b" }, "InternalError", false)
	rec := post(s, batchForm(arn, "a", "b", "c"))
	if rec.Code != 200 || strings.Count(rec.Body.String(), "<MessageId>") != 2 || !strings.Contains(rec.Body.String(), "<Id>e1</Id><Code>InternalError</Code>") {
		t.Fatalf("answer %d %s; want a and c published, b failed", rec.Code, rec.Body)
	}
	msgs := s.Messages(arn)
	if len(msgs) != 2 || msgs[0].Body != "a" || msgs[1].Body != "c" || msgs[0].SequenceNumber >= msgs[1].SequenceNumber {
		t.Fatalf("topic holds %+v; want a then c, in sequence", msgs)
	}
}
