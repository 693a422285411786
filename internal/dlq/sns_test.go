package dlq

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// translateByReason translates a source record unless its value says it is
// still unroutable.
type translateByReason struct{}

func (translateByReason) Entry(_ context.Context, rec *kgo.Record) (*sns.Entry, error) {
	if string(rec.Value) == "value of billing:invoice:paid/0@1" {
		return nil, failure.Permanentf("unroutable", "no route")
	}
	return &sns.Entry{TopicARN: "arn:aws:sns:us-east-1:123456789012:t", Body: string(rec.Value)}, nil
}

// recordingPublisher accepts every entry but those with body reject.
type recordingPublisher struct {
	published []string
	reject    string
	closed    bool
}

func (p *recordingPublisher) Publish(_ context.Context, e *sns.Entry, done func(sns.Result)) {
	if e.Body == p.reject {
		done(sns.Result{Err: failure.Permanentf("sns_rejected", "InvalidParameter")})
		return
	}
	p.published = append(p.published, e.Body)
	done(sns.Result{MessageID: "m"})
}

func (p *recordingPublisher) Close(context.Context) error { p.closed = true; return nil }

// A replay to SNS publishes what the translator makes of each source record
// and reports what the translator or the publisher refused.
func TestSNSDestination(t *testing.T) {
	good := deadletter.Parse(deadLetterRecord(letter{reason: "sns_rejected", eventType: "ticket:created", srcOffset: 0}))
	unroutable := deadletter.Parse(deadLetterRecord(letter{reason: "unroutable", eventType: "billing:invoice:paid", srcOffset: 1}))
	rejected := deadletter.Parse(deadLetterRecord(letter{reason: "sns_rejected", eventType: "ticket:updated", srcOffset: 2}))
	pub := &recordingPublisher{reject: string(rejected.Record.Value)}
	dest := NewSNSDestination(translateByReason{}, pub)
	ctx := context.Background()

	check := CheckTranslation(translateByReason{})
	if err := check(ctx, good); err != nil {
		t.Errorf("check of a record that translates: %v", err)
	}
	if err := check(ctx, unroutable); failure.ReasonOf(err) != "unroutable" {
		t.Errorf("check of an unroutable record: %v", err)
	}

	outcome := map[string]error{}
	for _, d := range []deadletter.DeadLetter{good, unroutable, rejected} {
		dest.Send(ctx, d, func(err error) { outcome[string(d.Record.Value)] = err })
	}
	if err := dest.Close(ctx); err != nil || !pub.closed {
		t.Fatalf("Close: %v, publisher closed %v", err, pub.closed)
	}
	if err := outcome[string(good.Record.Value)]; err != nil || len(pub.published) != 1 || pub.published[0] != string(good.Record.Value) {
		t.Errorf("good record: %v, published %v", err, pub.published)
	}
	if err := outcome[string(unroutable.Record.Value)]; failure.ReasonOf(err) != "unroutable" {
		t.Errorf("unroutable record: %v", err)
	}
	var fe *failure.Error
	if err := outcome[string(rejected.Record.Value)]; !errors.As(err, &fe) || failure.ReasonOf(err) != "sns_rejected" {
		t.Errorf("rejected record: %v", err)
	}
}
