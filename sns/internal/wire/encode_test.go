package wire_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire/wiretest"
)

// maxMessageSize is SNS's default limit on a message and on a batch.
const maxMessageSize = 262144

// bridgeAttributes are the six attributes the bridge sends, with values
// like its own.
func bridgeAttributes(i int) []wire.Attribute {
	return []wire.Attribute{
		{Name: "event_name", Value: "ticket:updated"},
		{Name: "event_id", Value: fmt.Sprintf("01JDQ2V7R4X3K9M2N5P8Q1S4T%d", i)},
		{Name: "event_timestamp", Value: "2026-11-27T05:08:30.123Z"},
		{Name: "context_user_id", Value: "U0HZX4K2M9"},
		{Name: "context_user_type", Value: "ORG_ADMIN"},
		{Name: "context_organization_id", Value: "E3XZ9QK2PL"},
	}
}

func eventBody(i, size int) string {
	head := fmt.Sprintf(`{"eventId":"E%d","eventType":"ticket:updated","payload":{"ticket":{"title":"Printer on fire & smoking: <urgent> \"now\"","description":"`, i)
	tail := `"}}}`
	filler := strings.Repeat("lorem ipsum dolor sit amet, consectetur; ", size/40+1)
	return head + filler[:max(0, size-len(head)-len(tail))] + tail
}

func size(e wire.Entry) int {
	n := len(e.Body)
	for _, a := range e.Attributes {
		n += len(a.Name) + len(wire.AttributeType) + len(a.Value)
	}
	return n
}

// corpus is every kind of entry the bridge sends, and the edges.
func corpus() map[string][]wire.Entry {
	c := map[string][]wire.Entry{
		"one with the bridge's attributes": {{ID: "0", Body: eventBody(0, 1600), Attributes: bridgeAttributes(0)}},
		"escaping": {{ID: "e-1", Body: " \"&=+%;/?#<>\n\r\t~*'()!@$,:[]{}|\\^`.-_",
			Attributes: []wire.Attribute{{Name: "a.b-c_d", Value: "x=y&z+1 %20 /?#"}, {Name: "sp ace", Value: " "}}}},
		"non-ASCII": {{ID: "0", Body: `{"text":"héllo wörld — 日本語 🎉"}`,
			Attributes: []wire.Attribute{{Name: "名前", Value: "ça va ✓"}, {Name: "event_name", Value: "ticket:créé"}}}},
		"invalid UTF-8":         {{ID: "0", Body: "\xff\xfe\x00bytes\x80", Attributes: []wire.Attribute{{Name: "k", Value: "\xc3"}}}},
		"FIFO":                  {{ID: "0", Body: "a", GroupID: "ORG 1/ä", DedupID: "E1:ticket=updated"}, {ID: "1", Body: "b", GroupID: "ORG1"}},
		"empty body":            {{ID: "0", Body: ""}},
		"empty attribute value": {{ID: "0", Body: "x", Attributes: []wire.Attribute{{Name: "event_name", Value: ""}}}},
		"empty attribute name":  {{ID: "0", Body: "x", Attributes: []wire.Attribute{{Name: "", Value: "v"}}}},
		"repeated attributes":   {{ID: "0", Body: "x", Attributes: []wire.Attribute{{Name: "b", Value: "1"}, {Name: "a", Value: "2"}, {Name: "b", Value: "3"}, {Name: "c", Value: "4"}, {Name: "a", Value: "5"}}}},
		"empty batch":           {},
		"number attribute":      {{ID: "0", Body: "x", Attributes: []wire.Attribute{{Name: "event_name", Value: "t"}, {Name: "ExtendedPayloadSize", Value: "300000", Number: true}}}},
	}
	var twelve []wire.Attribute
	for _, i := range []int{7, 11, 0, 3, 10, 1, 9, 2, 8, 4, 6, 5} {
		twelve = append(twelve, wire.Attribute{Name: fmt.Sprintf("a%02d", i), Value: strconv.Itoa(i)})
	}
	c["twelve attributes"] = []wire.Entry{{ID: "0", Body: "x", Attributes: twelve}}
	for _, n := range []int{10, 11} {
		var es []wire.Entry
		for i := range n {
			es = append(es, wire.Entry{ID: strconv.Itoa(i), Body: eventBody(i, 1600), Attributes: bridgeAttributes(i)})
		}
		c[fmt.Sprintf("%d entries", n)] = es
	}
	one := wire.Entry{ID: "0", Attributes: bridgeAttributes(0)}
	one.Body = eventBody(0, maxMessageSize-size(one))
	c["one at the 256 KiB limit"] = []wire.Entry{one}
	var ten []wire.Entry
	for i := range 10 {
		e := wire.Entry{ID: strconv.Itoa(i), Attributes: bridgeAttributes(i)}
		e.Body = eventBody(i, maxMessageSize/10-size(e))
		ten = append(ten, e)
	}
	c["ten at the 256 KiB limit together"] = ten
	return c
}

