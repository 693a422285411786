// Whether SNS is usable for what the publisher holds, per topic and for
// the publisher as a whole: what readiness asks, what
// bridge_sns_unusable{topic_arn} shows and what the log reports when it
// changes.

package sns

import (
	"log/slog"
	"time"

	"github.com/sony/gobreaker/v2"
)

// hold counts n more entries held for t at now.
func (t *topic) hold(n int, now time.Time) {
	if t.held.Add(int64(n)) == int64(n) {
		t.heldSince.Store(now.UnixNano())
	}
}

// succeeded records that SNS answered a call to t at now and took its part
// (published, rejected for good or throttled entries).
func (t *topic) succeeded(now time.Time) { t.lastSuccess.Store(now.UnixNano()) }

// unusableAt reports whether SNS is unusable for t at now: t holds entries
// and its breaker is not closed, or none of its calls succeeded for the
// publisher's CallTimeout while they waited. If not, it returns when t
// would turn unusable without a success (zero: not while it holds
// nothing).
func (t *topic) unusableAt(now time.Time) (bool, time.Time) {
	if t.held.Load() <= 0 {
		return false, time.Time{}
	}
	if t.cb.State(now) != gobreaker.StateClosed {
		return true, time.Time{}
	}
	since := max(t.heldSince.Load(), t.lastSuccess.Load())
	deadline := time.Unix(0, since).Add(t.p.cfg.CallTimeout)
	if !now.Before(deadline) {
		return true, time.Time{}
	}
	return false, deadline
}

// reportHealth passes a change of t's usability to the metrics and the log
// and returns when to look again. The dispatcher calls it.
func (t *topic) reportHealth(now time.Time) time.Time {
	unusable, next := t.unusableAt(now)
	if unusable == t.unusable {
		return next
	}
	t.unusable = unusable
	t.p.metrics.unusable(t.arn, unusable)
	if unusable {
		t.unusableSince = now
		t.p.log.Warn("sns unusable for the topic: its entries wait and no call succeeds",
			slog.String("topic_arn", t.arn), slog.Int64("entries", t.held.Load()),
			slog.String("breaker", t.cb.State(now).String()))
	} else {
		t.p.log.Info("sns usable again for the topic", slog.String("topic_arn", t.arn),
			slog.Duration("after", now.Sub(t.unusableSince)))
	}
	return next
}

// TopicUnusable reports whether SNS is unusable for topicARN's entries: the
// publisher holds some and the topic's breaker is not closed, or no call
// to the topic has succeeded for CallTimeout while they waited. A topic the
// publisher holds nothing for is not unusable. Safe for concurrent use;
// does not block.
func (p *Publisher) TopicUnusable(topicARN string) bool {
	t, ok := p.topics.Load(topicARN)
	if !ok {
		return false
	}
	unusable, _ := t.(*topic).unusableAt(time.Now())
	return unusable
}

// Unusable reports whether SNS is unusable for everything the publisher
// holds: some topic is TopicUnusable, and no call to any topic succeeded
// within CallTimeout. It is what readiness asks. A replica whose traffic
// all waits behind one topic's open breaker is unusable even though the
// other topics' breakers stay closed (nothing reaches them: their
// partitions paused behind the open topic); a replica that still delivers
// to some topic, or holds nothing, is not. Safe for concurrent use; does
// not block.
func (p *Publisher) Unusable() bool {
	now := time.Now()
	unusable, recent := false, false
	p.topics.Range(func(_, v any) bool {
		t := v.(*topic)
		if u, _ := t.unusableAt(now); u {
			unusable = true
		}
		if last := t.lastSuccess.Load(); last != 0 && now.Sub(time.Unix(0, last)) <= p.cfg.CallTimeout {
			recent = true
		}
		return !recent
	})
	return unusable && !recent
}
