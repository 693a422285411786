package consumer

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// item is one fetched record on its way to a terminal state.
type item struct {
	rec *kgo.Record
	out Outbound
	// key is the ordering key: the record key, or the event's orgId when
	// the record key is empty. Set once translated.
	key string
	// err is the permanent error that sends the item to the dead-letter topic.
	err      error
	attempts int // translate attempts, or PublishBatch calls that carried it

	retries  int       // dead-letter produce attempts that failed, or publishes handed back
	due      time.Time // when a delayed item may go out
	finished bool
}

// keyQueue holds the translated items of one ordering key, oldest first. Only
// the head is ever out (publishing or dead-lettering): that is what keeps a
// key's events in order across retries and partial batch failures.
type keyQueue struct {
	items []*item
	busy  bool // the head has been handed to the publisher or the dead-letter producer
}

// partition is the delivery state of one owned partition. Two goroutines own
// its work: the translator, which translates fetched records in offset order,
// and the dispatcher, which hands key heads to the publisher and to the
// dead-letter producer. Results come back on the publisher's and the
// producer's goroutines and only update state under mu; they never block.
type partition struct {
	e     *Engine
	topic string
	id    int32

	// ctx is the lifetime of everything handed out for this partition;
	// canceling it abandons in-flight publishes and dead-letter produces.
	ctx    context.Context
	cancel context.CancelFunc
	// translateCtx stops the translator (and its transient retry loop) as
	// soon as revocation begins.
	translateCtx    context.Context
	stopTranslating context.CancelFunc
	quit            chan struct{} // closed when the partition is dropped
	wg              sync.WaitGroup

	translateWake chan struct{} // cap 1
	dispatchWake  chan struct{} // cap 1
	changed       chan struct{} // cap 1; signals drain progress

	mu sync.Mutex
	// ledger holds every fetched, unfinished record in offset order; its
	// front is the first offset that is not finished.
	ledger []*item
	// untranslated holds the fetched records the translator has not taken yet.
	untranslated []*item
	keys         map[string]*keyQueue
	// ready are key heads to publish now. delayed are key heads to
	// dead-letter (err set) or, rarely, to publish again, each at its due time.
	ready   []*item
	delayed []*item
	// outstanding counts publishes and dead-letter produces handed out and
	// not yet answered.
	outstanding int
	// arnPending counts unfinished translated items per target topic ARN,
	// so TopicBlocked knows which partitions feed a blocked topic.
	arnPending map[string]int
	draining   bool
	dropped    bool

	// watermark is what a commit of this partition would send: one past the
	// highest offset such that it and every lower fetched offset are finished.
	watermark    kgo.EpochOffset
	hasWatermark bool
	committed    int64 // last offset committed by this member, -1 if none
	next         int64 // one past the last offset taken into the ledger
	highWater    int64

	pausedBuffer  bool // paused because the buffer is full
	pausedBlocked bool // paused because pending work targets a blocked topic
	paused        bool // what kgo was last told
}