// sdkBody returns the body the SDK's serializer writes for the call.
func sdkBody(t testing.TB, entries []wire.Entry) []byte {
	t.Helper()
	h := answering(200, nil, wiretest.BatchAnswers["moto"])
	sdk := awssns.New(sdkOptions("http://sns.test", h))
	var res wire.BatchResult
	if err := (wire.SDK{API: sdk}).PublishBatch(context.Background(), testTopic, entries, &res); err != nil {
		t.Fatalf("SDK PublishBatch: %v", err)
	}
	_, body := h.last(t)
	return body
}

// directBody returns the body the wire client sends for the call.
func directBody(t testing.TB, entries []wire.Entry) []byte {
	t.Helper()
	h := answering(200, nil, wiretest.BatchAnswers["moto"])
	_, w := clients(t, "http://sns.test", h)
	var res wire.BatchResult
	if err := w.PublishBatch(context.Background(), testTopic, entries, &res); err != nil {
		t.Fatalf("PublishBatch: %v", err)
	}
	_, body := h.last(t)
	return body
}

// TestBodyMatchesSDK: for every kind of entry, the body sent is the SDK's
// body, byte for byte, and so decodes to the same parameters.
func TestBodyMatchesSDK(t *testing.T) {
	for name, entries := range corpus() {
		t.Run(name, func(t *testing.T) {
			want, got := sdkBody(t, entries), directBody(t, entries)
			if !bytes.Equal(got, AppendBatch(entries)) {
				t.Errorf("the client sent another body than AppendPublishBatch writes")
			}
			wantForm, err := url.ParseQuery(string(want))
			if err != nil {
				t.Fatal(err)
			}
			gotForm, err := url.ParseQuery(string(got))
			if err != nil {
				t.Fatalf("our body does not decode: %v", err)
			}
			if !reflect.DeepEqual(gotForm, wantForm) {
				for k := range wantForm {
					if !reflect.DeepEqual(gotForm[k], wantForm[k]) {
						t.Errorf("%s = %q, SDK %q", k, gotForm[k], wantForm[k])
					}
				}
				for k := range gotForm {
					if _, ok := wantForm[k]; !ok {
						t.Errorf("%s = %q, SDK none", k, gotForm[k])
					}
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("bodies differ in bytes:\n got %.300q\nwant %.300q", got, want)
			}
		})
	}
}

func AppendBatch(entries []wire.Entry) []byte {
	return wire.AppendPublishBatch(nil, testTopic, entries)
}

// TestPublishBodyMatchesSDK is TestBodyMatchesSDK for Publish.
func TestPublishBodyMatchesSDK(t *testing.T) {
	for name, entries := range corpus() {
		if len(entries) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := entries[0]
			h := answering(200, nil, wiretest.PublishAnswers["moto"])
			sdk, w := clients(t, "http://sns.test", h)
			in := &awssns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(e.Body)}
			if len(e.Attributes) > 0 {
				in.MessageAttributes = map[string]types.MessageAttributeValue{}
				for _, a := range e.Attributes {
					in.MessageAttributes[a.Name] = types.MessageAttributeValue{DataType: aws.String(a.DataType()), StringValue: aws.String(a.Value)}
				}
			}
			if e.GroupID != "" {
				in.MessageGroupId = aws.String(e.GroupID)
			}
			if e.DedupID != "" {
				in.MessageDeduplicationId = aws.String(e.DedupID)
			}
			if _, err := sdk.Publish(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			_, want := h.last(t)
			var res wire.PublishResult
			if err := w.Publish(context.Background(), testTopic, &e, &res); err != nil {
				t.Fatal(err)
			}
			_, got := h.last(t)
			if !bytes.Equal(got, want) {
				t.Errorf("bodies differ:\n got %.300q\nwant %.300q", got, want)
			}
			if res.MessageID != "81af0531-e0ef-44da-a7ca-7766f4a36067" || res.RequestID != "" {
				t.Errorf("result %+v", res)
			}
		})
	}
}

