package sns

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// item is one entry from Publish to done. At any moment exactly one owner
// holds it: the topic's ready queue or delay heap (under topic.mu), or the
// send goroutine of the call carrying it.
type item struct {
	ctx       context.Context
	e         *Entry
	done      func(Result)
	size      int
	attempts  int
	failures  int  // consecutive failed attempts, for backoff
	solo      bool // send alone: a whole-batch rejection is being narrowed down
	enq       time.Time
	readyAt   time.Time
	heapIdx   int
	stopWatch func() bool
}

type outcome struct {
	it *item
	r  Result
}

type transition struct{ from, to gobreaker.State }

// topic batches and sends the entries of one topic ARN. Its dispatcher
// goroutine (run) forms batches; each batch is sent by a goroutine of its own.
type topic struct {
	p       *Publisher
	arn     string
	fifo    bool
	maxSize int
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	tripNow atomic.Bool // a systemic failure opens the breaker at once

	mu           sync.Mutex
	ready        []*item
	delayed      delayHeap
	inflight     int
	blockedUntil time.Time // the breaker refused; no call before this
	rejections   int
	reap         bool // some entry's context ended

	wake chan struct{}

	transMu     sync.Mutex
	transitions []transition
	hookMu      sync.Mutex // serialises the state-change hook's calls, in order
}

// batchIDs are the PublishBatch entry ids by position.
var batchIDs = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

func newTopic(p *Publisher, arn string) *topic {
	info, ok := p.cfg.Topics[arn]
	if !ok {
		info = TopicInfo{FIFO: IsFIFO(arn)}
	}
	if info.MaxMessageSize == 0 {
		info.MaxMessageSize = DefaultMaxMessageSize
	}
	t := &topic{
		p:       p,
		arn:     arn,
		fifo:    info.FIFO,
		maxSize: info.MaxMessageSize,
		wake:    make(chan struct{}, 1),
	}
	t.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        arn,
		MaxRequests: p.cfg.BreakerHalfOpenCalls,
		Timeout:     p.cfg.BreakerOpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return t.tripNow.Load() || c.ConsecutiveFailures >= p.cfg.BreakerFailures
		},
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			// Called under the breaker's lock: only record; flushTransitions
			// reports it once the lock is released.
			t.transMu.Lock()
			t.transitions = append(t.transitions, transition{from, to})
			t.transMu.Unlock()
		},
	})
	p.metrics.breaker(arn, gobreaker.StateClosed)
	return t
}

func (t *topic) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *topic) enqueue(it *item) {
	it.enq = time.Now()
	if it.ctx.Done() != nil {
		it.stopWatch = context.AfterFunc(it.ctx, t.markReap)
	}
	t.mu.Lock()
	t.ready = append(t.ready, it)
	n := len(t.ready)
	t.mu.Unlock()
	if n == 1 || n%t.p.cfg.MaxBatchEntries == 0 {
		t.poke()
	}
}

func (t *topic) markReap() {
	t.mu.Lock()
	t.reap = true
	t.mu.Unlock()
	t.poke()
}

// run is the topic's dispatcher: it moves retries whose backoff elapsed back
// to the ready queue, drops entries whose context ended, and starts a call
// whenever a batch is full or has lingered long enough, a call slot is free
// and the breaker allows it. It returns once the publisher is closing and the
// topic holds nothing.
func (t *topic) run() {
	p := t.p
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	closing, abandon := p.closing, p.abandon
	closingSeen, abandonSeen := false, false
	for {
		now := time.Now()
		var finished []outcome
		t.mu.Lock()
		t.promoteLocked(now)
		if t.reap || abandonSeen {
			t.reap = false
			finished = t.reapLocked(abandonSeen)
		}
		batch, wakeAt := t.nextBatchLocked(now, closingSeen)
		if batch != nil {
			t.inflight++
		}
		idle := len(t.ready) == 0 && t.delayed.Len() == 0 && t.inflight == 0
		t.mu.Unlock()

		for _, o := range finished {
			p.finish(o.it, o.r)
		}
		if batch != nil {
			t.start(batch, now)
			continue
		}
		if closingSeen && idle {
			return
		}
		if st := t.cb.State(); st != gobreaker.StateClosed {
			// Nothing else may ask the breaker for a while: poll it so that
			// open turns half-open on time and the state-change hook reports it.
			poll := now.Add(max(p.cfg.BreakerOpenTimeout/4, 10*time.Millisecond))
			if wakeAt.IsZero() || poll.Before(wakeAt) {
				wakeAt = poll
			}
		}
		t.flushTransitions(nil)
		if !wakeAt.IsZero() {
			timer.Reset(wakeAt.Sub(now))
		}
		select {
		case <-t.wake:
		case <-timer.C:
		case <-closing:
			closingSeen, closing = true, nil
		case <-abandon:
			abandonSeen, abandon = true, nil
		}
		timer.Stop()
	}
}

// start asks the breaker for a call and sends batch, or puts it back.
func (t *topic) start(batch []*item, now time.Time) {
	cbDone, err := t.cb.Allow()
	if err != nil {
		t.mu.Lock()
		t.ready = append(batch, t.ready...)
		t.inflight--
		// Asking the breaker is free; look again soon enough to probe
		// shortly after it turns half-open. A close unblocks at once
		// (flushTransitions).
		t.rejections++
		wait := min(t.p.retryDelay(t.rejections, failure.Transient), max(t.p.cfg.BreakerOpenTimeout/4, 10*time.Millisecond))
		t.blockedUntil = now.Add(wait)
		t.mu.Unlock()
		t.flushTransitions(err)
		return
	}
	t.mu.Lock()
	t.rejections = 0
	t.mu.Unlock()
	t.flushTransitions(nil)
	t.p.wg.Go(func() { t.send(batch, cbDone) })
}