func newPartition(e *Engine, topic string, id int32) *partition {
	p := &partition{
		e:             e,
		topic:         topic,
		id:            id,
		quit:          make(chan struct{}),
		translateWake: make(chan struct{}, 1),
		dispatchWake:  make(chan struct{}, 1),
		changed:       make(chan struct{}, 1),
		keys:          make(map[string]*keyQueue),
		arnPending:    make(map[string]int),
		committed:     -1,
		highWater:     -1,
	}
	p.ctx, p.cancel = context.WithCancel(e.runCtx)
	p.translateCtx, p.stopTranslating = context.WithCancel(p.ctx)
	p.wg.Add(2)
	go p.translateLoop()
	go p.dispatchLoop()
	return p
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// enqueue takes freshly fetched records, in offset order.
func (p *partition) enqueue(recs []*kgo.Record, highWater int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped {
		return
	}
	if highWater >= 0 {
		p.highWater = highWater
		if p.committed >= 0 {
			p.e.metrics.committedLag.WithLabelValues(p.topic, partitionLabel(p.id)).Set(float64(max(p.highWater-p.committed, 0)))
		}
	}
	n := 0
	for _, r := range recs {
		if r.Offset < p.next {
			continue // already taken: never let a refetch reorder or duplicate the ledger
		}
		p.next = r.Offset + 1
		it := &item{rec: r}
		p.ledger = append(p.ledger, it)
		p.untranslated = append(p.untranslated, it)
		n++
	}
	p.e.addInflight(n)
	p.e.metrics.consumed.WithLabelValues(p.topic).Add(float64(n))
	p.updatePauseLocked()
	signal(p.translateWake)
}

// translateLoop translates records in offset order. A transient error
// retries the same record with backoff until it succeeds or the partition
// starts draining; later records of the partition wait behind it.
func (p *partition) translateLoop() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		var it *item
		if len(p.untranslated) > 0 {
			it = p.untranslated[0]
			p.untranslated[0] = nil
			p.untranslated = p.untranslated[1:]
		}
		p.mu.Unlock()
		if it == nil {
			select {
			case <-p.translateWake:
				continue
			case <-p.translateCtx.Done():
				return
			}
		}
		out, err, ok := p.translate(it)
		if !ok {
			return // draining: the record stays unfinished and is redelivered
		}
		p.admit(it, out, err)
	}
}

func (p *partition) translate(it *item) (Outbound, error, bool) {
	ctx := p.translateCtx
	for {
		it.attempts++
		out, err := p.e.translator.Translate(ctx, it.rec)
		if ctx.Err() != nil {
			return Outbound{}, nil, false
		}
		if err == nil {
			if out.Entry == nil {
				// A translator that returns neither an entry nor an error is
				// a bug; dead-letter the record rather than lose it.
				return out, failure.Permanentf(failure.ReasonMissingField, "translator returned no entry"), true
			}
			return out, nil, true
		}
		class, reason := failure.ClassOf(err), failure.ReasonOf(err)
		if reason == "" {
			reason = "unknown"
		}
		p.e.metrics.errors.WithLabelValues(class.String(), reason).Inc()
		if class == failure.Permanent {
			return out, err, true
		}
		p.e.metrics.retries.WithLabelValues(reason).Inc()
		wait := p.e.backoff(it.attempts)
		p.e.log.Warn("translate failed, retrying",
			"topic", p.topic, "partition", p.id, "offset", it.rec.Offset,
			"class", class.String(), "reason", reason, "attempt", it.attempts, "backoff", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Outbound{}, nil, false
		}
	}
}

// admit puts a translated record in its key's queue.
func (p *partition) admit(it *item, out Outbound, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped {
		return
	}
	it.out, it.err = out, err
	it.key = string(it.rec.Key)
	if it.key == "" {
		it.key = out.OrgID
	}
	if arn := it.targetARN(); arn != "" {
		p.arnPending[arn]++
	}
	q := p.keys[it.key]
	if q == nil {
		q = &keyQueue{}
		p.keys[it.key] = q
	}
	q.items = append(q.items, it)
	if len(q.items) == 2 {
		p.e.metrics.parkedKeys.Inc()
	}
	if !q.busy {
		p.startHeadLocked(q)
	}
	p.updatePauseLocked()
}

func (it *item) targetARN() string {
	if it.out.Entry != nil {
		return it.out.Entry.TopicARN
	}
	return ""
}

