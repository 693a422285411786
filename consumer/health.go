package consumer

// What readiness needs to know: whether the member is in its group, whether
// owned work moves, and whether translation (the schema registry) stalls.

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// slowTranslate is how long one Translate call may run before its
// partition counts as stalled in translation. A call normally takes
// microseconds (schemas are cached) and a registry lookup milliseconds; a
// registry that is down makes the decoder retry inside the call for many
// seconds before the engine sees an error.
const slowTranslate = time.Second

// stallCheckEvery is how often the engine looks for slow Translate calls.
const stallCheckEvery = 250 * time.Millisecond

// Health is a snapshot of the engine's membership and progress, for a
// readiness check.
type Health struct {
	// InGroup reports that the member has joined its group and holds a
	// current assignment (possibly empty). It is false before the first
	// assignment, from a loss of the group (the session expired or was
	// fenced, the coordinator could not be reached for a session timeout, a
	// join failed) until the next assignment, and from shutdown on.
	InGroup bool
	// Owned is how many partitions the member owns.
	Owned int
	// Waiting is how many fetched records are not yet behind their
	// partition's watermark (bridge_inflight_events).
	Waiting int
	// LastProgress is when a record last finished (published or
	// dead-lettered), or when records came to wait while none were, or when
	// partitions were assigned: owned work has not moved since.
	LastProgress time.Time
	// TranslateStalled is how many owned partitions are stalled in
	// translation: retrying a transient error, or in one Translate call for
	// over a second (bridge_translate_stalled_partitions).
	TranslateStalled int
	// TranslateStalledSince is, when every owned partition holding records
	// is stalled in translation (and one is), since when all of them have
	// been; zero otherwise.
	TranslateStalledSince time.Time
	// WaitingByTopic counts the translated events not yet published or
	// dead-lettered by target topic ARN: the topics the owned work waits
	// on. SNS is unusable for this replica's traffic when every topic in it
	// is blocked, even if other routed topics are fine: a topic whose
	// partitions paused behind another one gets no calls.
	WaitingByTopic map[string]int
}

// Health returns the engine's membership and progress. It is safe for
// concurrent use and does not block on Kafka.
func (e *Engine) Health() Health {
	h := Health{
		InGroup:      e.inGroup.Load(),
		Waiting:      int(e.budget.records.Load()),
		LastProgress: e.progress.at(),
	}
	// busy counts the partitions that hold records and are not stalled.
	var latest time.Time
	busy := 0
	h.WaitingByTopic = make(map[string]int)
	for _, p := range e.partitions() {
		h.Owned++
		p.countWaiting(h.WaitingByTopic)
		since, waiting := p.stallState()
		switch {
		case !since.IsZero():
			h.TranslateStalled++
			if since.After(latest) {
				latest = since
			}
		case waiting:
			busy++
		}
	}
	if h.TranslateStalled > 0 && busy == 0 {
		h.TranslateStalledSince = latest
	}
	return h
}

// progressClock is when the engine's owned work last moved. It is safe for
// concurrent use.
type progressClock struct{ nanos atomic.Int64 }

func (c *progressClock) mark(now time.Time) { c.nanos.Store(now.UnixNano()) }

func (c *progressClock) at() time.Time { return time.Unix(0, c.nanos.Load()) }

// translateWatch follows a partition's translator: when its current
// Translate call began, and since when it has been stalled (retrying a
// transient error, or in one call for over slowTranslate). It is safe for
// concurrent use: the translator and the engine's stall check share it.
type translateWatch struct {
	mu      sync.Mutex
	calling time.Time // start of the call in progress; zero while none
	stalled time.Time // zero while not stalled
}

// begin records that a Translate call starts at now.
func (w *translateWatch) begin(now time.Time) {
	w.mu.Lock()
	w.calling = now
	w.mu.Unlock()
}

// failed records that the call that began at start failed transiently and
// reports whether that made the partition stalled.
func (w *translateWatch) failed(start time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calling = time.Time{}
	if !w.stalled.IsZero() {
		return false
	}
	w.stalled = start
	return true
}

// done records that the call ended with a result (or the translator
// stopped) and returns since when the partition had been stalled, zero if
// it was not.
func (w *translateWatch) done() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	since := w.stalled
	w.calling, w.stalled = time.Time{}, time.Time{}
	return since
}

// slow marks the partition stalled when its call in progress has run for
// slowTranslate at now, and reports whether it did.
func (w *translateWatch) slow(now time.Time) (since time.Time, marked bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.calling.IsZero() || !w.stalled.IsZero() || now.Sub(w.calling) < slowTranslate {
		return time.Time{}, false
	}
	w.stalled = w.calling
	return w.stalled, true
}

func (w *translateWatch) since() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stalled
}

// stallState returns since when the partition has been stalled in
// translation (zero if it is not) and whether it holds records.
func (p *partition) stallState() (since time.Time, waiting bool) {
	p.mu.Lock()
	waiting = p.ledger.len() > 0
	p.mu.Unlock()
	return p.watch.since(), waiting
}

// countWaiting adds the partition's translated events not yet published to
// by, by target topic ARN. Dead letters wait on Kafka, not on a topic.
func (p *partition) countWaiting(by map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, s := range p.scopes.byID {
		for _, it := range s.items {
			if id.arn != "" && !it.finished && it.err == nil {
				by[id.arn]++
			}
		}
	}
}

// checkSlowTranslate marks the partition stalled in translation when its
// Translate call in progress has run too long, and says so at once: a
// schema registry that is down shows within a second, not after the
// decoder's own retries give up.
func (p *partition) checkSlowTranslate(now time.Time) {
	since, marked := p.watch.slow(now)
	if !marked {
		return
	}
	// The line comes before the gauge, so whoever sees the gauge move also
	// finds the line.
	p.log.Warn("translation stalled: one record has been decoding for over a second (schema registry slow or down?); later records of the partition wait",
		"stalled_for", now.Sub(since).Round(time.Millisecond).String())
	p.metrics.translateStalled.Inc()
}

// stallLoop looks for slow Translate calls on every owned partition until
// ctx ends.
func (e *Engine) stallLoop(ctx context.Context) {
	every(ctx, stallCheckEvery, func(now time.Time) {
		for _, p := range e.partitions() {
			p.checkSlowTranslate(now)
		}
	})
}
