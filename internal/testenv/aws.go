package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// Region is the region of every AWS resource the tests make, the region of the bridges they run.
const Region = bridgeproc.Region

// AWSConfig returns an SDK config for SNSEndpoint(t): region us-east-1, static dummy credentials,
// BaseEndpoint set, and no shared config or credential files read, so a developer's real AWS
// profile can never be used by a test. Its HTTP connections are closed in t.Cleanup, so packages
// that check for leaked goroutines (goleak) do not see idle keep-alive connections.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	endpoint := SNSEndpoint(t)
	// The SDK's buildable client, not a plain *http.Client: config loading adds options to it
	// (AWS_CA_BUNDLE, for one). Every transport it builds is remembered so its idle connections
	// can be closed.
	var (
		mu         sync.Mutex
		transports []*http.Transport
	)
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		mu.Lock()
		defer mu.Unlock()
		transports = append(transports, tr)
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, tr := range transports {
			tr.CloseIdleConnections()
		}
	})
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithHTTPClient(httpClient),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(endpoint),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatalf("testenv: aws config: %v", err)
	}
	return cfg
}

// SNSTopic creates an SNS topic with a name unique to this test, FIFO when fifo is true (the
// name then ends in .fifo), and deletes it in t.Cleanup. It returns the topic ARN.
// attributes are extra CreateTopic attributes (for example "ContentBasedDeduplication"); nil for
// none.
func SNSTopic(t testing.TB, fifo bool, attributes map[string]string) string {
	t.Helper()
	client := awssns.NewFromConfig(AWSConfig(t))
	attrs := map[string]string{}
	for k, v := range attributes {
		attrs[k] = v
	}
	name := Name(t, "", 256-len(".fifo"))
	if fifo {
		name += ".fifo"
		attrs["FifoTopic"] = "true"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := client.CreateTopic(ctx, &awssns.CreateTopicInput{Name: &name, Attributes: attrs})
	if err != nil {
		t.Fatalf("testenv: creating sns topic %s at %s: %v (is the stack up? scripts/stack.sh status)", name, SNSEndpoint(t), err)
	}
	arn := aws.ToString(out.TopicArn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteTopic(ctx, &awssns.DeleteTopicInput{TopicArn: &arn}); err != nil {
			t.Errorf("testenv: deleting sns topic %s: %v", arn, err)
		}
	})
	return arn
}

// Queue is an SQS queue subscribed to an SNS topic.
type Queue struct {
	URL             string
	ARN             string
	SubscriptionARN string
}

// SubscribeQueue creates an SQS queue with a name unique to this test (FIFO when topicARN is a
// FIFO topic), allows the topic to send to it, and subscribes it to the topic with raw message
// delivery, so the queue receives the published body and message attributes unchanged.
// filterPolicy, when not empty, is the subscription's FilterPolicy JSON on message attributes.
// Queue and subscription are deleted in t.Cleanup.
func SubscribeQueue(t testing.TB, topicARN, filterPolicy string) Queue {
	t.Helper()
	return subscribeQueue(t, topicARN, filterPolicy, true)
}

// SubscribeEnvelopeQueue is SubscribeQueue without raw message delivery: each SQS message's body
// is SNS's JSON envelope, the published body in its "Message" and the attributes in its
// "MessageAttributes".
func SubscribeEnvelopeQueue(t testing.TB, topicARN string) Queue {
	t.Helper()
	return subscribeQueue(t, topicARN, "", false)
}

func subscribeQueue(t testing.TB, topicARN, filterPolicy string, raw bool) Queue {
	t.Helper()
	cfg := AWSConfig(t)
	snsClient, sqsClient := awssns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fifo := sns.IsFIFO(topicARN)
	name := Name(t, "q", 80-len(".fifo"))
	attrs := map[string]string{}
	if fifo {
		name += ".fifo"
		attrs[string(sqstypes.QueueAttributeNameFifoQueue)] = "true"
	}
	created, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatalf("testenv: creating sqs queue %s: %v", name, err)
	}
	q := Queue{URL: aws.ToString(created.QueueUrl)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := sqsClient.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &q.URL}); err != nil {
			t.Errorf("testenv: deleting sqs queue %s: %v", q.URL, err)
		}
	})
	got, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &q.URL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("testenv: reading arn of sqs queue %s: %v", name, err)
	}
	q.ARN = got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]

	// moto does not check queue policies; real SQS drops SNS deliveries without this one.
	policy, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  q.ARN,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}},
		}},
	})
	if err != nil {
		t.Fatalf("testenv: queue policy: %v", err)
	}
	if _, err := sqsClient.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   &q.URL,
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): string(policy)},
	}); err != nil {
		t.Fatalf("testenv: setting policy of sqs queue %s: %v", name, err)
	}

	subAttrs := map[string]string{"RawMessageDelivery": strconv.FormatBool(raw)}
	if filterPolicy != "" {
		subAttrs["FilterPolicy"] = filterPolicy
	}
	sub, err := snsClient.Subscribe(ctx, &awssns.SubscribeInput{
		TopicArn:              &topicARN,
		Protocol:              aws.String("sqs"),
		Endpoint:              &q.ARN,
		Attributes:            subAttrs,
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		t.Fatalf("testenv: subscribing %s to %s: %v", q.ARN, topicARN, err)
	}
	q.SubscriptionARN = aws.ToString(sub.SubscriptionArn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := snsClient.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: &q.SubscriptionARN}); err != nil {
			t.Errorf("testenv: unsubscribing %s: %v", q.SubscriptionARN, err)
		}
	})
	return q
}

