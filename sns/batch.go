// Batching: the topic's dispatcher, which forms batches from the ready
// queue, lingers for a fuller one, returns retries from the delay heap when
// their backoff has passed and drops entries whose context ended. Asking the
// breaker before a call is in breaker.go, the call itself in send.go.

package sns

import (
	"container/heap"
	"time"

	"github.com/sony/gobreaker/v2"
)

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
			poll := now.Add(t.breakerPoll())
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
