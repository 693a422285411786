package consumer

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// deadLetterRecord builds the dead-letter record for it (internal/deadletter
// holds the format).
func (e *Engine) deadLetterRecord(it *item, failedAt time.Time) *kgo.Record {
	class := failure.ClassOf(it.err)
	if class == failure.Unknown {
		class = failure.Permanent
	}
	target := it.targetARN()
	if target == "" {
		target = it.out.RoutedARN
	}
	return deadletter.Build(e.cfg.DeadLetterTopic, it.rec, deadletter.Failure{
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
		Instance:  e.instance,
		Version:   e.version,
	})
}

// produceDeadLetter writes it to its dead-letter topic; p.deadLettered gets
// the answer once the write is acknowledged by all in-sync replicas, fails,
// or ctx is canceled.
func (e *Engine) produceDeadLetter(ctx context.Context, p *partition, it *item) {
	rec := e.deadLetterRecord(it, time.Now())
	e.dlq.Produce(ctx, rec, func(_ *kgo.Record, err error) { p.deadLettered(it, err) })
}
