package sns_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// received is one message as a topic's subscriber got it.
type received struct {
	Body       string
	Attributes map[string]string
	GroupID    string
}

// contractStack is an SNS to run the contract suite against: the in-process
// double, or moto.
type contractStack struct {
	// Endpoint is the SNS endpoint URL.
	Endpoint string
	// NewTopic creates a topic (FIFO when fifo) and returns its ARN and a
	// reader of what the topic delivered: read(t, n, wait) returns what
	// arrived since the last read, waiting up to wait for n messages
	// (n == 0: collect whatever arrives within wait).
	NewTopic func(t *testing.T, fifo bool) (arn string, read func(t *testing.T, n int, wait time.Duration) []received)
	// MissingTopicARN is an ARN no topic has.
	MissingTopicARN string
	// Divergences names the subtests this stack is known to fail because it
	// differs from real SNS, with the reason; they are skipped saying so.
	Divergences map[string]string
}

// runContract checks the behaviour of SNS the publisher and the double rely
// on, through the raw SDK client and through the Publisher.
func runContract(t *testing.T, st contractStack) {
	ctx := t.Context()
	client, err := sns.NewClient(ctx, sns.ClientConfig{
		Region:      "us-east-1",
		Endpoint:    st.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	attrs := func(kv ...string) map[string]types.MessageAttributeValue {
		m := map[string]types.MessageAttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(kv[i+1])}
		}
		return m
	}

	run := func(t *testing.T, name string, f func(t *testing.T)) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if why, ok := st.Divergences[name]; ok {
				t.Skipf("this stack differs from SNS here: %s", why)
			}
			f(t)
		})
	}

	run(t, "PublishBatch delivers bodies and attributes intact", func(t *testing.T) {
		arn, read := st.NewTopic(t, false)
		var entries []types.PublishBatchRequestEntry
		want := map[string]map[string]string{}
		for i := range 3 {
			body := fmt.Sprintf(`{"eventId":"E%d","eventType":"ticket:created","text":"héllo <&> \"%d\""}`, i, i)
			want[body] = map[string]string{"event_name": "ticket:created", "event_id": fmt.Sprintf("E%d", i)}
			entries = append(entries, types.PublishBatchRequestEntry{
				Id: aws.String(fmt.Sprintf("e-%d", i)), Message: aws.String(body),
				MessageAttributes: attrs("event_name", "ticket:created", "event_id", fmt.Sprintf("E%d", i)),
			})
		}
		out, err := client.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: entries})
		if err != nil {
			t.Fatalf("PublishBatch: %v", err)
		}
		if len(out.Successful) != 3 || len(out.Failed) != 0 {
			t.Fatalf("PublishBatch: %d successful, %d failed; want 3, 0", len(out.Successful), len(out.Failed))
		}
		for _, s := range out.Successful {
			if aws.ToString(s.MessageId) == "" || !strings.HasPrefix(aws.ToString(s.Id), "e-") {
				t.Errorf("successful entry %q has MessageId %q", aws.ToString(s.Id), aws.ToString(s.MessageId))
			}
		}
		got := read(t, 3, 10*time.Second)
		if len(got) != 3 {
			t.Fatalf("subscriber got %d messages, want 3", len(got))
		}
		for _, m := range got {
			w, ok := want[m.Body]
			if !ok {
				t.Errorf("unexpected body %q", m.Body)
				continue
			}
			for k, v := range w {
				if m.Attributes[k] != v {
					t.Errorf("body %q: attribute %s = %q, want %q", m.Body, k, m.Attributes[k], v)
				}
			}
		}
	})

	run(t, "Publish delivers body and attributes intact", func(t *testing.T) {
		arn, read := st.NewTopic(t, false)
		out, err := client.Publish(ctx, &awssns.PublishInput{TopicArn: &arn, Message: aws.String("one"),
			MessageAttributes: attrs("event_name", "account:created")})
		if err != nil || aws.ToString(out.MessageId) == "" {
			t.Fatalf("Publish: %v (MessageId %q)", err, aws.ToString(out.MessageId))
		}
		got := read(t, 1, 10*time.Second)
		if len(got) != 1 || got[0].Body != "one" || got[0].Attributes["event_name"] != "account:created" {
			t.Fatalf("subscriber got %+v", got)
		}
	})

	run(t, "batch of 11 is refused as a whole", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		var entries []types.PublishBatchRequestEntry
		for i := range 11 {
			entries = append(entries, types.PublishBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), Message: aws.String("x")})
		}
		_, err := client.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: entries})
		expectCode(t, err, "TooManyEntriesInBatchRequest", failure.Systemic)
	})

	run(t, "duplicate batch entry ids are refused", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		entries := []types.PublishBatchRequestEntry{
			{Id: aws.String("a"), Message: aws.String("x")},
			{Id: aws.String("a"), Message: aws.String("y")},
		}
		_, err := client.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: entries})
		expectCode(t, err, "BatchEntryIdsNotDistinct", failure.Systemic)
	})

	run(t, "oversize message is refused, permanent", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		_, err := client.Publish(ctx, &awssns.PublishInput{TopicArn: &arn,
			Message: aws.String(strings.Repeat("x", sns.DefaultMaxMessageSize+1))})
		expectCode(t, err, "InvalidParameter", failure.Permanent)
	})

	run(t, "oversize batch is refused, permanent", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		big := strings.Repeat("x", 140_000)
		entries := []types.PublishBatchRequestEntry{
			{Id: aws.String("a"), Message: aws.String(big)},
			{Id: aws.String("b"), Message: aws.String(big)},
		}
		_, err := client.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: entries})
		expectCode(t, err, "BatchRequestTooLong", failure.Permanent)
	})

	run(t, "message size counts attributes", func(t *testing.T) {
		arn, _ := st.NewTopic(t, false)
		_, err := client.Publish(ctx, &awssns.PublishInput{TopicArn: &arn,
			Message:           aws.String(strings.Repeat("x", sns.DefaultMaxMessageSize-10)),
			MessageAttributes: attrs("event_name", "ticket:created")})
		expectCode(t, err, "InvalidParameter", failure.Permanent)
	})

	run(t, "unknown topic is NotFound, systemic, and Topics names it", func(t *testing.T) {
		_, err := client.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: aws.String(st.MissingTopicARN),
			PublishBatchRequestEntries: []types.PublishBatchRequestEntry{{Id: aws.String("a"), Message: aws.String("x")}}})
		expectCode(t, err, "NotFound", failure.Systemic)
		_, err = sns.Topics(ctx, client, []string{st.MissingTopicARN})
		if !errors.Is(err, sns.ErrTopicUnusable) || !strings.Contains(err.Error(), st.MissingTopicARN) {
			t.Fatalf("Topics(missing) = %v; want ErrTopicUnusable naming the ARN", err)
		}
	})

	run(t, "Topics reads FIFO-ness and the size limit", func(t *testing.T) {
		std, _ := st.NewTopic(t, false)
		fifo, _ := st.NewTopic(t, true)
		infos, err := sns.Topics(ctx, client, []string{std, fifo})
		if err != nil {
			t.Fatalf("Topics: %v", err)
		}
		if infos[std] != (sns.TopicInfo{FIFO: false, MaxMessageSize: 262144}) ||
			infos[fifo] != (sns.TopicInfo{FIFO: true, MaxMessageSize: 262144}) {
			t.Fatalf("Topics = %+v", infos)
		}
	})

	run(t, "a refused FIFO entry does not hold back its group", func(t *testing.T) {
		arn, read := st.NewTopic(t, true)
		entry := func(id string) types.PublishBatchRequestEntry {
			return types.PublishBatchRequestEntry{Id: aws.String(id), Message: aws.String(id),
				MessageGroupId: aws.String("ORG1"), MessageDeduplicationId: aws.String("dedup-" + id)}
		}
		// The topic has no content-based de-duplication: an entry without a
		// deduplication id is refused on its own (an empty attribute value,
		// say, would fail the whole call).
		bad := entry("bad")
		bad.MessageDeduplicationId = nil
		out, err := client.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
			entry("first"), bad, entry("third"),
		}})
		if err != nil {
			t.Fatalf("PublishBatch: %v", err)
		}
		var ok []string
		for _, s := range out.Successful {
			ok = append(ok, aws.ToString(s.Id))
		}
		if !slices.Equal(ok, []string{"first", "third"}) || len(out.Failed) != 1 ||
			aws.ToString(out.Failed[0].Id) != "bad" || !out.Failed[0].SenderFault {
			t.Fatalf("successful %q, failed %+v; want first and third published, bad refused (sender fault)", ok, out.Failed)
		}
		got := read(t, 2, 10*time.Second)
		got = append(got, read(t, 0, time.Second)...)
		var bodies []string
		for _, m := range got {
			bodies = append(bodies, m.Body)
		}
		if !slices.Equal(bodies, []string{"first", "third"}) {
			t.Fatalf("subscriber got %q, want first then third", bodies)
		}
	})

	// The publisher's behaviour, through each encoder.
	for _, enc := range encoders {
		t.Run("encoder "+enc, func(t *testing.T) {
			run(t, "publisher keeps FIFO order and SNS drops repeated dedup ids", func(t *testing.T) {
				arn, read := st.NewTopic(t, true)
				p := newContractPublisher(t, client, enc)
				var entries []*sns.Entry
				for i := range 5 {
					entries = append(entries, &sns.Entry{TopicARN: arn, Body: fmt.Sprintf("event %d", i),
						Attributes: []sns.Attribute{{Name: "event_id", Value: fmt.Sprintf("E%d", i)}},
						GroupID:    "ORG1", DedupID: fmt.Sprintf("E%d", i)})
				}
				for _, r := range publishAll(t, p, entries) {
					if r.Err != nil {
						t.Fatalf("publish: %v", r.Err)
					}
				}
				// The same event again (a replay after a crash): accepted, not delivered twice.
				again := *entries[0]
				if r := publishAll(t, p, []*sns.Entry{&again})[0]; r.Err != nil || r.MessageID == "" {
					t.Fatalf("republish: %+v", r)
				}
				got := read(t, 5, 10*time.Second)
				got = append(got, read(t, 0, 2*time.Second)...)
				var bodies []string
				for _, m := range got {
					bodies = append(bodies, m.Body)
					if m.GroupID != "" && m.GroupID != "ORG1" {
						t.Errorf("message group %q, want ORG1", m.GroupID)
					}
				}
				want := []string{"event 0", "event 1", "event 2", "event 3", "event 4"}
				if !slices.Equal(bodies, want) {
					t.Fatalf("subscriber got %q, want %q", bodies, want)
				}
			})

			// fair_group: SNS forwards MessageGroupId on standard topics to
			// SQS standard subscriptions (fair queues); a deduplication id
			// mapping never sets there is not sent either.
			run(t, "publisher sends MessageGroupId on a standard topic", func(t *testing.T) {
				arn, read := st.NewTopic(t, false)
				p := newContractPublisher(t, client, enc)
				entries := []*sns.Entry{
					{TopicARN: arn, Body: "fair", GroupID: "ORG1", Attributes: []sns.Attribute{{Name: "event_id", Value: "F1"}}},
					{TopicARN: arn, Body: "plain", Attributes: []sns.Attribute{{Name: "event_id", Value: "F2"}}},
				}
				for i, r := range publishAll(t, p, entries) {
					if r.Err != nil || r.MessageID == "" {
						t.Fatalf("entry %d: %+v", i, r)
					}
				}
				groups := map[string]string{}
				for _, m := range read(t, 2, 10*time.Second) {
					groups[m.Body] = m.GroupID
				}
				if len(groups) != 2 || groups["fair"] != "ORG1" || groups["plain"] != "" {
					t.Fatalf("subscriber got message groups %q, want fair in ORG1 and plain in none", groups)
				}
			})

			run(t, "publisher sends a FIFO run in one call, in order", func(t *testing.T) {
				arn, read := st.NewTopic(t, true)
				p := newContractPublisher(t, client, enc)
				var entries []*sns.Entry
				var want []string
				for i := range 10 {
					body := fmt.Sprintf("event %d", i)
					want = append(want, body)
					entries = append(entries, &sns.Entry{TopicARN: arn, Body: body,
						Attributes: []sns.Attribute{{Name: "event_id", Value: fmt.Sprintf("R%d", i)}},
						GroupID:    "ORG1", DedupID: fmt.Sprintf("R%d", i)})
				}
				for i, r := range publishRun(t, p, "ORG1", entries) {
					if r.Err != nil || r.MessageID == "" || r.Attempts != 1 {
						t.Fatalf("entry %d: %+v; want published in one attempt", i, r)
					}
				}
				got := read(t, 10, 10*time.Second)
				var bodies []string
				for _, m := range got {
					bodies = append(bodies, m.Body)
				}
				if !slices.Equal(bodies, want) {
					t.Fatalf("subscriber got %q, want %q", bodies, want)
				}
			})

			run(t, "publisher dead-letters only the entry SNS rejects", func(t *testing.T) {
				arn, read := st.NewTopic(t, false)
				p := newContractPublisher(t, client, enc)
				entries := []*sns.Entry{
					{TopicARN: arn, Body: "good 1", Attributes: []sns.Attribute{{Name: "event_name", Value: "a"}}},
					{TopicARN: arn, Body: "bad", Attributes: []sns.Attribute{{Name: "event_name", Value: ""}}},
					{TopicARN: arn, Body: "good 2", Attributes: []sns.Attribute{{Name: "event_name", Value: "b"}}},
				}
				rs := publishAll(t, p, entries)
				if rs[0].Err != nil || rs[2].Err != nil {
					t.Fatalf("good entries: %v, %v", rs[0].Err, rs[2].Err)
				}
				if !failure.IsPermanent(rs[1].Err) {
					t.Fatalf("entry with an empty attribute value: %v; want a permanent error", rs[1].Err)
				}
				var ee *sns.EntryError
				if !errors.As(rs[1].Err, &ee) || !ee.SenderFault ||
					(ee.Code != "ParameterValueInvalid" && ee.Code != "InvalidParameter") {
					t.Fatalf("rejection cause %#v; want an EntryError with an SNS validation code and SenderFault", ee)
				}
				got := read(t, 2, 10*time.Second)
				got = append(got, read(t, 0, time.Second)...)
				if len(got) != 2 {
					t.Fatalf("subscriber got %d messages, want the 2 good ones: %+v", len(got), got)
				}
			})
		})
	}
}

