// Sending and settling: one PublishBatch call for a batch of runs, and what
// becomes of each run from the answer: its entries done (published or
// permanently rejected), the rest back to the delay heap as one run, in
// order, after a backoff; order breaks counted; the send rate told.

package sns

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/internal/keyhash"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
)

// batchIDs are the PublishBatch entry ids by position.
var batchIDs = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// slot is one entry on the wire and what SNS said of it: a MessageID, or
// the failure.
type slot struct {
	r     *run
	it    *item
	msgID string
	fe    *failure.Error
}

// call is one PublishBatch call's scratch space, reused across calls so
// that a call allocates nothing of its own: its runs, their entries' slots,
// the entries as the encoder takes them, the answer, and what becomes of
// the runs.
type call struct {
	batch    []*run
	slots    []slot
	entries  []wire.Entry
	res      wire.BatchResult
	finished []outcome
	again    []*run
}

var calls = sync.Pool{New: func() any {
	const n = DefaultMaxBatchEntries
	return &call{batch: make([]*run, 0, n), slots: make([]slot, 0, n), entries: make([]wire.Entry, 0, n),
		finished: make([]outcome, 0, n), again: make([]*run, 0, n)}
}}

func newCall() *call { return calls.Get().(*call) }

// release clears c's references and returns it to the pool.
func (c *call) release() {
	clear(c.batch)
	clear(c.slots)
	clear(c.entries)
	clear(c.finished)
	clear(c.again)
	c.batch, c.slots, c.entries = c.batch[:0], c.slots[:0], c.entries[:0]
	c.finished, c.again = c.finished[:0], c.again[:0]
	calls.Put(c)
}

// send makes one PublishBatch call for c.batch and settles every run in it.
func (t *topic) send(c *call, tk ticket) {
	p := t.p
	defer c.release()
	batch := c.batch
	for _, r := range batch {
		n, _ := r.sending()
		for _, it := range r.items[:n] {
			c.slots = append(c.slots, slot{r: r, it: it})
		}
	}
	slots := c.slots
	for k, s := range slots {
		s.it.attempts++
		s.it.e.ID = batchIDs[k]
		c.entries = append(c.entries, t.wireEntry(s.it.e))
	}
	ctx, cancel := context.WithTimeout(p.callCtx, p.cfg.CallTimeout)
	span := t.startCallSpan(slots)
	start := time.Now()
	err := p.batches.PublishBatch(ctx, t.arn, c.entries, &c.res)
	cancel()
	endCallSpan(span, err)
	now := time.Now()
	p.metrics.call(len(slots), now.Sub(start))

	var v verdict
	narrow := false
	// wait, when set, is the one backoff shared by a call that failed as a
	// whole, so that its runs come back together as one batch.
	var wait time.Duration
	if err != nil {
		fe := Classify(err)
		v.failed(fe)
		for k := range slots {
			slots[k].fe = fe
		}
		switch {
		case fe.Class == failure.Permanent && len(slots) > 1:
			// SNS refused the whole request for something in it. Narrow it
			// down: each run goes again at once, one entry per call in
			// order, so that only the guilty entry is dead-lettered.
			narrow = true
			for range slots {
				p.metrics.retried(fe.Code)
			}
		default:
			if fe.Class == failure.Systemic {
				p.log.Error("sns topic unusable; retrying slowly",
					slog.String("topic_arn", t.arn), slog.String("code", fe.Code), slog.String("err", err.Error()))
			}
			n := 0
			for _, r := range batch {
				n = max(n, r.failures)
			}
			if fe.Class != failure.Permanent {
				wait = max(p.callRetryDelay(n+1, fe), time.Nanosecond)
			}
		}
	} else {
		settle(slots, &c.res, &v)
	}
	t.observeRate(now, start, slots, err != nil)

	breakerErr := v.result()
	if v.healthy {
		t.succeeded(now)
	}
	t.cb.done(tk, now, breakerErr, v.systemic)
	t.flushTransitions(breakerErr)

	finished, again := c.finished[:0], c.again[:0]
	k := 0
	for _, r := range batch {
		n, _ := r.sending()
		rs := slots[k : k+n]
		k += n
		if narrow {
			r.solo = true
			r.readyAt = now
			again = append(again, r)
			continue
		}
		if t.settleRun(r, rs, now, wait, &finished) {
			again = append(again, r)
		}
	}

	// Runs to retry whose caller left, or whose publisher gave up, end here.
	abandoning := p.isAbandoning()
	keep := again[:0]
	for _, r := range again {
		if err := abandonErr(r, abandoning); err != nil {
			for _, it := range r.items {
				finished = append(finished, outcome{r, it, Result{Err: err}})
			}
			continue
		}
		keep = append(keep, r)
	}
	// Report before handing the runs back: from then on the dispatcher owns them.
	for _, o := range finished {
		if o.res.Err == nil {
			p.metrics.publishedEntry(t.arn, o.it.e.EventType)
		}
		p.finish(o)
	}
	t.mu.Lock()
	for _, r := range keep {
		heap.Push(&t.delayed, r)
	}
	t.inflight--
	t.mu.Unlock()
	c.finished, c.again = finished, again // keep what they grew to
	t.rate.report(t)
	t.poke()
}

