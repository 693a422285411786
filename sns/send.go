// Sending and settling: one PublishBatch call for a batch, and what becomes
// of each entry in it from the answer: done (published or permanently
// rejected), or back to the delay heap after a backoff.

package sns

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// batchIDs are the PublishBatch entry ids by position.
var batchIDs = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// send makes one PublishBatch call for batch and settles every entry in it:
// done for published and permanently rejected entries, back to the delay
// heap for the others.
func (t *topic) send(batch []*item, cbDone func(error)) {
	p := t.p
	in := &awssns.PublishBatchInput{
		TopicArn:                   aws.String(t.arn),
		PublishBatchRequestEntries: make([]types.PublishBatchRequestEntry, len(batch)),
	}
	for i, it := range batch {
		it.attempts++
		it.e.ID = batchIDs[i]
		in.PublishBatchRequestEntries[i] = t.requestEntry(it.e)
	}
	ctx, cancel := context.WithTimeout(p.callCtx, p.cfg.CallTimeout)
	start := time.Now()
	out, err := p.client.PublishBatch(ctx, in)
	cancel()
	now := time.Now()
	p.metrics.call(len(batch), now.Sub(start))

	var finished []outcome
	var retry []*item
	// wait, when set, is the one backoff shared by a batch that failed as a
	// whole, so that its entries come back together as one batch.
	var wait time.Duration
	retryWith := func(it *item, fe *failure.Error) {
		p.metrics.failed(fe, 1)
		if fe.Class == failure.Permanent {
			finished = append(finished, outcome{it, Result{Err: permanentErr(fe)}})
			return
		}
		p.metrics.retried(fe.Code)
		it.failures++
		d := wait
		if d == 0 {
			d = p.retryDelay(it.failures, fe.Class)
		}
		it.readyAt = now.Add(d)
		retry = append(retry, it)
	}

	v := verdict{t: t}
	if err != nil {
		fe := Classify(err)
		v.failed(fe)
		switch {
		case fe.Class == failure.Permanent && len(batch) > 1:
			// SNS refused the whole request for something in it. Narrow it
			// down: each entry goes again alone, at once, so that only the
			// guilty one is dead-lettered.
			for _, it := range batch {
				it.solo = true
				it.readyAt = now
				p.metrics.retried(fe.Code)
				retry = append(retry, it)
			}
		case fe.Class == failure.Permanent:
			retryWith(batch[0], fe)
		default:
			if fe.Class == failure.Systemic {
				p.log.Error("sns topic unusable; retrying slowly",
					slog.String("topic_arn", t.arn), slog.String("code", fe.Code), slog.String("err", err.Error()))
			}
			n := 0
			for _, it := range batch {
				n = max(n, it.failures)
			}
			wait = max(p.retryDelay(n+1, fe.Class), time.Nanosecond)
			for _, it := range batch {
				retryWith(it, fe)
			}
		}
	} else {
		t.settle(batch, out, retryWith, &finished, &v)
	}

	breakerErr := v.result()
	cbDone(breakerErr)
	t.tripNow.Store(false)
	t.flushTransitions(breakerErr)

	// Entries to retry whose caller left, or whose publisher gave up, end here.
	abandoning := p.isAbandoning()
	t.mu.Lock()
	for _, it := range retry {
		if err := abandonErr(it, abandoning); err != nil {
			finished = append(finished, outcome{it, Result{Err: err}})
			continue
		}
		heap.Push(&t.delayed, it)
	}
	t.inflight--
	t.mu.Unlock()
	t.poke()

	for _, o := range finished {
		if o.r.Err == nil {
			p.metrics.publishedEntry(t.arn, o.it.e.EventType)
		}
		p.finish(o.it, o.r)
	}
}

// settle handles a 200 response entry by entry, telling v each entry's
// outcome.
func (t *topic) settle(batch []*item, out *awssns.PublishBatchOutput, retryWith func(*item, *failure.Error), finished *[]outcome, v *verdict) {
	seen := make([]bool, len(batch))
	index := func(id *string) int {
		if id == nil || len(*id) != 1 || (*id)[0] < '0' || int((*id)[0]-'0') >= len(batch) {
			return -1
		}
		return int((*id)[0] - '0')
	}
	for _, s := range out.Successful {
		i := index(s.Id)
		if i < 0 || seen[i] {
			continue
		}
		seen[i] = true
		v.published()
		it := batch[i]
		it.failures = 0
		*finished = append(*finished, outcome{it, Result{MessageID: aws.ToString(s.MessageId)}})
	}
	for _, f := range out.Failed {
		i := index(f.Id)
		if i < 0 || seen[i] {
			continue
		}
		seen[i] = true
		fe := classifyEntry(aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)
		v.failed(fe)
		retryWith(batch[i], fe)
	}
	for i, ok := range seen {
		if !ok {
			fe := &failure.Error{Class: failure.Transient, Reason: failure.ReasonSNSUnavail, Code: CodeNoResult,
				Err: errors.New("PublishBatch response does not mention the entry")}
			v.failed(fe)
			retryWith(batch[i], fe)
		}
	}
}

func (t *topic) requestEntry(e *Entry) types.PublishBatchRequestEntry {
	re := types.PublishBatchRequestEntry{
		Id:      aws.String(e.ID),
		Message: aws.String(e.Body),
	}
	if len(e.Attributes) > 0 {
		re.MessageAttributes = make(map[string]types.MessageAttributeValue, len(e.Attributes))
		for _, a := range e.Attributes {
			re.MessageAttributes[a.Name] = types.MessageAttributeValue{
				DataType:    aws.String(attributeType),
				StringValue: aws.String(a.Value),
			}
		}
	}
	if t.fifo {
		re.MessageGroupId = aws.String(e.GroupID)
		if e.DedupID != "" {
			re.MessageDeduplicationId = aws.String(e.DedupID)
		}
	}
	return re
}

// permanentErr is the Result error of a permanently rejected entry: a
// Permanent *failure.Error whose cause is an *EntryError.
func permanentErr(fe *failure.Error) *failure.Error {
	var ee *EntryError
	if errors.As(fe.Err, &ee) {
		return fe
	}
	ee = &EntryError{Code: fe.Code, Message: fe.Err.Error()}
	var apiErr smithy.APIError
	if errors.As(fe.Err, &apiErr) {
		ee.Message = apiErr.ErrorMessage()
		ee.SenderFault = apiErr.ErrorFault() != smithy.FaultServer
	}
	return &failure.Error{Class: fe.Class, Reason: fe.Reason, Code: fe.Code, Err: ee}
}

// retryDelay is the wait before the next attempt after failures consecutive
// failed ones (failures >= 1): full jitter over an exponential cap for
// transient errors, the slow end of the range for systemic ones, where a
// quick retry cannot help.
func (p *Publisher) retryDelay(failures int, class failure.Class) time.Duration {
	if class == failure.Systemic {
		return p.retry.Slow()
	}
	return p.retry.Delay(failures)
}