// startHeadLocked hands q's head to the dispatcher: to the publisher, or to
// the dead-letter producer when it already failed permanently.
func (p *partition) startHeadLocked(q *keyQueue) {
	head := q.items[0]
	q.busy = true
	if head.err != nil {
		head.due = time.Time{}
		p.delayed = append(p.delayed, head)
	} else {
		p.ready = append(p.ready, head)
	}
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
		p.mu.Lock()
		var publish []*item
		if !p.draining {
			publish = p.ready
			p.ready = nil
		}
		var produce []*item
		var next time.Time
		now := time.Now()
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
		p.mu.Unlock()

		for _, it := range publish {
			p.e.publisher.Publish(p.ctx, it.out.Entry, func(r sns.Result) { p.published(it, r) })
		}
		for _, it := range produce {
			p.e.produceDeadLetter(p.ctx, p, it)
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

// published receives the publisher's one result for it. It never blocks.
func (p *partition) published(it *item, r sns.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outstanding--
	signal(p.changed)
	if p.dropped {
		return
	}
	if r.Attempts > 0 {
		it.attempts = r.Attempts
	}
	switch {
	case r.Err == nil:
		p.e.delivered(it)
		p.finishLocked(it)
	case failure.IsPermanent(r.Err):
		reason := failure.ReasonOf(r.Err)
		p.e.metrics.errors.WithLabelValues(failure.Permanent.String(), reason).Inc()
		it.err = r.Err
		it.due = time.Time{}
		p.delayed = append(p.delayed, it)
		signal(p.dispatchWake)
	case p.ctx.Err() != nil:
		// Abandoned: the record stays unfinished, its key stays blocked and
		// the next owner of the partition gets it again.
	default:
		// The publisher promised to retry everything that is not permanent
		// while our ctx lives; if it hands one back anyway (or gives up
		// with its own context's error, closing), publish it again after a
		// backoff rather than lose it or dead-letter it.
		class, reason := failure.ClassOf(r.Err), reasonLabel(r.Err)
		p.e.metrics.errors.WithLabelValues(class.String(), reason).Inc()
		it.retries++
		wait := p.e.backoff(it.retries)
		p.e.log.Error("publisher returned a non-permanent error; publishing again",
			"topic", p.topic, "partition", p.id, "offset", it.rec.Offset,
			"class", class.String(), "reason", reason, "backoff", wait)
		it.due = time.Now().Add(wait)
		p.delayed = append(p.delayed, it)
		signal(p.dispatchWake)
	}
}

// deadLettered receives the dead-letter producer's answer for it. It never blocks.
func (p *partition) deadLettered(it *item, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outstanding--
	signal(p.changed)
	if p.dropped {
		return
	}
	if err == nil {
		p.e.metrics.deadLetters.WithLabelValues(reasonLabel(it.err)).Inc()
		p.e.log.Warn("event dead-lettered",
			"topic", p.topic, "partition", p.id, "offset", it.rec.Offset,
			"event_id", it.out.EventID, "event_type", it.out.EventType,
			"class", failure.ClassOf(it.err).String(), "reason", reasonLabel(it.err), "sns_code", failure.CodeOf(it.err))
		p.finishLocked(it)
		return
	}
	if p.ctx.Err() != nil {
		return // abandoned, like a publish
	}
	it.retries++
	p.e.metrics.retries.WithLabelValues(failure.ReasonKafka).Inc()
	p.e.metrics.errors.WithLabelValues(failure.Transient.String(), failure.ReasonKafka).Inc()
	wait := p.e.backoff(it.retries)
	p.e.log.Error("dead-letter produce failed, retrying",
		"topic", p.topic, "partition", p.id, "offset", it.rec.Offset,
		"dead_letter_topic", deadletter.Topic(p.e.cfg.DeadLetterTopic, p.topic),
		"attempt", it.retries, "backoff", wait, "err", err)
	it.due = time.Now().Add(wait)
	p.delayed = append(p.delayed, it)
	signal(p.dispatchWake)
}

func reasonLabel(err error) string {
	if r := failure.ReasonOf(err); r != "" {
		return r
	}
	return "unknown"
}

// finishLocked records that it reached a terminal state, moves its key to
// the next item and advances the watermark.
func (p *partition) finishLocked(it *item) {
	it.finished = true
	if arn := it.targetARN(); arn != "" {
		if p.arnPending[arn]--; p.arnPending[arn] <= 0 {
			delete(p.arnPending, arn)
		}
	}
	q := p.keys[it.key]
	if q != nil && len(q.items) > 0 && q.items[0] == it {
		q.items[0] = nil
		q.items = q.items[1:]
		q.busy = false
		if len(q.items) == 1 {
			p.e.metrics.parkedKeys.Dec()
		}
		if len(q.items) == 0 {
			delete(p.keys, it.key)
		} else {
			p.startHeadLocked(q)
		}
	}
	n := 0
	for n < len(p.ledger) && p.ledger[n].finished {
		last := p.ledger[n].rec
		p.watermark = kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1}
		p.hasWatermark = true
		p.ledger[n] = nil
		n++
	}
	if n > 0 {
		p.ledger = p.ledger[n:]
		p.e.addInflight(-n)
	}
	p.updatePauseLocked()
}

// updatePauseLocked pauses fetching when the buffer is full or pending work
// targets a blocked topic, and resumes when neither holds. The buffer
// resumes at half so that a partition does not flap at the bound.
func (p *partition) updatePauseLocked() {
	if p.dropped {
		return
	}
	limit := p.e.cfg.MaxBufferedPerPartition
	switch n := len(p.ledger); {
	case n >= limit:
		p.pausedBuffer = true
	case n <= limit/2:
		p.pausedBuffer = false
	}
	p.pausedBlocked = false
	for arn := range p.arnPending {
		if p.e.isBlocked(arn) {
			p.pausedBlocked = true
			break
		}
	}
	want := p.pausedBuffer || p.pausedBlocked
	if want == p.paused {
		return
	}
	p.paused = want
	tp := map[string][]int32{p.topic: {p.id}}
	// A full buffer is routine under load (Debug); a blocked topic is not (Info).
	level := slog.LevelDebug
	if p.pausedBlocked {
		level = slog.LevelInfo
	}
	if want {
		p.e.client().PauseFetchPartitions(tp)
		p.e.metrics.paused.Inc()
		p.e.log.Log(context.Background(), level, "partition paused", "topic", p.topic, "partition", p.id,
			"buffered", len(p.ledger), "topic_blocked", p.pausedBlocked)
	} else {
		p.e.client().ResumeFetchPartitions(tp)
		p.e.metrics.paused.Dec()
		p.e.log.Debug("partition resumed", "topic", p.topic, "partition", p.id, "buffered", len(p.ledger))
	}
}

// beginDrain stops translating and starting publishes.
func (p *partition) beginDrain() {
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	p.stopTranslating()
	signal(p.dispatchWake)
}

// awaitIdle waits until nothing is out for this partition (no publish or
// dead-letter produce unanswered, no dead letter waiting for a retry) or
// ctx ends. It reports whether the partition went idle.
func (p *partition) awaitIdle(ctx context.Context) bool {
	for {
		p.mu.Lock()
		idle := p.outstanding == 0
		for _, it := range p.delayed {
			idle = idle && it.err == nil // a publish retry does not start while draining
		}
		p.mu.Unlock()
		if idle {
			return true
		}
		select {
		case <-p.changed:
		case <-ctx.Done():
			return false
		}
	}
}

// outstandingNow returns how many publishes and dead-letter produces are out.
func (p *partition) outstandingNow() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outstanding
}