// settleRun applies one call's answer to r, whose first len(rs) entries it
// carried: entries before the first transient or systemic failure are done,
// and so are later ones SNS published (each an order break: it cannot be
// un-sent) or rejected for good; the failed ones stay in r, in order, ahead
// of any entry not sent yet, for one retry after a backoff (wait, when set).
// It reports whether r goes again.
func (t *topic) settleRun(r *run, rs []slot, now time.Time, wait time.Duration, finished *[]outcome) bool {
	p := t.p
	var retry []*item
	var first, worst *failure.Error
	breaks := 0
	for _, s := range rs {
		switch {
		case s.fe == nil:
			if len(retry) > 0 {
				breaks++
			}
			*finished = append(*finished, outcome{r, s.it, Result{MessageID: s.msgID}})
		case s.fe.Class == failure.Permanent:
			p.metrics.failed(s.fe, 1)
			*finished = append(*finished, outcome{r, s.it, Result{Err: permanentErr(s.fe)}})
		default:
			p.metrics.failed(s.fe, 1)
			p.metrics.retried(s.fe.Code)
			if first == nil {
				first = s.fe
			}
			retry = append(retry, s.it)
			worst = severer(worst, s.fe)
		}
	}
	if breaks > 0 {
		t.orderBreak(r, breaks, first.Code)
	}
	rest := r.items[len(rs):]
	if len(retry) == 0 && len(rest) == 0 {
		return false
	}
	remaining := make([]*item, 0, len(retry)+len(rest))
	r.setItems(append(append(remaining, retry...), rest...))
	if len(retry) == 0 {
		// Narrowing down, and the entry sent alone is done: the next one goes.
		r.failures = 0
		r.readyAt = now
		return true
	}
	r.failures++
	d := wait
	if d == 0 {
		d = p.retryDelay(r.failures, worst)
	}
	r.readyAt = now.Add(d)
	return true
}

// settle fills in each slot's outcome from a 200 answer: a MessageID, the
// entry's own failure, or, for an entry the answer does not mention, a
// transient NoResult; and tells v.
func settle(slots []slot, out *wire.BatchResult, v *verdict) {
	var seenBuf [DefaultMaxBatchEntries]bool
	seen := seenBuf[:len(slots)]
	index := func(id string) int {
		if len(id) != 1 || id[0] < '0' || int(id[0]-'0') >= len(slots) {
			return -1
		}
		return int(id[0] - '0')
	}
	for _, s := range out.Successful {
		k := index(s.ID)
		if k < 0 || seen[k] {
			continue
		}
		seen[k] = true
		v.published()
		slots[k].msgID = s.MessageID
	}
	for _, f := range out.Failed {
		k := index(f.ID)
		if k < 0 || seen[k] {
			continue
		}
		seen[k] = true
		fe := classifyEntry(f.Code, f.Message, f.SenderFault)
		v.failed(fe)
		slots[k].fe = fe
	}
	for k, ok := range seen {
		if !ok {
			fe := &failure.Error{Class: failure.Transient, Reason: failure.ReasonSNSUnavail, Code: CodeNoResult,
				Err: errors.New("PublishBatch response does not mention the entry")}
			v.failed(fe)
			slots[k].fe = fe
		}
	}
}

