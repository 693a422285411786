package consumer

// The partition's dispatcher: it hands key heads to the publisher and to
// the dead-letter producer, and takes their answers.

import (
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// startHeadLocked hands head, the head of its key, to the dispatcher: to the
// publisher, or to the dead-letter producer when it already failed
// permanently.
func (p *partition) startHeadLocked(head *item) {
	if head.err != nil {
		p.delayLocked(head, time.Time{})
		return
	}
	p.ready = append(p.ready, head)
	signal(p.dispatchWake)
}

// delayLocked hands it to the dispatcher to go out at due: to the
// dead-letter producer when it failed permanently, else to the publisher
// again.
func (p *partition) delayLocked(it *item, due time.Time) {
	it.due = due
	p.delayed = append(p.delayed, it)
	signal(p.dispatchWake)
}

// dispatchLoop hands out publishes and dead-letter produces. While draining
// it starts no new publish, but still dead-letters heads that already failed
// permanently so that they can finish before the deadline.
func (p *partition) dispatchLoop() {
	defer p.wg.Done()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		publish, produce, next := p.takeDue(time.Now())
		for _, it := range publish {
			p.publisher.Publish(p.ctx, it.out.Entry, func(r sns.Result) { p.published(it, r) })
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

// takeDue takes the items to hand out now, counts them as outstanding, and
// returns when the next delayed one is due (zero if none is waiting).
func (p *partition) takeDue(now time.Time) (publish, produce []*item, next time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.draining {
		publish = p.ready
		p.ready = nil
	}
	kept := p.delayed[:0]
	for _, it := range p.delayed {
		switch {
		case it.err == nil && p.draining:
			kept = append(kept, it)
		case it.due.After(now):
			kept = append(kept, it)
			if next.IsZero() || it.due.Before(next) {
				next = it.due
			}
		case it.err == nil:
			publish = append(publish, it)
		default:
			produce = append(produce, it)
		}
	}
	clear(p.delayed[len(kept):])
	p.delayed = kept
	p.outstanding += len(publish) + len(produce)
	return publish, produce, next
}

// answeredLocked counts the answer to something handed out and reports
// whether the partition still wants it (it is not dropped).
func (p *partition) answeredLocked() bool {
	p.outstanding--
	signal(p.changed)
	return !p.dropped
}

// published receives the publisher's one result for it. It never blocks.
func (p *partition) published(it *item, r sns.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.answeredLocked() {
		return
	}
	if r.Attempts > 0 {
		it.attempts = r.Attempts
	}
	switch {
	case r.Err == nil:
		p.metrics.observeDelivered(it.out)
		p.finishLocked(it)
	case failure.IsPermanent(r.Err):
		p.metrics.errors.WithLabelValues(failure.Permanent.String(), failure.ReasonOf(r.Err)).Inc()
		it.err = r.Err
		p.delayLocked(it, time.Time{})
	case p.ctx.Err() != nil:
		// Abandoned: the record stays unfinished, its key stays blocked and
		// the next owner of the partition gets it again.
	default:
		// The publisher promised to retry everything that is not permanent
		// while our ctx lives; if it hands one back anyway (or gives up
		// with its own context's error, closing), publish it again after a
		// backoff rather than lose it or dead-letter it.
		class, reason := failure.ClassOf(r.Err), reasonLabel(r.Err)
		p.metrics.errors.WithLabelValues(class.String(), reason).Inc()
		it.retries++
		wait := p.retry.Delay(it.retries)
		p.log.Error("publisher returned a non-permanent error; publishing again", "offset", it.rec.Offset,
			"class", class.String(), "reason", reason, "backoff", wait)
		p.delayLocked(it, time.Now().Add(wait))
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
		p.log.Warn("event dead-lettered", "offset", it.rec.Offset,
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
	p.log.Error("dead-letter produce failed, retrying", "offset", it.rec.Offset,
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