// commitPoint returns the offset to commit and whether it is newer than the
// last commit.
func (p *partition) commitPoint() (kgo.EpochOffset, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.watermark, p.hasWatermark && p.watermark.Offset > p.committed
}

func (p *partition) markCommitted(off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if off > p.committed {
		p.committed = off
	}
	if p.highWater >= 0 && !p.dropped {
		p.e.metrics.committedLag.WithLabelValues(p.topic, partitionLabel(p.id)).Set(float64(max(p.highWater-p.committed, 0)))
	}
}

// drop abandons everything out for the partition, releases its share of
// the in-flight budget and waits for its goroutines. Results that arrive
// later are ignored.
func (p *partition) drop() {
	p.mu.Lock()
	if p.dropped {
		p.mu.Unlock()
		return
	}
	p.dropped = true
	p.e.addInflight(-len(p.ledger))
	for _, q := range p.keys {
		if len(q.items) > 1 {
			p.e.metrics.parkedKeys.Dec()
		}
	}
	if p.paused {
		p.paused = false
		p.e.client().ResumeFetchPartitions(map[string][]int32{p.topic: {p.id}})
		p.e.metrics.paused.Dec()
	}
	p.ledger, p.untranslated, p.keys, p.ready, p.delayed = nil, nil, nil, nil, nil
	p.mu.Unlock()
	p.e.metrics.committedLag.DeleteLabelValues(p.topic, partitionLabel(p.id))
	p.cancel()
	close(p.quit)
	p.wg.Wait()
}