// observeRate tells the topic's send rate what a call sent at sentAt got.
// On a FIFO topic, throttled entries of a single message group are likely
// that group over its own limit (300 messages/s; a hot key's run fills a
// call alone): its run's short retry wait paces that one key, and the
// topic's rate is left alone. A whole call throttled, or throttled entries
// of several groups, slow the topic.
func (t *topic) observeRate(now, sentAt time.Time, slots []slot, whole bool) {
	accepted, throttled := 0, 0
	var group string
	groups := 0
	for _, s := range slots {
		switch {
		case s.fe == nil:
			accepted++
		case isThrottle(s.fe):
			throttled++
			if g := s.it.e.GroupID; groups == 0 || (groups == 1 && g != group) {
				group = g
				groups++
			}
		}
	}
	t.p.metrics.throttledEntries(t.arn, throttled)
	cut := !t.fifo || whole || groups > 1
	t.rate.observe(now, sentAt, accepted, throttled, cut)
}

// orderBreak counts breaks later entries of r that SNS published while an
// earlier one failed for a retry, and logs it once per run, naming the key
// only by its hash.
func (t *topic) orderBreak(r *run, breaks int, code string) {
	t.p.metrics.orderBreaks(t.arn, breaks)
	if r.logged {
		return
	}
	r.logged = true
	t.p.log.Warn("sns order break: later events of a key published while an earlier one is retried",
		slog.String("topic_arn", t.arn), slog.String("key_hash", keyhash.Of(r.key)),
		slog.Int("breaks", breaks), slog.String("code", code))
}

// severer returns the failure that calls for the longer wait: systemic,
// then other transient failures, then throttling.
func severer(a, b *failure.Error) *failure.Error {
	rank := func(fe *failure.Error) int {
		switch {
		case fe == nil:
			return 0
		case fe.Class == failure.Systemic:
			return 3
		case isThrottle(fe):
			return 1
		}
		return 2
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// wireEntry is e as the encoder takes it: the deduplication id on FIFO
// topics only (standard topics refuse one); the group id whenever it is
// set, because standard topics forward it to SQS fair queues.
func (t *topic) wireEntry(e *Entry) wire.Entry {
	we := wire.Entry{ID: e.ID, Body: e.Body, Attributes: e.Attributes, GroupID: e.GroupID}
	if t.fifo {
		we.DedupID = e.DedupID
	}
	return we
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
// failed ones (failures >= 1), for a failure like fe: full jitter over an
// exponential cap for transient errors; for throttling the same over a cap
// of at most throttleBackoffMax, because the topic's send rate does the
// pacing and a longer wait would only hold the key back; the slow end of
// the range for systemic errors, where a quick retry cannot help.
func (p *Publisher) retryDelay(failures int, fe *failure.Error) time.Duration {
	switch {
	case fe.Class == failure.Systemic:
		return p.retry.Slow()
	case isThrottle(fe):
		return p.throttleRetry.Delay(failures)
	}
	return p.retry.Delay(failures)
}

// callRetryDelay is retryDelay for the runs of a call that failed as a
// whole, but with transient failures capped at unreachableBackoffMax: SNS
// unreachable, not answering or answering 5xx is what the breaker paces,
// and a run's own long wait would only hold it back once SNS answers again.
func (p *Publisher) callRetryDelay(failures int, fe *failure.Error) time.Duration {
	if fe.Class == failure.Transient && !isThrottle(fe) {
		return p.callRetry.Delay(failures)
	}
	return p.retryDelay(failures, fe)
}
