package dlq

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// Translator turns a source record into the SNS entry the bridge publishes,
// or the error that stops it; internal/translate's Translator is the one the
// bridge uses.
type Translator interface {
	Entry(ctx context.Context, rec *kgo.Record) (*sns.Entry, error)
}

// Publisher publishes entries to SNS; sns.Publisher satisfies it. done is
// called exactly once per Publish; Close waits for every done, at most until
// ctx ends.
type Publisher interface {
	Publish(ctx context.Context, e *sns.Entry, done func(sns.Result))
	Close(ctx context.Context) error
}

// CheckTranslation is the Check that translates a dead letter's source
// record (DeadLetter.SourceRecord) with tr, as the bridge would now.
func CheckTranslation(tr Translator) Check {
	return func(ctx context.Context, d deadletter.DeadLetter) error {
		_, err := tr.Entry(ctx, d.SourceRecord())
		return err
	}
}

// SNSDestination is the Destination of `bridge dlq replay -to-sns`: it
// publishes each dead letter through the bridge's own pipeline, translated
// again from its source record and handed to the publisher, which batches,
// retries and classifies as the bridge does.
type SNSDestination struct {
	tr  Translator
	pub Publisher
}

// NewSNSDestination returns the destination publishing what tr makes of each
// dead letter with pub.
func NewSNSDestination(tr Translator, pub Publisher) *SNSDestination {
	return &SNSDestination{tr: tr, pub: pub}
}

// Send implements Destination. A record that no longer translates gets the
// translation's error; the publisher's outcome is done's otherwise.
func (s *SNSDestination) Send(ctx context.Context, d deadletter.DeadLetter, done func(error)) {
	e, err := s.tr.Entry(ctx, d.SourceRecord())
	if err != nil {
		done(err)
		return
	}
	s.pub.Publish(ctx, e, func(r sns.Result) { done(r.Err) })
}

// Close implements Destination: it closes the publisher, which waits for
// what is in flight.
func (s *SNSDestination) Close(ctx context.Context) error {
	return s.pub.Close(ctx)
}
