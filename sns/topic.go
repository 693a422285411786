// A topic's state: a run's life from PublishRun to its last done, the
// topic's queues and the state its breaker and send rate need. The
// dispatcher that forms batches is in batch.go, the call and its settling in
// send.go, the breaker in breaker.go, the send rate in rate.go.

package sns

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// run is what is left of one PublishRun call: consecutive entries of one
// ordering key for one topic, oldest first, none done yet. The publisher
// never splits a run across calls: the run rides one PublishBatch whole,
// and what of it must be retried comes back as a smaller run, still in
// order. At any moment exactly one owner holds a run: the topic's ready
// queue or delay heap (under topic.mu), or the send goroutine of the call
// carrying it.
type run struct {
	t     *topic
	ctx   context.Context
	key   string
	items []*item
	store []item // backs items; never grown past its capacity
	done  reporter
	size  int // sum of items' sizes
	// open counts the run's entries whose done has not run; the last one
	// lets go of the context watch.
	open     atomic.Int32
	watch    *ctxWatch
	failures int  // consecutive failed attempts, for backoff
	solo     bool // one entry per call, in order: a whole-call rejection is being narrowed down
	logged   bool // an order break of this run was logged
	enq      time.Time
	readyAt  time.Time
	heapIdx  int
}

// runOfOne is a run of one entry in one allocation: what a uniform backlog
// over many keys (and Publish) hands the publisher, event after event.
type runOfOne struct {
	run
	store [1]item
	items [1]*item
}

// newRun returns an empty run for n entries: one allocation for a run of
// one, three for longer runs.
func newRun(ctx context.Context, key string, done reporter, n int) *run {
	if n == 1 {
		ro := &runOfOne{run: run{ctx: ctx, key: key, done: done}}
		ro.run.items = ro.items[:0]
		ro.run.store = ro.store[:0]
		return &ro.run
	}
	return &run{ctx: ctx, key: key, done: done, items: make([]*item, 0, n), store: make([]item, 0, n)}
}

// add appends entry i of the PublishRun call, of size bytes.
func (r *run) add(e *Entry, i, size int) {
	r.store = append(r.store, item{e: e, i: i, size: size})
	r.items = append(r.items, &r.store[len(r.store)-1])
	r.size += size
}

// item is one entry of a run.
type item struct {
	e        *Entry
	i        int // index in the PublishRun call, for done
	size     int
	attempts int
	span     trace.Span // nil without a tracer
}

// sending is what of r the next call carries: the whole run, or its oldest
// entry while it is narrowed down.
func (r *run) sending() (entries, size int) {
	if r.solo {
		return 1, r.items[0].size
	}
	return len(r.items), r.size
}

// setItems replaces r's remaining entries.
func (r *run) setItems(items []*item) {
	r.items = items
	r.size = 0
	for _, it := range items {
		r.size += it.size
	}
}

// outcome is the terminal Result of one entry of a run.
type outcome struct {
	r   *run
	it  *item
	res Result
}

// topic batches and sends the runs of one topic ARN. Its dispatcher
// goroutine (run) forms batches; each batch is sent by a goroutine of its own.
type topic struct {
	p       *Publisher
	arn     string
	fifo    bool
	maxSize int
	cb      *circuit
	rate    *sendRate
	spans   *topicSpans // nil without a tracer

	// What health.go reads: entries held (queued, waiting or on the wire)
	// and since when, and when a call last succeeded, in Unix nanoseconds.
	held        atomic.Int64
	heldSince   atomic.Int64
	lastSuccess atomic.Int64
	// The dispatcher's last report of the topic's usability.
	unusable      bool
	unusableSince time.Time

	mu           sync.Mutex
	ready        []*run
	readyEntries int // entries the ready runs would send
	delayed      delayHeap
	inflight     int
	reap         bool // some run's context ended

	wake chan struct{}

	transMu     sync.Mutex
	transitions []transition
	hookMu      sync.Mutex // serialises the state-change hook's calls, in order
}

// topicInfo is what Config.Topics knows of arn, else the ARN's FIFO-ness
// and the default size limit.
func (p *Publisher) topicInfo(arn string) TopicInfo {
	info, ok := p.cfg.Topics[arn]
	if !ok {
		info = TopicInfo{FIFO: IsFIFO(arn)}
	}
	if info.MaxMessageSize == 0 {
		info.MaxMessageSize = DefaultMaxMessageSize
	}
	return info
}

// newTopic returns the topic for arn. Its dispatcher is not running yet.
func newTopic(p *Publisher, arn string) *topic {
	info := p.topicInfo(arn)
	t := &topic{
		p:       p,
		arn:     arn,
		fifo:    info.FIFO,
		maxSize: info.MaxMessageSize,
		rate:    newSendRate(p.cfg.MaxBatchEntries, p.cfg.MaxRatePerTopic),
		wake:    make(chan struct{}, 1),
	}
	t.cb = t.newBreaker()
	if p.tracer != nil {
		t.spans = newTopicSpans(arn)
	}
	p.metrics.topic(arn)
	return t
}

func (t *topic) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *topic) enqueue(r *run) {
	r.enq = time.Now()
	r.t = t
	t.hold(len(r.items), r.enq)
	n, _ := r.sending()
	full := t.p.cfg.MaxBatchEntries
	t.mu.Lock()
	t.ready = append(t.ready, r)
	before := t.readyEntries
	t.readyEntries += n
	after := t.readyEntries
	t.mu.Unlock()
	// The dispatcher needs waking for a first entry (its linger starts) and
	// when a full batch may have formed; between those its timer suffices.
	if before == 0 || before/full != after/full || t.p.cfg.Linger == 0 {
		t.poke()
	}
}

func (t *topic) markReap() {
	t.mu.Lock()
	t.reap = true
	t.mu.Unlock()
	t.poke()
}
