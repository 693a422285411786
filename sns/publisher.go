package sns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/semaphore"

	"github.com/thena-ai/kafka-sns-bridge/internal/backoff"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
)

// batchAPI makes one PublishBatch call: *wire.Client (Config.Encoder
// direct) or wire.SDK (sdk).
type batchAPI interface {
	PublishBatch(ctx context.Context, topicARN string, entries []wire.Entry, res *wire.BatchResult) error
}

// ErrClosed is the Result error of entries abandoned because the publisher
// closed: passed to PublishRun or Publish after Close, or still unpublished
// when Close's context ended. It wraps context.Canceled, so callers that
// treat a context error as "abandoned" need no special case.
var ErrClosed = fmt.Errorf("sns publisher closed: %w", context.Canceled)

// unreachableBackoffMax caps the wait of the runs of a call that failed as
// a whole for a transient reason other than throttling (no connection, no
// answer, a 5xx): the breaker paces calls to an SNS in that state, and the
// runs should be ready the moment it answers again.
const unreachableBackoffMax = time.Second

// throttleBackoffMax caps the wait of an entry SNS throttled: the topic's
// send rate paces the calls, so a longer wait per key would only hold the
// key back.
const throttleBackoffMax = 100 * time.Millisecond

// Publisher publishes entries to SNS in batches, per topic, with retries, a
// circuit breaker and an adaptive send rate per topic. Create it with
// NewPublisher; it is safe for concurrent use.
//
// Order: the entries of one PublishRun ride one PublishBatch call, in order,
// and what of them must be retried goes again as one run, still in order,
// before done is called for it. The publisher makes no ordering promise
// between runs in flight at the same time, even of one key: a caller that
// needs order hands a key's next run only after the previous one is done.
type Publisher struct {
	cfg           Config
	client        API
	batches       batchAPI
	resetConns    func() // closes the HTTP client's idle connections
	metrics       *Metrics
	log           *slog.Logger
	onStateChange func(topicARN string, from, to gobreaker.State)
	retry         backoff.Policy
	throttleRetry backoff.Policy
	callRetry     backoff.Policy // whole-call transient failures
	runEntries    int            // most entries in one run: RunLimit's
	tracer        trace.Tracer   // nil: no spans

	// slots bounds entries accepted and not done (MaxQueuedEntries).
	slots *semaphore.Weighted

	mu      sync.RWMutex // guards closed against PublishRun and topic creation
	closed  bool
	topics  sync.Map // topic ARN -> *topic
	topicMu sync.Mutex

	closingCtx  context.Context // canceled by Close: drain, accept nothing more
	stopAccept  context.CancelFunc
	closing     <-chan struct{}
	abandon     chan struct{} // closed when Close's ctx ends: give up
	callCtx     context.Context
	cancelCalls context.CancelFunc

	watchMu sync.Mutex
	watches map[<-chan struct{}]*ctxWatch // by Done channel

	outstanding atomic.Int64
	drained     chan struct{}
	drainOnce   sync.Once

	wg sync.WaitGroup
}

// Option sets one of a Publisher's optional collaborators.
type Option func(*Publisher)

// WithLogger sets the logger that receives one line per breaker change, per
// systemic failure, per run that broke order and when a topic's send rate
// turns limited or unlimited (default slog.Default()). Payloads and ordering
// keys are never logged; a key appears only hashed.
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
	closingCtx, stopAccept := context.WithCancel(context.Background())
	p := &Publisher{
		cfg:    cfg,
		client: client,
		retry:  backoff.Policy{Base: cfg.BackoffBase, Max: cfg.BackoffMax},
		throttleRetry: backoff.Policy{Base: min(cfg.BackoffBase, throttleBackoffMax),
			Max: min(cfg.BackoffMax, throttleBackoffMax)},
		callRetry: backoff.Policy{Base: min(cfg.BackoffBase, unreachableBackoffMax),
			Max: min(cfg.BackoffMax, unreachableBackoffMax)},
		runEntries:  min(cfg.MaxBatchEntries, cfg.MaxQueuedEntries),
		slots:       semaphore.NewWeighted(int64(cfg.MaxQueuedEntries)),
		closingCtx:  closingCtx,
		stopAccept:  stopAccept,
		closing:     closingCtx.Done(),
		abandon:     make(chan struct{}),
		callCtx:     callCtx,
		cancelCalls: cancel,
		drained:     make(chan struct{}),
		watches:     make(map[<-chan struct{}]*ctxWatch),
	}
	for _, opt := range opts {
		opt(p)
	}
	p.log = cmp.Or(p.log, slog.Default())
	for arn := range cfg.Topics {
		p.metrics.topic(arn) // the per-topic series exist before the first event
	}
	p.batches = wire.SDK{API: client}
	p.resetConns = func() {}
	if c, ok := client.(*awssns.Client); ok {
		if hc, ok := c.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
			p.resetConns = hc.CloseIdleConnections
		}
	}
	if c, ok := client.(*awssns.Client); ok && cfg.Encoder != EncoderSDK {
		direct, err := wire.New(context.Background(), c.Options())
		if err != nil {
			cancel()
			stopAccept()
			return nil, fmt.Errorf("sns: direct encoder: %w", err)
		}
		p.batches = direct
	}
	return p, nil
}