// fuzzEntries makes a batch from fuzz input: n entries sharing body,
// attributes from comma-separated names and values.
func fuzzEntries(n uint8, body, names, values, group, dedup string) []wire.Entry {
	ns, vs := strings.Split(names, ","), strings.Split(values, ",")
	var attrs []wire.Attribute
	if names != "" {
		for i, name := range ns {
			attrs = append(attrs, wire.Attribute{Name: name, Value: vs[i%len(vs)]})
		}
	}
	entries := make([]wire.Entry, int(n%12))
	for i := range entries {
		entries[i] = wire.Entry{ID: strconv.Itoa(i), Body: body + strconv.Itoa(i), Attributes: attrs, GroupID: group, DedupID: dedup}
	}
	return entries
}

func addEncodeSeeds(f *testing.F) {
	f.Add(uint8(1), `{"a":"b"}`, "event_name,event_id", "ticket:created,E1", "", "")
	f.Add(uint8(10), "héllo & <x>", "b,a,b,c", "1,2", "ORG 1", "E1")
	f.Add(uint8(11), "", "", "", "", "")
	f.Add(uint8(0), "x", "k", "", "", "")
	f.Add(uint8(3), "\xff\x00", "a.b,a b,a+b,a%b", "é,~,*", "g/h", "d:e")
}

// FuzzBodyMatchesSDK holds the encoder to the SDK's serializer on any
// entries.
func FuzzBodyMatchesSDK(f *testing.F) {
	addEncodeSeeds(f)
	f.Fuzz(func(t *testing.T, n uint8, body, names, values, group, dedup string) {
		entries := fuzzEntries(n, body, names, values, group, dedup)
		if want, got := sdkBody(t, entries), AppendBatch(entries); !bytes.Equal(got, want) {
			t.Fatalf("bodies differ:\n got %q\nwant %q", got, want)
		}
	})
}

// FuzzEncodeRoundTrip decodes the body as SNS does (a form) and wants the
// entries back: every body, id, group and deduplication id, and each
// attribute name with its last value.
func FuzzEncodeRoundTrip(f *testing.F) {
	addEncodeSeeds(f)
	f.Fuzz(func(t *testing.T, n uint8, body, names, values, group, dedup string) {
		entries := fuzzEntries(n, body, names, values, group, dedup)
		form, err := url.ParseQuery(string(AppendBatch(entries)))
		if err != nil {
			t.Fatalf("body does not decode: %v", err)
		}
		if form.Get("Action") != "PublishBatch" || form.Get("TopicArn") != testTopic || form.Get("Version") != "2010-03-31" {
			t.Fatalf("form %v", form)
		}
		for i, e := range entries {
			p := fmt.Sprintf("PublishBatchRequestEntries.member.%d.", i+1)
			if form.Get(p+"Id") != e.ID || form.Get(p+"Message") != e.Body ||
				form.Get(p+"MessageGroupId") != e.GroupID || form.Get(p+"MessageDeduplicationId") != e.DedupID {
				t.Fatalf("entry %d: form %v", i, form)
			}
			want := map[string]string{}
			for _, a := range e.Attributes {
				want[a.Name] = a.Value
			}
			got := map[string]string{}
			for j := 1; ; j++ {
				q := fmt.Sprintf("%sMessageAttributes.entry.%d.", p, j)
				name, ok := form[q+"Name"]
				if !ok {
					break
				}
				if form.Get(q+"Value.DataType") != "String" {
					t.Fatalf("attribute %q has type %q", name[0], form.Get(q+"Value.DataType"))
				}
				got[name[0]] = form.Get(q + "Value.StringValue")
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("entry %d attributes %q, want %q", i, got, want)
			}
		}
	})
}
