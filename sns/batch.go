// Batching: the topic's dispatcher, which packs whole runs into batches
// from the ready queue, lingers for a fuller one, waits for the topic's send
// rate, returns retries from the delay heap when their backoff has passed
// and drops runs whose context ended. Asking the breaker before a call is in
// breaker.go, the call itself in send.go.

package sns

import (
	"container/heap"
	"time"

	"github.com/sony/gobreaker/v2"
)

// packWindow is how many ready runs batch forming looks at: past the head
// it skips runs that do not fit (other keys' runs, in no promised order) to
// fill the call, but never further than this, so that forming a batch costs
// the same however long the queue is.
const packWindow = 32

// run is the topic's dispatcher: it moves retries whose backoff elapsed back
// to the ready queue (all of them while the breaker is not closed: its
// probes pace the calls then, and the first probe that succeeds should
// find them ready), drops runs whose context ended, and starts a call
// whenever a batch is full or has lingered long enough, a call slot is free,
// the send rate and the breaker allow it. It reports the topic turning
// unusable or usable again (health.go). It returns once the publisher is
// closing and the topic holds nothing.
func (t *topic) run() {
	p := t.p
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	closing, abandon := p.closing, p.abandon
	closingSeen, abandonSeen := false, false
	var c *call // the next call's scratch space
	for {
		now := time.Now()
		var finished []outcome
		open := t.cb.State(now) != gobreaker.StateClosed
		t.mu.Lock()
		t.promoteLocked(now, open)
		if t.reap || abandonSeen {
			t.reap = false
			finished = t.reapLocked(abandonSeen)
		}
		if c == nil {
			c = newCall()
		}
		batch, wakeAt := t.nextBatchLocked(now, closingSeen, c.batch[:0])
		if batch != nil {
			t.inflight++
		}
		idle := len(t.ready) == 0 && t.delayed.Len() == 0 && t.inflight == 0
		t.mu.Unlock()

		for _, o := range finished {
			p.finish(o)
		}
		t.rate.report(t)
		if batch != nil {
			c.batch = batch
			t.start(c, now)
			c = nil
			continue
		}
		if closingSeen && idle {
			c.release()
			return
		}
		// Wake when an open breaker turns half-open, so that the change is
		// reported on time even with nothing to send, and when the topic
		// would turn unusable.
		for _, at := range [2]time.Time{t.cb.openUntil(), t.reportHealth(now)} {
			if !at.IsZero() && (wakeAt.IsZero() || at.Before(wakeAt)) {
				wakeAt = at
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

// promoteLocked moves the runs whose backoff elapsed, or all when open, to
// the front of the ready queue: they are older than anything waiting there.
func (t *topic) promoteLocked(now time.Time, all bool) {
	var due []*run
	for t.delayed.Len() > 0 && (all || !t.delayed[0].readyAt.After(now)) {
		r := heap.Pop(&t.delayed).(*run)
		r.enq = now
		n, _ := r.sending()
		t.readyEntries += n
		due = append(due, r)
	}
	if len(due) > 0 {
		t.ready = append(due, t.ready...)
	}
}

// reapLocked removes the runs whose context ended, or all runs when the
// publisher abandons them, and returns their entries' outcomes.
func (t *topic) reapLocked(all bool) []outcome {
	var out []outcome
	abandonRun := func(r *run, err error) {
		for _, it := range r.items {
			out = append(out, outcome{r, it, Result{Err: err}})
		}
	}
	keep := t.ready[:0]
	for _, r := range t.ready {
		if err := abandonErr(r, all); err != nil {
			n, _ := r.sending()
			t.readyEntries -= n
			abandonRun(r, err)
		} else {
			keep = append(keep, r)
		}
	}
	clear(t.ready[len(keep):])
	t.ready = keep
	for i := 0; i < t.delayed.Len(); {
		r := t.delayed[i]
		if err := abandonErr(r, all); err != nil {
			heap.Remove(&t.delayed, i)
			abandonRun(r, err)
			continue
		}
		i++
	}
	return out
}

func abandonErr(r *run, all bool) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if all {
		return ErrClosed
	}
	return nil
}

// nextBatchLocked takes the next batch off the ready queue, appended to
// batch, if one should be sent now; otherwise it returns nil and when to
// look again (zero: when poked).
//
// A batch is the head run plus, in queue order, the runs among the next
// packWindow that fit whole: at most MaxBatchEntries entries and the topic's
// size limit together. A run being narrowed down goes alone, one entry.
func (t *topic) nextBatchLocked(now time.Time, closing bool, batch []*run) ([]*run, time.Time) {
	var next time.Time
	if t.delayed.Len() > 0 {
		next = t.delayed[0].readyAt
	}
	earliest := func(at time.Time) time.Time {
		if next.IsZero() || at.Before(next) {
			return at
		}
		return next
	}
	if len(t.ready) == 0 {
		return nil, next
	}
	if at, ok := t.cb.ready(now); !ok {
		if at.IsZero() {
			return nil, next // the probe on the wire pokes when it returns
		}
		return nil, earliest(at)
	}
	if t.inflight >= t.p.cfg.MaxInflightBatches {
		return nil, next // a finishing call pokes
	}
	limit := t.p.cfg.MaxBatchEntries
	head := t.ready[0]
	n, size := head.sending()
	var picked [packWindow]bool
	picked[0] = true
	scanned := 1
	full := head.solo
	if !head.solo {
		for ; scanned < len(t.ready) && scanned < packWindow && n < limit; scanned++ {
			r := t.ready[scanned]
			if r.solo || n+len(r.items) > limit || size+r.size > t.maxSize {
				full = true // waiting cannot make room for it
				continue
			}
			picked[scanned] = true
			n += len(r.items)
			size += r.size
		}
		full = full || n == limit || scanned < len(t.ready)
	}
	if lingerEnd := head.enq.Add(t.p.cfg.Linger); !full && !closing && now.Before(lingerEnd) {
		return nil, earliest(lingerEnd)
	}
	if wait, ok := t.rate.allow(now, n); !ok {
		return nil, earliest(now.Add(wait))
	}
	for j := range scanned {
		if picked[j] {
			batch = append(batch, t.ready[j])
		}
	}
	// The runs left behind keep their order, moved up against the unscanned
	// rest: only the scanned part of the queue is touched.
	k := scanned
	for j := scanned - 1; j >= 0; j-- {
		if !picked[j] {
			k--
			t.ready[k] = t.ready[j]
		}
	}
	clear(t.ready[:k])
	t.ready = t.ready[k:]
	t.readyEntries -= n
	return batch, time.Time{}
}

// delayHeap orders runs waiting for a retry by when they may go.
type delayHeap []*run

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].readyAt.Before(h[j].readyAt) }
func (h delayHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *delayHeap) Push(x any) {
	r := x.(*run)
	r.heapIdx = len(*h)
	*h = append(*h, r)
}
func (h *delayHeap) Pop() any {
	old := *h
	n := len(old)
	r := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return r
}
