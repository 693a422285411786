package sns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/backoff"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// ErrClosed is the Result error of entries abandoned because the publisher
// closed: passed to Publish after Close, or still unpublished when Close's
// context ended. It wraps context.Canceled, so callers that treat a context
// error as "abandoned" need no special case.
var ErrClosed = fmt.Errorf("sns publisher closed: %w", context.Canceled)

// Publisher publishes entries to SNS in batches, per topic, with retries and
// a circuit breaker per topic. Create it with NewPublisher; it is safe for
// concurrent use.
//
// The publisher makes no ordering promise between entries in flight at the
// same time, even of one FIFO message group: a retried entry can be
// overtaken. A caller that needs order publishes an entry only after the
// previous one of its key is done.
type Publisher struct {
	cfg           Config
	client        API
	metrics       *Metrics
	log           *slog.Logger
	onStateChange func(topicARN string, from, to gobreaker.State)
	retry         backoff.Policy

	// slots bounds entries accepted and not done (MaxQueuedEntries).
	slots chan struct{}

	mu      sync.RWMutex // guards closed against Publish and topic creation
	closed  bool
	topics  sync.Map // topic ARN -> *topic
	topicMu sync.Mutex

	closing     chan struct{} // closed by Close: drain, accept nothing more
	abandon     chan struct{} // closed when Close's ctx ends: give up
	callCtx     context.Context
	cancelCalls context.CancelFunc

	outstanding atomic.Int64
	drained     chan struct{}
	drainOnce   sync.Once

	wg sync.WaitGroup
}

// Option sets one of a Publisher's optional collaborators.
type Option func(*Publisher)

// WithLogger sets the logger that receives one line per breaker change and
// per systemic failure (default slog.Default()). Payloads are never logged.
func WithLogger(l *slog.Logger) Option { return func(p *Publisher) { p.log = l } }

// WithMetrics records the publisher's metrics on m (default: none).
func WithMetrics(m *Metrics) Option { return func(p *Publisher) { p.metrics = m } }

// WithStateChange sets fn to be called after a topic's breaker changes
// state, in order, from a publisher goroutine, never while a publisher lock
// is held; fn may call BreakerState. It must not block for long: it delays
// the calls to that topic. The consumer uses it to pause the partitions
// feeding an open topic.
func WithStateChange(fn func(topicARN string, from, to gobreaker.State)) Option {
	return func(p *Publisher) { p.onStateChange = fn }
}

// NewPublisher validates cfg and returns a running Publisher that calls SNS
// through client. Build client with NewClient, so that it makes a single
// attempt per call. Call Close to stop the publisher.
func NewPublisher(client API, cfg Config, opts ...Option) (*Publisher, error) {
	if client == nil {
		return nil, errors.New("sns: NewPublisher: client is nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	callCtx, cancel := context.WithCancel(context.Background())
	p := &Publisher{
		cfg:         cfg,
		client:      client,
		retry:       backoff.Policy{Base: cfg.BackoffBase, Max: cfg.BackoffMax},
		slots:       make(chan struct{}, cfg.MaxQueuedEntries),
		closing:     make(chan struct{}),
		abandon:     make(chan struct{}),
		callCtx:     callCtx,
		cancelCalls: cancel,
		drained:     make(chan struct{}),
	}
	for _, opt := range opts {
		opt(p)
	}
	p.log = cmp.Or(p.log, slog.Default())
	return p, nil
}

// Publish hands e to the publisher and returns; done receives e's terminal
// Result exactly once, later, from a publisher goroutine:
//
//   - Result.MessageID when SNS accepted e;
//   - a *failure.Error of class Permanent when SNS (or the size limit)
//     rejects e for good: dead-letter it. Its Code is the SNS code and its
//     cause an *EntryError with the SNS message and SenderFault;
//   - ctx.Err() when ctx ended before e was published (partition revoked,
//     shutdown), or ErrClosed when the publisher closed first.
//
// Transient and systemic failures are retried inside the publisher without an
// attempt limit while ctx lives; they never reach done.
//
// Publish blocks only while MaxQueuedEntries entries are outstanding, until
// one is done or ctx ends. From the call until done runs, the publisher owns
// *e (it sets e.ID); the caller must not modify it. ctx is watched for the
// whole life of the entry; an entry already inside a PublishBatch call waits
// for that call's answer (at most CallTimeout), so that a published entry is
// reported as published.
func (p *Publisher) Publish(ctx context.Context, e *Entry, done func(Result)) {
	if done == nil {
		panic("sns: Publish called with a nil done func")
	}
	if err := p.acquire(ctx); err != nil {
		p.finishAsync(done, Result{Err: err})
		return
	}
	if ferr := checkEntry(e); ferr != nil {
		<-p.slots
		p.finishAsync(done, Result{Err: ferr})
		return
	}
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		<-p.slots
		p.finishAsync(done, Result{Err: ErrClosed})
		return
	}
	t := p.topic(e.TopicARN)
	size := entrySize(e)
	if size > t.maxSize {
		p.mu.RUnlock()
		<-p.slots
		p.finishAsync(done, Result{Err: &failure.Error{
			Class: failure.Permanent, Reason: failure.ReasonTooLarge,
			Err: fmt.Errorf("entry of %d bytes is over topic %s's limit of %d", size, e.TopicARN, t.maxSize),
		}})
		return
	}
	p.outstanding.Add(1)
	p.metrics.inflightAdd(1)
	it := &item{ctx: ctx, e: e, done: done, size: size}
	t.enqueue(it)
	p.mu.RUnlock()
}

func (p *Publisher) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.closing:
		return ErrClosed
	}
}

