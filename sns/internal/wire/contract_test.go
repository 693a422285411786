package wire_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
)

// contractStack is an SNS to run the contract against: the double, or moto.
type contractStack struct {
	Endpoint string
	HTTP     awssns.HTTPClient
	// NewTopic creates a topic and returns its ARN and a reader of what it
	// delivered since the last read (waiting up to wait for n messages).
	NewTopic        func(t *testing.T, fifo bool) (string, func(t *testing.T, n int, wait time.Duration) []received)
	MissingTopicARN string
	// Divergences are the subtests this stack fails because it differs from
	// SNS, with the reason.
	Divergences map[string]string
}

// runContract checks that what the wire client sends is accepted and
// delivered intact, and that SNS's refusals come back as the SDK reports
// them (each refused call is made through both).
func runContract(t *testing.T, st contractStack) {
	sdk, w := clients(t, st.Endpoint, st.HTTP)
	run := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			if why, ok := st.Divergences[name]; ok {
				t.Skipf("this stack differs from SNS here: %s", why)
			}
			f(t)
		})
	}
	refused := func(t *testing.T, arn string, entries []wire.Entry, codes ...string) {
		t.Helper()
		viaSDK, direct := publishBoth(t.Context(), sdk, w, arn, entries)
		viaSDK.RequestID, direct.RequestID = "", ""
		if !reflect.DeepEqual(viaSDK, direct) {
			t.Errorf("SDK    %+v\ndirect %+v", viaSDK, direct)
		}
		if !slices.Contains(codes, direct.Code) {
			t.Errorf("direct %+v, want code %v", direct, codes)
		}
	}

	run("a batch of ten arrives intact", func(t *testing.T) {
		arn, read := st.NewTopic(t, false)
		entries := corpus()["10 entries"]
		entries[3].Body = corpus()["escaping"][0].Body
		entries[4].Body = corpus()["non-ASCII"][0].Body
		// SNS allows only [A-Za-z0-9_.-] in attribute names; values may be
		// any text.
		entries[4].Attributes = []wire.Attribute{{Name: "event_name", Value: "ticket:créé"}, {Name: "note", Value: "ça va ✓ 日本語 \"&=+%"}}
		entries[5].Attributes = corpus()["twelve attributes"][0].Attributes[:10]
		var res wire.BatchResult
		if err := w.PublishBatch(t.Context(), arn, entries, &res); err != nil {
			t.Fatalf("PublishBatch: %v", err)
		}
		if len(res.Successful) != 10 || len(res.Failed) != 0 {
			t.Fatalf("answer %+v", res)
		}
		for _, s := range res.Successful {
			if s.MessageID == "" {
				t.Errorf("entry %s has no MessageId", s.ID)
			}
		}
		got := read(t, 10, 10*time.Second)
		byBody := map[string]received{}
		for _, m := range got {
			byBody[m.Body] = m
		}
		for _, e := range entries {
			m, ok := byBody[e.Body]
			if !ok {
				t.Errorf("entry %s (%.40q) not delivered", e.ID, e.Body)
				continue
			}
			for _, a := range e.Attributes {
				if m.Attributes[a.Name] != a.Value {
					t.Errorf("entry %s: attribute %q = %q, sent %q", e.ID, a.Name, m.Attributes[a.Name], a.Value)
				}
			}
			if len(m.Attributes) != len(e.Attributes) {
				t.Errorf("entry %s: %d attributes delivered, %d sent", e.ID, len(m.Attributes), len(e.Attributes))
			}
		}
	})

	run("Publish arrives intact", func(t *testing.T) {
		arn, read := st.NewTopic(t, false)
		e := corpus()["one with the bridge's attributes"][0]
		var res wire.PublishResult
		if err := w.Publish(t.Context(), arn, &e, &res); err != nil || res.MessageID == "" {
			t.Fatalf("Publish: %v (%+v)", err, res)
		}
		got := read(t, 1, 10*time.Second)
		if len(got) != 1 || got[0].Body != e.Body || got[0].Attributes["event_id"] != "01JDQ2V7R4X3K9M2N5P8Q1S4T0" {
			t.Fatalf("delivered %.300v", got)
		}
	})

	run("FIFO: order, group, and a repeated dedup id not delivered twice", func(t *testing.T) {
		arn, read := st.NewTopic(t, true)
		var entries []wire.Entry
		for i := range 3 {
			entries = append(entries, wire.Entry{ID: fmt.Sprint(i), Body: fmt.Sprintf("event %d", i),
				GroupID: "ORG-1", DedupID: fmt.Sprintf("E%d", i)})
		}
		var res wire.BatchResult
		if err := w.PublishBatch(t.Context(), arn, entries, &res); err != nil || len(res.Successful) != 3 {
			t.Fatalf("PublishBatch: %v %+v", err, res)
		}
		if err := w.PublishBatch(t.Context(), arn, entries[:1], &res); err != nil || len(res.Successful) != 1 {
			t.Fatalf("republish: %v %+v", err, res)
		}
		got := read(t, 3, 10*time.Second)
		got = append(got, read(t, 0, 2*time.Second)...)
		var bodies []string
		for _, m := range got {
			bodies = append(bodies, m.Body)
			if m.GroupID != "ORG-1" {
				t.Errorf("group %q", m.GroupID)
			}
		}
		if strings.Join(bodies, ",") != "event 0,event 1,event 2" {
			t.Errorf("delivered %q", bodies)
		}
	})

	run("FIFO entries get sequence numbers", func(t *testing.T) {
		arn, _ := st.NewTopic(t, true)
		var res wire.BatchResult
		entries := []wire.Entry{{ID: "0", Body: "a", GroupID: "g", DedupID: "d0"}, {ID: "1", Body: "b", GroupID: "g", DedupID: "d1"}}
		if err := w.PublishBatch(t.Context(), arn, entries, &res); err != nil || len(res.Successful) != 2 {
			t.Fatalf("PublishBatch: %v %+v", err, res)
		}
		for _, s := range res.Successful {
			if s.SequenceNumber == "" {
				t.Errorf("FIFO entry %s has no SequenceNumber", s.ID)
			}
		}
	})

	run("a batch of eleven is refused", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		refused(t, arn, corpus()["11 entries"], "TooManyEntriesInBatchRequest")
	})
	run("an empty batch is refused", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		refused(t, arn, nil, "EmptyBatchRequest")
	})
	run("repeated entry ids are refused", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		refused(t, arn, []wire.Entry{{ID: "a", Body: "x"}, {ID: "a", Body: "y"}}, "BatchEntryIdsNotDistinct")
	})
	run("an oversize batch is refused", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		big := strings.Repeat("x", 140_000)
		refused(t, arn, []wire.Entry{{ID: "a", Body: big}, {ID: "b", Body: big}}, "BatchRequestTooLong")
	})
	run("a missing topic is NotFound", func(t *testing.T) {
		refused(t, st.MissingTopicARN, oneEntry, "NotFound")
	})
	run("an entry SNS rejects comes back as the SDK reports it", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		entries := []wire.Entry{
			{ID: "good", Body: "good", Attributes: []wire.Attribute{{Name: "event_name", Value: "a"}}},
			{ID: "bad", Body: "bad", Attributes: []wire.Attribute{{Name: "event_name", Value: ""}}},
		}
		viaSDK, direct := publishBoth(t.Context(), sdk, w, arn, entries)
		for _, o := range []*outcome{&viaSDK, &direct} {
			o.RequestID, o.Result.RequestID = "", ""
			for i := range o.Result.Successful {
				o.Result.Successful[i].MessageID = ""
			}
		}
		if !reflect.DeepEqual(viaSDK, direct) {
			t.Errorf("SDK    %+v\ndirect %+v", viaSDK, direct)
		}
		// SNS fails the entry alone; moto fails the whole call.
		perEntry := len(direct.Result.Failed) == 1 && direct.Result.Failed[0].ID == "bad" && direct.Result.Failed[0].SenderFault
		if !perEntry && direct.Code != "InvalidParameter" && direct.Code != "ParameterValueInvalid" {
			t.Errorf("direct %+v; want the bad entry failed with a validation code", direct)
		}
	})
}

// TestContractDouble runs the contract against the SNS double, over
// loopback, behind the SigV4 verifier.
func TestContractDouble(t *testing.T) {
	srv, v, endpoint, hc := verifiedDouble(t)
	newTopic := doubleTopics(srv)
	runContract(t, contractStack{
		Endpoint:        endpoint,
		HTTP:            hc,
		MissingTopicARN: "arn:aws:sns:us-east-1:123456789012:no-such-topic",
		NewTopic: func(t *testing.T, fifo bool) (string, func(*testing.T, int, time.Duration) []received) {
			arn := newTopic(t, fifo)
			seen := 0
			return arn, func(*testing.T, int, time.Duration) []received {
				got := messages(srv, arn)[seen:]
				seen += len(got)
				return got
			}
		},
	})
	if v.verified.Load() == 0 {
		t.Error("no request went through the verifier")
	}
}
