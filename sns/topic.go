// A topic's state: the entry's life as an item, the topic's queues and the
// state its breaker needs. The dispatcher that forms batches is in batch.go,
// the call and its settling in send.go, the breaker in breaker.go.

package sns

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// item is one entry from Publish to done. At any moment exactly one owner
// holds it: the topic's ready queue or delay heap (under topic.mu), or the
// send goroutine of the call carrying it.
type item struct {
	ctx       context.Context
	e         *Entry
	done      func(Result)
	size      int
	attempts  int
	failures  int  // consecutive failed attempts, for backoff
	solo      bool // send alone: a whole-batch rejection is being narrowed down
	enq       time.Time
	readyAt   time.Time
	heapIdx   int
	stopWatch func() bool
}

type outcome struct {
	it *item
	r  Result
}

// topic batches and sends the entries of one topic ARN. Its dispatcher
// goroutine (run) forms batches; each batch is sent by a goroutine of its own.
type topic struct {
	p       *Publisher
	arn     string
	fifo    bool
	maxSize int
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	tripNow atomic.Bool // a systemic failure opens the breaker at once

	mu           sync.Mutex
	ready        []*item
	delayed      delayHeap
	inflight     int
	blockedUntil time.Time // the breaker refused; no call before this
	rejections   int
	reap         bool // some entry's context ended

	wake chan struct{}

	transMu     sync.Mutex
	transitions []transition
	hookMu      sync.Mutex // serialises the state-change hook's calls, in order
}

// newTopic returns the topic for arn with what Config.Topics knows of it
// (else the ARN's FIFO-ness and the default size limit). Its dispatcher is
// not running yet.
func newTopic(p *Publisher, arn string) *topic {
	info, ok := p.cfg.Topics[arn]
	if !ok {
		info = TopicInfo{FIFO: IsFIFO(arn)}
	}
	if info.MaxMessageSize == 0 {
		info.MaxMessageSize = DefaultMaxMessageSize
	}
	t := &topic{
		p:       p,
		arn:     arn,
		fifo:    info.FIFO,
		maxSize: info.MaxMessageSize,
		wake:    make(chan struct{}, 1),
	}
	t.cb = t.newBreaker()
	p.metrics.breaker(arn, gobreaker.StateClosed)
	return t
}

func (t *topic) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *topic) enqueue(it *item) {
	it.enq = time.Now()
	if it.ctx.Done() != nil {
		it.stopWatch = context.AfterFunc(it.ctx, t.markReap)
	}
	t.mu.Lock()
	t.ready = append(t.ready, it)
	n := len(t.ready)
	t.mu.Unlock()
	if n == 1 || n%t.p.cfg.MaxBatchEntries == 0 {
		t.poke()
	}
}

func (t *topic) markReap() {
	t.mu.Lock()
	t.reap = true
	t.mu.Unlock()
	t.poke()
}