// RunLimit returns the most entries and bytes (Entry.Size, or MessageSize
// where Size is zero, added up) one run may hold for topicARN: what one
// PublishBatch call carries, at most MaxBatchEntries (10) entries and the
// topic's MaximumMessageSize together. It does not block and is cheap: the
// consumer calls it for every run it forms.
func (p *Publisher) RunLimit(topicARN string) (entries, bytes int) {
	if t, ok := p.topics.Load(topicARN); ok {
		return p.runEntries, t.(*topic).maxSize
	}
	return p.runEntries, p.topicInfo(topicARN).MaxMessageSize
}

// PublishRun hands the publisher run: consecutive entries of one ordering
// key for one topic, oldest first, at most RunLimit's entries and bytes,
// and returns; done(i, r) receives run[i]'s terminal Result exactly once,
// later, from a publisher goroutine, in any order across entries:
//
//   - Result.MessageID when SNS accepted the entry;
//   - a *failure.Error of class Permanent when SNS (or the size limit)
//     rejects it for good: dead-letter it. Its Code is the SNS code and its
//     cause an *EntryError with the SNS message and SenderFault;
//   - ctx.Err() when ctx ended before it was published (partition revoked,
//     shutdown), or ErrClosed when the publisher closed first.
//
// The whole run rides one PublishBatch call, in order; other runs may
// share the call. Entries that fail transiently or systemically are retried
// without an attempt limit while ctx lives: the failed entries of the run
// together, in order, as one run, before done is called for them. An entry
// SNS accepted after an earlier one of the run failed that way cannot be
// un-sent: it is done at once and counted as an order break
// (bridge_order_breaks_total), logged once per run with key hashed. key is
// the ordering key, used only for that line; it is never logged raw. When
// SNS refuses a whole call for something in it, the run's entries go again
// one at a time, in order, so that only the guilty one is dead-lettered.
//
// PublishRun blocks only while MaxQueuedEntries entries are outstanding,
// until room for the whole run frees or ctx ends. It panics when run holds
// more entries than RunLimit allows or entries of several topics (the
// caller's bug); a run over RunLimit's bytes is sent one entry at a time,
// in order. From the call until an entry's done runs, the publisher owns
// the entry (it sets Entry.ID); the caller must not modify it. ctx is
// watched for the run's whole life; an entry already inside a PublishBatch
// call waits for that call's answer (at most CallTimeout), so that a
// published entry is reported as published.
func (p *Publisher) PublishRun(ctx context.Context, key string, entries []*Entry, done func(i int, r Result)) {
	if done == nil {
		panic("sns: PublishRun called with a nil done func")
	}
	p.publishRun(ctx, key, entries, reporter{run: done})
}

// Publish hands e to the publisher as a run of one (see PublishRun) and
// returns; done receives e's terminal Result exactly once, later, from a
// publisher goroutine. For callers without an ordering key (dead-letter
// replay).
func (p *Publisher) Publish(ctx context.Context, e *Entry, done func(Result)) {
	if done == nil {
		panic("sns: Publish called with a nil done func")
	}
	one := [1]*Entry{e}
	p.publishRun(ctx, "", one[:], reporter{one: done})
}