// Message is one message as a subscriber of the SNS topic receives it through its SQS queue.
type Message struct {
	Body string
	// Attributes are the message attributes by name: the string value of String and Number
	// attributes, the raw bytes of Binary ones.
	Attributes map[string]string
	// AttributeTypes are the DataType of each attribute ("String", "Number", "Binary", or with a
	// custom suffix such as "String.Array").
	AttributeTypes map[string]string
	// MessageGroupID, MessageDeduplicationID and SequenceNumber are set for FIFO queues.
	MessageGroupID         string
	MessageDeduplicationID string
	SequenceNumber         string
	// SentTimestamp is when SQS received the message.
	SentTimestamp time.Time
}

// Receive reads messages from the queue at queueURL, deleting each, until n have arrived or wait
// has passed, and returns those it got, in the order the queue handed them out. For a FIFO queue
// that is the order of each message group. The test asserts on the count; Receive fails the test
// only when SQS itself errs. Receive(t, url, 0, d) collects whatever arrives within d, which lets
// a test check that nothing more came.
func Receive(t testing.TB, queueURL string, n int, wait time.Duration) []Message {
	t.Helper()
	client := sqs.NewFromConfig(AWSConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	var got []Message
	for n <= 0 || len(got) < n {
		msgs, err := receive(ctx, client, queueURL)
		got = append(got, msgs...)
		if ctx.Err() != nil {
			break // wait has passed; a receive cut short by it is not a failure
		}
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	return got
}

// receive reads one batch of up to ten messages (waiting up to a second for them) and deletes
// what it read. It returns no messages when ctx ended during the receive, and the messages it
// read when only their deletion failed.
func receive(ctx context.Context, client *sqs.Client, queueURL string) ([]Message, error) {
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    &queueURL,
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             1,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("receiving from %s: %w", queueURL, err)
	}
	if len(out.Messages) == 0 {
		return nil, nil
	}
	got := make([]Message, 0, len(out.Messages))
	entries := make([]sqstypes.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
	for i, m := range out.Messages {
		got = append(got, toMessage(m))
		entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{
			Id:            aws.String(strconv.Itoa(i)),
			ReceiptHandle: m.ReceiptHandle,
		})
	}
	del, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &queueURL, Entries: entries})
	if err == nil && len(del.Failed) > 0 {
		err = fmt.Errorf("%d entries failed, first: %s", len(del.Failed), aws.ToString(del.Failed[0].Message))
	}
	if err != nil {
		return got, fmt.Errorf("deleting received messages from %s: %w", queueURL, err)
	}
	return got, nil
}

// QueueReader drains a queue in the background into a list, for tests that watch arrivals while
// something else happens (an outage, a restart).
type QueueReader struct {
	mu     sync.Mutex
	msgs   []Message
	cancel context.CancelFunc
	done   chan struct{}
}

// ReadQueue starts reading the queue at queueURL, deleting what it reads, until t's cleanup. An
// SQS error does not stop it: it tries again half a second later.
func ReadQueue(t testing.TB, queueURL string) *QueueReader {
	t.Helper()
	client := sqs.NewFromConfig(AWSConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	r := &QueueReader{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ctx.Err() == nil {
			msgs, err := receive(ctx, client, queueURL)
			r.mu.Lock()
			r.msgs = append(r.msgs, msgs...)
			r.mu.Unlock()
			if err != nil && ctx.Err() == nil {
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *QueueReader) stop() {
	r.cancel()
	<-r.done
}

// Count is how many messages have arrived so far.
func (r *QueueReader) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// IDs counts the messages that have arrived so far by their event_id attribute.
func (r *QueueReader) IDs() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.msgs))
	for _, m := range r.msgs {
		out[m.Attributes["event_id"]]++
	}
	return out
}

func toMessage(m sqstypes.Message) Message {
	msg := Message{
		Body:                   aws.ToString(m.Body),
		Attributes:             make(map[string]string, len(m.MessageAttributes)),
		AttributeTypes:         make(map[string]string, len(m.MessageAttributes)),
		MessageGroupID:         m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)],
		MessageDeduplicationID: m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageDeduplicationId)],
		SequenceNumber:         m.Attributes[string(sqstypes.MessageSystemAttributeNameSequenceNumber)],
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		msg.SentTimestamp = time.UnixMilli(ms)
	}
	for name, v := range m.MessageAttributes {
		msg.AttributeTypes[name] = aws.ToString(v.DataType)
		if v.StringValue != nil {
			msg.Attributes[name] = *v.StringValue
		} else {
			msg.Attributes[name] = string(v.BinaryValue)
		}
	}
	return msg
}
