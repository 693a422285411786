package consumer

import (
	"cmp"
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/backoff"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// item is one fetched record on its way to a terminal state.
type item struct {
	// rec is the record, detached from the fetch's memory; nil once the
	// item finished (then only offset and epoch are still needed).
	rec    *kgo.Record
	offset int64
	epoch  int32
	// fetched is when the record was taken: the age of a scope's oldest
	// item is how long it is parked.
	fetched time.Time
	// cost is what the item counts in the byte bounds (cost.go).
	cost int64

	out Outbound
	// scope is its ordering scope, set once translated.
	scope *scope
	// err is the permanent error that sends the item to the dead-letter topic.
	err      error
	attempts int // translate attempts, or PublishBatch calls that carried it

	retries  int       // dead-letter produce attempts that failed, or publishes handed back
	due      time.Time // when a delayed item may go out
	sent     bool      // out in a run (set by its scope)
	run      *run      // the run it is out in
	finished bool      // set by the scope and the ledger
}

func (it *item) targetARN() string {
	if it.out.Entry != nil {
		return it.out.Entry.TopicARN
	}
	return ""
}

// scopeID is the item's ordering scope: its key and the topic it goes to,
// or was routed to before its translation failed.
func (it *item) scopeID() scopeID {
	key := string(it.rec.Key)
	if key == "" {
		key = it.out.OrgID
	}
	return scopeID{key: key, arn: cmp.Or(it.targetARN(), it.out.RoutedARN)}
}

// partitionDeps are what a partition uses of the engine that owns it,
// handed over at assignment, so that a partition never reaches back into
// its Engine.
type partitionDeps struct {
	translator  Translator
	publisher   Publisher
	deadLetters deadLetterWriter
	fetch       fetchPauser // the group client
	budget      *bufferBudget
	blocked     *blockedTopics
	hot         *heavyHitters
	hotLog      *keyLogLimiter
	progress    *progressClock
	// retry spaces the retries of a transient translate error, of a failed
	// dead-letter produce and of a publish handed back.
	retry             backoff.Policy
	maxBufferedBytes  int64 // Config.MaxBufferedBytesPerPartition
	maxRunPerKey      int   // Config.MaxRunPerKey
	maxInflightPerKey int   // Config.MaxInflightPerKey
	metrics           *metrics
	log               *slog.Logger
}

// partition is the delivery state of one owned partition. Two goroutines own
// its work: the translator, which translates fetched records in offset order,
// and the dispatcher (dispatch.go), which hands runs of its ordering scopes
// to the publisher and failed heads to the dead-letter producer. Results
// come back on the publisher's and the producer's goroutines and only update
// state under mu; they never block.
type partition struct {
	partitionDeps
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

	// watch follows the translator for stalls (health.go).
	watch translateWatch

	translateWake chan struct{} // cap 1
	dispatchWake  chan struct{} // cap 1
	changed       chan struct{} // cap 1; signals drain progress

	mu sync.Mutex
	// ledger holds every fetched record not yet behind the watermark.
	ledger ledger
	// untranslated holds the fetched records the translator has not taken yet.
	untranslated []*item
	scopes       scopes
	// ready are scopes that may hand out a run now. delayed are items to
	// dead-letter (err set) or, rarely, to publish again, each at its due time.
	ready   []*scope
	delayed []*item
	// outstanding counts entries and dead-letter produces handed out and not
	// yet answered.
	outstanding int
	// handedOut is the highest offset handed out (to the publisher or the
	// dead-letter producer), -1 before the first.
	handedOut int64
	// draining is set when revocation or shutdown begins; from then on only
	// records below drainBelow go out (drainLimit).
	draining   bool
	drainBelow int64
	dropped    bool

	paused    bool // fetching paused for the buffer; what kgo was last told
	busy      bool // counted in budget.busy
	whyPaused bool // the pause is not yet counted and logged with its reason
}

// newPartition starts the state of a newly assigned partition; ctx bounds
// everything it hands out.
func newPartition(ctx context.Context, deps partitionDeps, topic string, id int32) *partition {
	deps.log = deps.log.With("topic", topic, "partition", id)
	p := &partition{
		partitionDeps: deps,
		topic:         topic,
		id:            id,
		quit:          make(chan struct{}),
		translateWake: make(chan struct{}, 1),
		dispatchWake:  make(chan struct{}, 1),
		changed:       make(chan struct{}, 1),
		ledger:        newLedger(),
		handedOut:     -1,
		scopes:        newScopes(deps.maxInflightPerKey, deps.metrics.parkedKeys, deps.metrics.keysAtLimit),
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
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
	p.ledger.setHighWater(highWater)
	p.reportLagLocked()
	n, bytes, now := 0, int64(0), time.Now()
	if p.budget.records.Load() == 0 {
		p.progress.mark(now) // work arrives: the engine was not stalled while idle
	}
	for _, r := range recs {
		if r.Attrs.IsControl() {
			p.takeMarkerLocked(r)
			continue
		}
		it := &item{rec: r, offset: r.Offset, epoch: r.LeaderEpoch, fetched: now, cost: recordCost(r)}
		if !p.ledger.take(it) {
			continue
		}
		it.rec = detach(r)
		p.untranslated = append(p.untranslated, it)
		n++
		bytes += it.cost
	}
	p.budget.add(n, bytes)
	p.metrics.consumed.WithLabelValues(p.topic).Add(float64(n))
	p.updatePauseLocked()
	signal(p.translateWake)
}

// takeMarkerLocked takes a control record, a transaction's commit or abort
// marker (the client keeps them: KeepControlRecords in consumerOpts). It has
// nothing to publish, but it holds an offset of the partition, so it is
// finished as it is taken: the watermark, and so the commit, move past it
// once the records before it finish. Without it a partition whose last write
// was a marker would show a lag of 1 until its next record.
func (p *partition) takeMarkerLocked(r *kgo.Record) {
	it := &item{offset: r.Offset, epoch: r.LeaderEpoch, cost: heldCost}
	if !p.ledger.take(it) {
		return
	}
	p.budget.add(1, heldCost)
	n, freed := p.ledger.finish(it)
	p.budget.add(-n, -freed)
}

func (p *partition) reportLagLocked() {
	if lag, ok := p.ledger.lag(); ok {
		p.metrics.committedLag.WithLabelValues(p.topic, partitionLabel(p.id)).Set(float64(lag))
	}
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
		start := time.Now()
		p.watch.begin(start)
		out, err := p.translator.Translate(ctx, it.rec)
		if ctx.Err() != nil {
			return Outbound{}, nil, false // drop clears the watch
		}
		class, reason := failure.ClassOf(err), reasonLabel(err)
		if err == nil || class == failure.Permanent {
			p.translated(it)
		}
		if err == nil {
			if out.Entry == nil {
				// A translator that returns neither an entry nor an error is
				// a bug; dead-letter the record rather than lose it.
				return out, failure.Permanentf(failure.ReasonMissingField, "translator returned no entry"), true
			}
			return out, nil, true
		}
		p.metrics.errors.WithLabelValues(class.String(), reason).Inc()
		if class == failure.Permanent {
			return out, err, true
		}
		p.metrics.retries.WithLabelValues(reason).Inc()
		if p.watch.failed(start) {
			p.metrics.translateStalled.Inc()
		}
		wait := p.retry.Delay(it.attempts)
		p.log.Warn("translate failed, retrying; later records of the partition wait", "offset", it.rec.Offset,
			"class", class.String(), "reason", reason, "attempt", it.attempts, "backoff", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Outbound{}, nil, false
		}
	}
}

// translated ends a stall in translation, if there was one: it got a result.
func (p *partition) translated(it *item) {
	if since := p.watch.done(); !since.IsZero() {
		p.metrics.translateStalled.Dec()
		p.log.Info("translation recovered", "offset", it.offset, "attempts", it.attempts,
			"stalled_for", time.Since(since).Round(time.Millisecond).String())
	}
}

// admit puts a translated record in its ordering scope.
func (p *partition) admit(it *item, out Outbound, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped {
		return
	}
	it.out, it.err = out, err
	grow := entryCost(out.Entry)
	p.ledger.grow(it, grow)
	p.budget.add(0, grow)
	s := p.scopes.push(it, it.scopeID())
	p.wakeLocked(s)
	p.updatePauseLocked()
}

// finishLocked records that it reached a terminal state (published or
// dead-lettered), lets its scope hand out what follows, advances the
// watermark and lets go of the record and its entry.
func (p *partition) finishLocked(it *item) {
	p.progress.mark(time.Now())
	s := it.scope
	p.scopes.finish(it) // before the ledger lowers it.cost
	p.wakeLocked(s)
	n, freed := p.ledger.finish(it)
	p.budget.add(-n, -freed)
	it.rec, it.out, it.scope = nil, Outbound{}, nil
	p.updatePauseLocked()
}

// beginDrain stops translating. With finish set (a revocation or a
// shutdown) the partition goes on handing out the records below the
// highest offset already handed out, in order per scope, so that once they
// finish the watermark reaches every record that finished: the final commit
// then covers them and the next owner replays nothing that was published.
// Records at or above it wait for the next owner. Without finish (a loss)
// nothing more goes out.
func (p *partition) beginDrain(finish bool) {
	p.mu.Lock()
	p.draining = true
	p.drainBelow = 0
	if finish {
		p.drainBelow = p.handedOut + 1
	}
	p.mu.Unlock()
	p.stopTranslating()
	signal(p.dispatchWake)
}

// drainLimit is the first offset that may not go out now: none while
// consuming, drainBelow while draining.
func (p *partition) drainLimitLocked() int64 {
	if p.draining {
		return p.drainBelow
	}
	return math.MaxInt64
}

// awaitIdle waits until nothing is out for this partition and nothing below
// the drain limit is left to hand out (no publish or dead-letter produce
// unanswered, no dead letter or publish retry waiting), or ctx ends. It
// reports whether the partition went idle.
func (p *partition) awaitIdle(ctx context.Context) bool {
	for {
		p.mu.Lock()
		idle := p.outstanding == 0 && len(p.ready) == 0
		for _, it := range p.delayed {
			idle = idle && it.err == nil && it.offset >= p.drainBelow // waits for the next owner
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
	return p.ledger.commitPoint()
}

// markCommitted records a successful commit of off.
func (p *partition) markCommitted(off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ledger.markCommitted(off)
	if !p.dropped {
		p.reportLagLocked()
	}
}

// drop abandons everything out for the partition, releases its share of
// the engine's buffer budget and waits for its goroutines. Results that arrive
// later are ignored.
func (p *partition) drop() {
	p.mu.Lock()
	if p.dropped {
		p.mu.Unlock()
		return
	}
	p.dropped = true
	n, bytes := p.ledger.release()
	p.budget.add(-n, -bytes)
	if p.busy {
		p.busy = false
		p.budget.busy.Add(-1)
	}
	p.scopes.clear()
	if p.paused {
		p.paused = false
		p.pauseFetch(false)
	}
	p.untranslated, p.ready, p.delayed = nil, nil, nil
	p.mu.Unlock()
	p.metrics.committedLag.DeleteLabelValues(p.topic, partitionLabel(p.id))
	p.cancel()
	close(p.quit)
	p.wg.Wait()
	if !p.watch.done().IsZero() {
		p.metrics.translateStalled.Dec()
	}
}