func (t *topic) promoteLocked(now time.Time) {
	for t.delayed.Len() > 0 && !t.delayed[0].readyAt.After(now) {
		it := heap.Pop(&t.delayed).(*item)
		it.enq = now
		t.ready = append(t.ready, it)
	}
}

// reapLocked removes the entries whose context ended, or all entries when
// the publisher abandons them.
func (t *topic) reapLocked(all bool) []outcome {
	var out []outcome
	keep := t.ready[:0]
	for _, it := range t.ready {
		if err := abandonErr(it, all); err != nil {
			out = append(out, outcome{it, Result{Err: err}})
		} else {
			keep = append(keep, it)
		}
	}
	clear(t.ready[len(keep):])
	t.ready = keep
	for i := 0; i < t.delayed.Len(); {
		it := t.delayed[i]
		if err := abandonErr(it, all); err != nil {
			heap.Remove(&t.delayed, i)
			out = append(out, outcome{it, Result{Err: err}})
			continue
		}
		i++
	}
	return out
}

func abandonErr(it *item, all bool) error {
	if err := it.ctx.Err(); err != nil {
		return err
	}
	if all {
		return ErrClosed
	}
	return nil
}

// nextBatchLocked takes the next batch off the ready queue if one should be
// sent now; otherwise it returns when to look again (zero: when poked).
func (t *topic) nextBatchLocked(now time.Time, closing bool) ([]*item, time.Time) {
	var next time.Time
	if t.delayed.Len() > 0 {
		next = t.delayed[0].readyAt
	}
	if len(t.ready) == 0 {
		return nil, next
	}
	if now.Before(t.blockedUntil) {
		return nil, t.blockedUntil
	}
	if t.inflight >= t.p.cfg.MaxInflightBatches {
		return nil, next // a finishing call pokes
	}
	head := t.ready[0]
	n, size := 1, head.size
	if !head.solo {
		for n < len(t.ready) && n < t.p.cfg.MaxBatchEntries {
			it := t.ready[n]
			if it.solo || size+it.size > t.maxSize {
				break
			}
			size += it.size
			n++
		}
	}
	full := head.solo || n == t.p.cfg.MaxBatchEntries || n < len(t.ready)
	if lingerEnd := head.enq.Add(t.p.cfg.Linger); !full && !closing && now.Before(lingerEnd) {
		if next.IsZero() || lingerEnd.Before(next) {
			next = lingerEnd
		}
		return nil, next
	}
	batch := make([]*item, n)
	copy(batch, t.ready)
	clear(t.ready[:n])
	t.ready = t.ready[n:]
	return batch, time.Time{}
}

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

	var breakerErr error
	if err != nil {
		fe := Classify(err)
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
			breakerErr = fe
			if fe.Class == failure.Systemic {
				t.tripNow.Store(true)
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
		breakerErr = t.settle(batch, out, retryWith, &finished)
	}

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

// settle handles a 200 response entry by entry. It returns the error that
// counts against the breaker: nil when anything in the batch was published or
// rejected for good (SNS is reachable and working), else the first entry's
// error.
func (t *topic) settle(batch []*item, out *awssns.PublishBatchOutput, retryWith func(*item, *failure.Error), finished *[]outcome) error {
	seen := make([]bool, len(batch))
	healthy := false
	var firstErr error
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
		healthy = true
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
		switch fe.Class {
		case failure.Permanent:
			healthy = true
		case failure.Systemic:
			t.tripNow.Store(true)
			fallthrough
		default:
			if firstErr == nil {
				firstErr = fe
			}
		}
		retryWith(batch[i], fe)
	}
	for i, ok := range seen {
		if !ok {
			fe := &failure.Error{Class: failure.Transient, Reason: failure.ReasonSNSUnavail, Code: CodeNoResult,
				Err: errors.New("PublishBatch response does not mention the entry")}
			if firstErr == nil {
				firstErr = fe
			}
			retryWith(batch[i], fe)
		}
	}
	if healthy {
		return nil
	}
	return firstErr
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

// flushTransitions reports recorded breaker changes to metrics, the log and
// the WithStateChange hook, in order, outside the breaker's lock.
func (t *topic) flushTransitions(cause error) {
	t.hookMu.Lock()
	defer t.hookMu.Unlock()
	for {
		t.transMu.Lock()
		trs := t.transitions
		t.transitions = nil
		t.transMu.Unlock()
		if len(trs) == 0 {
			return
		}
		for _, tr := range trs {
			t.p.metrics.breaker(t.arn, tr.to)
			if tr.to == gobreaker.StateClosed {
				t.mu.Lock()
				t.blockedUntil, t.rejections = time.Time{}, 0
				t.mu.Unlock()
				t.poke()
			}
			attrs := []any{slog.String("topic_arn", t.arn), slog.String("from", tr.from.String()), slog.String("to", tr.to.String())}
			if cause != nil && tr.to == gobreaker.StateOpen {
				attrs = append(attrs, slog.String("err", cause.Error()))
			}
			if tr.to == gobreaker.StateOpen {
				t.p.log.Warn("sns breaker opened; calls to the topic paused", attrs...)
			} else {
				t.p.log.Info("sns breaker changed state", attrs...)
			}
			if t.p.onStateChange != nil {
				t.p.onStateChange(t.arn, tr.from, tr.to)
			}
		}
	}
}

// delayHeap orders entries waiting for a retry by when they may go.
type delayHeap []*item

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].readyAt.Before(h[j].readyAt) }
func (h delayHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *delayHeap) Push(x any) {
	it := x.(*item)
	it.heapIdx = len(*h)
	*h = append(*h, it)
}
func (h *delayHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return it
}
