package consumer

// The partition's dispatcher: it hands runs of its ordering scopes to the
// publisher and failed heads to the dead-letter producer, and takes their
// answers.

import (
	"errors"
	"math"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// wakeLocked hands s to the dispatcher when its head may go out.
func (p *partition) wakeLocked(s *scope) {
	if s.queued || !p.scopes.mayStart(s) {
		return
	}
	s.queued = true
	p.ready = append(p.ready, s)
	signal(p.dispatchWake)
}

// delayLocked hands it to the dispatcher to go out at due: to the
// dead-letter producer when it failed permanently, else (handed back by the
// publisher) to its scope's next run.
func (p *partition) delayLocked(it *item, due time.Time) {
	it.due = due
	p.delayed = append(p.delayed, it)
	signal(p.dispatchWake)
}

// dispatchLoop hands out runs and dead-letter produces. While draining it
// hands out only what lies below the drain limit (beginDrain).
func (p *partition) dispatchLoop() {
	defer p.wg.Done()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		runs, produce, next := p.takeDue(time.Now())
		for _, rn := range runs {
			entries := make([]*sns.Entry, len(rn.items))
			for i, it := range rn.items {
				entries[i] = it.out.Entry
			}
			p.publisher.PublishRun(p.ctx, rn.scope.id.key, entries, func(i int, r sns.Result) { p.published(rn, i, r) })
		}
		for _, it := range produce {
			p.deadLetters.write(p.ctx, it, func(err error) { p.deadLettered(it, err) })
		}

		var timerC <-chan time.Time
		if !next.IsZero() {
			if timer == nil {
				timer = time.NewTimer(time.Until(next))
			} else {
				timer.Reset(time.Until(next))
			}
			timerC = timer.C
		}
		select {
		case <-p.dispatchWake:
		case <-timerC:
		case <-p.quit:
			return
		}
	}
}

// takeDue takes the runs and dead letters to hand out now, counts them as
// outstanding, and returns when the next delayed item is due (zero if none
// is waiting).
func (p *partition) takeDue(now time.Time) (runs []*run, produce []*item, next time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	below := p.drainLimitLocked()
	kept := p.delayed[:0]
	for _, it := range p.delayed {
		switch {
		case it.err == nil && it.offset >= below:
			kept = append(kept, it) // the next owner publishes it
		case it.due.After(now):
			kept = append(kept, it)
			if next.IsZero() || it.due.Before(next) {
				next = it.due
			}
		case it.err == nil:
			// Handed back and due: its scope's next run starts with it.
			it.due = time.Time{}
			p.wakeLocked(it.scope)
		default:
			produce = append(produce, it)
		}
	}
	clear(p.delayed[len(kept):])
	p.delayed = kept

	for _, s := range p.ready {
		s.queued = false
		lim := runLimits{entries: 1}
		if arn := s.id.arn; arn != "" {
			lim = p.limits(arn)
		}
		for {
			rn := p.scopes.take(s, now, lim, below)
			if rn == nil {
				break
			}
			p.handedOut = max(p.handedOut, rn.items[len(rn.items)-1].offset)
			if rn.items[0].err != nil {
				produce = append(produce, rn.items[0])
				continue
			}
			runs = append(runs, rn)
			p.outstanding += len(rn.items)
		}
	}
	clear(p.ready)
	p.ready = p.ready[:0]
	p.outstanding += len(produce)
	if p.draining {
		signal(p.changed) // awaitIdle looks at ready, which is empty now
	}
	return runs, produce, next
}

// limits are the bounds of the next run to arn.
func (p *partition) limits(arn string) runLimits {
	entries, bytes := p.publisher.RunLimit(arn)
	if bytes <= 0 {
		bytes = math.MaxInt
	}
	return runLimits{entries: max(min(entries, p.maxRunPerKey), 1), bytes: bytes}
}

// answeredLocked counts the answer to something handed out and reports
// whether the partition still wants it (it is not dropped).
func (p *partition) answeredLocked() bool {
	p.outstanding--
	signal(p.changed)
	return !p.dropped
}

// published receives the publisher's one result for entry i of rn. It
// never blocks.
func (p *partition) published(rn *run, i int, r sns.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i < 0 || i >= len(rn.items) || rn.answered[i] {
		p.log.Error("publisher answered an entry it was not given or answered it twice; ignored", "index", i, "run", len(rn.items))
		return
	}
	rn.answered[i] = true
	if !p.answeredLocked() {
		return
	}
	it := rn.items[i]
	if r.Attempts > 0 {
		it.attempts = r.Attempts
	}
	switch {
	case r.Err == nil:
		p.metrics.observeDelivered(it.out)
		p.hot.observe(it.scope.id.key, it.out.EventTime, time.Now())
		p.finishLocked(it)
	case failure.IsPermanent(r.Err):
		// Dead-letter it; the run stays out until the dead letter is
		// acknowledged, so the scope's next events wait for it.
		p.metrics.errors.WithLabelValues(failure.Permanent.String(), failure.ReasonOf(r.Err)).Inc()
		it.err = r.Err
		p.delayLocked(it, time.Time{})
	case p.ctx.Err() != nil || errors.Is(r.Err, sns.ErrClosed):
		// Abandoned: the record stays unfinished, its scope stays busy and
		// the next owner of the partition gets it again.
		if p.ctx.Err() == nil {
			p.metrics.abandoned.Inc()
		}
	default:
		// The publisher promised to retry everything that is not permanent
		// while our ctx lives; if it hands one back anyway, publish it again
		// after a backoff, in its scope's order, rather than lose it or
		// dead-letter it.
		class, reason := failure.ClassOf(r.Err), reasonLabel(r.Err)
		p.metrics.errors.WithLabelValues(class.String(), reason).Inc()
		it.retries++
		wait := p.retry.Delay(it.retries)
		p.log.Error("publisher returned a non-permanent error; publishing again", "offset", it.offset,
			"class", class.String(), "reason", reason, "backoff", wait)
		s := it.scope
		p.scopes.handBack(it)
		p.delayLocked(it, time.Now().Add(wait))
		p.wakeLocked(s) // a relaxed scope may go on with later items
	}
}

// deadLettered receives the dead-letter producer's answer for it. It never blocks.
func (p *partition) deadLettered(it *item, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.answeredLocked() {
		return
	}
	if err == nil {
		p.metrics.deadLetters.WithLabelValues(reasonLabel(it.err)).Inc()
		p.log.Warn("event dead-lettered", "offset", it.offset,
			"event_id", it.out.EventID, "event_type", it.out.EventType,
			"class", failure.ClassOf(it.err).String(), "reason", reasonLabel(it.err), "sns_code", failure.CodeOf(it.err))
		p.finishLocked(it)
		return
	}
	if p.ctx.Err() != nil {
		return // abandoned, like a publish
	}
	it.retries++
	p.metrics.retries.WithLabelValues(failure.ReasonKafka).Inc()
	p.metrics.errors.WithLabelValues(failure.Transient.String(), failure.ReasonKafka).Inc()
	wait := p.retry.Delay(it.retries)
	p.log.Error("dead-letter produce failed, retrying", "offset", it.offset,
		"dead_letter_topic", p.deadLetters.topic(p.topic),
		"attempt", it.retries, "backoff", wait, "err", err)
	p.delayLocked(it, time.Now().Add(wait))
}

func reasonLabel(err error) string {
	if r := failure.ReasonOf(err); r != "" {
		return r
	}
	return "unknown"
}