func expectCode(t *testing.T, err error, code string, class failure.Class) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
		t.Fatalf("error %v; want SNS code %s", err, code)
	}
	if fe := sns.Classify(err); fe.Class != class || fe.Code != code {
		t.Fatalf("Classify(%v) = %s %s; want %s %s", err, fe.Class, fe.Code, class, code)
	}
}

func newContractPublisher(t *testing.T, client sns.API, encoder string) *sns.Publisher {
	t.Helper()
	p, err := sns.NewPublisher(client, sns.Config{Linger: 5 * time.Millisecond, Encoder: encoder})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// publishAll publishes entries in order and waits for every Result.
func publishAll(t *testing.T, p *sns.Publisher, entries []*sns.Entry) []sns.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	results := make([]sns.Result, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Add(1)
		p.Publish(ctx, e, func(r sns.Result) { results[i] = r; wg.Done() })
	}
	wg.Wait()
	return results
}

// publishRun publishes entries as one run of key and waits for every Result.
func publishRun(t *testing.T, p *sns.Publisher, key string, entries []*sns.Entry) []sns.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	results := make([]sns.Result, len(entries))
	var wg sync.WaitGroup
	wg.Add(len(entries))
	p.PublishRun(ctx, key, entries, func(i int, r sns.Result) { results[i] = r; wg.Done() })
	wg.Wait()
	return results
}

// TestContractDouble runs the contract suite against the in-process double
// over loopback HTTP.
func TestContractDouble(t *testing.T) {
	srv := snstest.NewServer(snstest.Options{})
	t.Cleanup(srv.Close)
	n := 0
	runContract(t, contractStack{
		Endpoint:        srv.URL,
		MissingTopicARN: "arn:aws:sns:us-east-1:123456789012:no-such-topic",
		NewTopic: func(t *testing.T, fifo bool) (string, func(*testing.T, int, time.Duration) []received) {
			n++
			name := fmt.Sprintf("contract-%d", n)
			attrs := map[string]string{}
			if fifo {
				name += ".fifo"
				attrs["FifoTopic"] = "true"
			}
			arn, err := srv.CreateTopic(name, attrs)
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			return arn, func(t *testing.T, _ int, _ time.Duration) []received {
				msgs := srv.Messages(arn)[seen:]
				seen += len(msgs)
				var out []received
				for _, m := range msgs {
					r := received{Body: m.Body, GroupID: m.GroupID, Attributes: map[string]string{}}
					for k, a := range m.Attributes {
						r.Attributes[k] = a.StringValue
					}
					out = append(out, r)
				}
				return out
			}
		},
	})
}