// reporter is the done func of a PublishRun (run) or of a Publish (one),
// kept as given so that Publish wraps nothing per entry.
type reporter struct {
	run func(int, Result)
	one func(Result)
}

func (rp reporter) report(i int, r Result) {
	if rp.one != nil {
		rp.one(r)
		return
	}
	rp.run(i, r)
}

// publishRun is PublishRun for both entry points. entries does not outlive
// the call (the run keeps the entries, not the slice), so that Publish's
// slice of one stays on its stack.
func (p *Publisher) publishRun(ctx context.Context, key string, entries []*Entry, done reporter) {
	n := len(entries)
	switch {
	case n == 0:
		return
	case n > p.runEntries:
		panic(fmt.Sprintf("sns: PublishRun: a run of %d entries is over RunLimit's %d", n, p.runEntries))
	}
	if err := p.acquire(ctx, n); err != nil {
		p.finishAsync(func() {
			for i := range n {
				done.report(i, Result{Err: err})
			}
		})
		return
	}
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		p.slots.Release(int64(n))
		p.finishAsync(func() {
			for i := range n {
				done.report(i, Result{Err: ErrClosed})
			}
		})
		return
	}
	var t *topic
	r := newRun(ctx, key, done, n)
	type rejection struct {
		i   int
		err error
	}
	var rejected []rejection
	for i, e := range entries {
		if ferr := checkEntry(e); ferr != nil {
			rejected = append(rejected, rejection{i, ferr})
			continue
		}
		if t == nil {
			t = p.topic(e.TopicARN)
		} else if e.TopicARN != t.arn {
			p.mu.RUnlock()
			panic(fmt.Sprintf("sns: PublishRun: a run of entries for topics %s and %s", t.arn, e.TopicARN))
		}
		size := entrySize(e)
		if size > t.maxSize {
			rejected = append(rejected, rejection{i, &failure.Error{
				Class: failure.Permanent, Reason: failure.ReasonTooLarge,
				Err: fmt.Errorf("entry of %d bytes is over topic %s's limit of %d", size, e.TopicARN, t.maxSize),
			}})
			continue
		}
		r.add(e, i, size)
		if t.spans != nil {
			t.startSpan(r.items[len(r.items)-1])
		}
	}
	if len(r.items) > 0 {
		r.open.Store(int32(len(r.items)))
		r.solo = r.size > t.maxSize
		p.outstanding.Add(int64(len(r.items)))
		p.metrics.inflightAdd(len(r.items))
		p.watch(r)
		t.enqueue(r)
	}
	p.mu.RUnlock()
	if len(rejected) > 0 {
		p.slots.Release(int64(len(rejected)))
		p.finishAsync(func() {
			for _, rj := range rejected {
				done.report(rj.i, Result{Err: rj.err})
			}
		})
	}
}

// acquire takes n of the MaxQueuedEntries slots, waiting while they are
// taken until ctx ends or the publisher closes.
func (p *Publisher) acquire(ctx context.Context, n int) error {
	if p.slots.TryAcquire(int64(n)) {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(p.closingCtx, cancel)
	defer stop()
	if err := p.slots.Acquire(wctx, int64(n)); err != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		return ErrClosed
	}
	return nil
}

// finishAsync reports Results for entries the publisher never queued, from
// a goroutine of its own so that done never runs on the caller's stack.
func (p *Publisher) finishAsync(report func()) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		// Close may already be waiting or gone; this goroutine only runs done.
		go report()
		return
	}
	p.wg.Go(report)
}

// finish reports the terminal Result of a queued entry. Exactly one owner of
// its run calls it: the topic's dispatcher while the run waits, or the call
// that carried it.
func (p *Publisher) finish(o outcome) {
	if o.r.open.Add(-1) == 0 && o.r.watch != nil {
		p.unwatch(o.r.watch)
	}
	o.r.t.held.Add(-1)
	o.res.Attempts = o.it.attempts
	endSpan(o.it, o.res)
	o.r.done.report(o.it.i, o.res)
	p.slots.Release(1)
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
	return t.(*topic).cb.State(time.Now())
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
		p.stopAccept()
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
		p.stopWatches()
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
