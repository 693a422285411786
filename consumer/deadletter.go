package consumer

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// deadLetterWriter writes dead letters with the engine's dead-letter
// producer (internal/deadletter holds the record format).
type deadLetterWriter struct {
	template string // Config.DeadLetterTopic
	instance string // the bridge.instance header
	version  string // the bridge.version header
	produce  func(context.Context, *kgo.Record, func(*kgo.Record, error))
}

// topic is the dead-letter topic of source.
func (w deadLetterWriter) topic(source string) string { return deadletter.Topic(w.template, source) }

// record builds the dead-letter record for it.
func (w deadLetterWriter) record(it *item, failedAt time.Time) *kgo.Record {
	class := failure.ClassOf(it.err)
	if class == failure.Unknown {
		class = failure.Permanent
	}
	target := it.targetARN()
	if target == "" {
		target = it.out.RoutedARN
	}
	return deadletter.Build(w.template, it.rec, deadletter.Failure{
		Class:     class.String(),
		Reason:    reasonLabel(it.err),
		Message:   it.err.Error(),
		SNSCode:   failure.CodeOf(it.err),
		EventID:   it.out.EventID,
		EventType: it.out.EventType,
		OrgID:     it.out.OrgID,
		TargetARN: target,
		Attempts:  it.attempts,
		FailedAt:  failedAt,
		Instance:  w.instance,
		Version:   w.version,

		OffloadObject: it.out.OffloadObject,
	})
}

// write writes it to its dead-letter topic; done gets the answer once the
// write is acknowledged by all in-sync replicas, fails, or ctx is canceled.
// It does not block.
func (w deadLetterWriter) write(ctx context.Context, it *item, done func(error)) {
	w.produce(ctx, w.record(it, time.Now()), func(_ *kgo.Record, err error) { done(err) })
}