// finishAsync reports a Result for an entry the publisher never queued, from
// a goroutine of its own so that done never runs on the caller's stack.
func (p *Publisher) finishAsync(done func(Result), r Result) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		// Close may already be waiting or gone; this goroutine only runs done.
		go done(r)
		return
	}
	p.wg.Go(func() { done(r) })
}

// finish reports the terminal Result of a queued entry. Exactly one owner of
// an item calls it: the topic's dispatcher while the item waits, or the call
// that carried it.
func (p *Publisher) finish(it *item, r Result) {
	if it.stopWatch != nil {
		it.stopWatch()
	}
	r.Attempts = it.attempts
	it.done(r)
	<-p.slots
	p.metrics.inflightAdd(-1)
	if p.outstanding.Add(-1) == 0 {
		select {
		case <-p.closing:
			p.drainOnce.Do(func() { close(p.drained) })
		default:
		}
	}
}

func checkEntry(e *Entry) *failure.Error {
	switch {
	case e == nil:
		return failure.Permanentf(failure.ReasonSNSRejected, "nil entry")
	case e.TopicARN == "":
		return failure.Permanentf(failure.ReasonUnroutable, "entry has no topic ARN")
	}
	if IsFIFO(e.TopicARN) && e.GroupID == "" {
		return failure.Permanentf(failure.ReasonMissingField, "entry for FIFO topic %s has no GroupID", e.TopicARN)
	}
	return nil
}

// entrySize is e.Size, or MessageSize when mapping left Size at zero.
func entrySize(e *Entry) int {
	if e.Size > 0 {
		return e.Size
	}
	return MessageSize(e.Body, e.Attributes)
}

// topic returns the topic for arn, starting its dispatcher on first use.
// The caller holds p.mu.RLock.
func (p *Publisher) topic(arn string) *topic {
	if t, ok := p.topics.Load(arn); ok {
		return t.(*topic)
	}
	p.topicMu.Lock()
	defer p.topicMu.Unlock()
	if t, ok := p.topics.Load(arn); ok {
		return t.(*topic)
	}
	t := newTopic(p, arn)
	p.topics.Store(arn, t)
	p.wg.Go(t.run)
	return t
}

// BreakerState returns the state of topicARN's breaker. A topic the
// publisher has not seen is closed. Safe for concurrent use; does not block.
func (p *Publisher) BreakerState(topicARN string) gobreaker.State {
	t, ok := p.topics.Load(topicARN)
	if !ok {
		return gobreaker.StateClosed
	}
	// Reading the state can move open to half-open; the topic's dispatcher
	// reports that change, so that the WithStateChange hook never runs on
	// the caller's goroutine.
	return t.(*topic).cb.State()
}

// Close stops accepting entries (Publish then reports ErrClosed), keeps
// publishing and retrying what it holds until everything is done or ctx
// ends, then abandons the rest with ErrClosed, cancels calls in flight and
// waits for its goroutines. It returns ctx.Err() when it had to abandon
// entries. Close blocks; calling it twice is safe.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	already := p.closed
	if !already {
		p.closed = true
		close(p.closing)
		if p.outstanding.Load() == 0 {
			p.drainOnce.Do(func() { close(p.drained) })
		}
	}
	p.mu.Unlock()
	var err error
	select {
	case <-p.drained:
	default:
		select {
		case <-p.drained:
		case <-ctx.Done():
			err = ctx.Err()
			if !already {
				close(p.abandon)
				p.cancelCalls()
			}
		}
	}
	p.wg.Wait()
	if !already {
		p.cancelCalls()
	}
	if err != nil {
		return fmt.Errorf("closing sns publisher: %w", err)
	}
	return nil
}

// isAbandoning reports whether Close gave up.
func (p *Publisher) isAbandoning() bool {
	select {
	case <-p.abandon:
		return true
	default:
		return false
	}
}
