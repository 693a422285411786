package consumer

// The engine's outside: what it is handed (Translator, Publisher, options),
// its lifecycle (New, Run) and the poll loop. The engine owns the group
// client and the set of owned partitions; rebalance.go gives partitions out
// and takes them back, commit.go commits their watermarks, and each
// partition (partition.go, dispatch.go, pause.go) owns its delivery state
// and gets what it uses of the engine as partitionDeps.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// Translator turns one record into an outbound message: decode and map. It
// is called for the records of one partition one at a time, in offset order;
// different partitions call it concurrently.
//
// An error is a *failure.Error. Permanent sends the record to the
// dead-letter topic; any other class is retried with backoff until it
// succeeds or the partition is revoked. With an error, Translate may still
// return the fields of Outbound it knows (event id, type, org id), which then
// go into the dead-letter headers. Translate must return soon after ctx is
// canceled.
type Translator interface {
	Translate(ctx context.Context, rec *kgo.Record) (Outbound, error)
}

// Outbound is a translated record: the SNS entry and the event fields the
// engine needs for ordering, metrics and dead-letter headers.
type Outbound struct {
	Entry     *sns.Entry
	EventID   string
	EventType string
	// OrgID is the ordering key of a record whose Kafka key is empty.
	OrgID     string
	EventTime time.Time
	// RoutedARN is the topic a failed record was routed to before it failed
	// (too large for that topic, say), for the bridge.target.topic_arn
	// dead-letter header, and for its ordering scope. Entry.TopicARN is the
	// target of a record that did not fail.
	RoutedARN string
	// Relaxed lets the record's ordering scope have up to
	// Config.MaxInflightPerKey runs in flight at once instead of one: its
	// events may reach SNS out of order. The translator sets it from the
	// route's "ordering: relaxed" (standard topics only; start-up refuses it
	// on a FIFO route).
	Relaxed bool
	// OffloadObject is s3://bucket/key where the translator stored the
	// event's body when its route offloads it (Entry is then the pointer
	// message), for the bridge.offload.object dead-letter header.
	OffloadObject string
}

// Publisher publishes runs of entries to SNS; sns.Publisher satisfies it.
// The engine hands it one run per ordering scope (key and target topic) at
// a time, or up to Config.MaxInflightPerKey for a relaxed scope, and the
// scope's next run only after every entry of the previous one is done.
type Publisher interface {
	// PublishRun publishes run: consecutive entries of ONE ordering key for ONE topic, oldest first,
	// len(run) <= the entries RunLimit allows and sum(Entry.Size) <= its bytes. The publisher sends the
	// whole run inside ONE PublishBatch call, in order (other runs may share the call). done(i, r) is
	// called exactly once per entry i, on any goroutine, never blocking, in any order across entries:
	// MessageID set = published; Permanent *failure.Error = dead-letter it; ctx error / sns.ErrClosed =
	// abandoned. Entries that fail transiently/systemically are retried by the publisher, the failed
	// entries of the run together, still in offset order, as one run, before done is called for them.
	// key is the ordering key (for the order-break log line, hashed; never logged raw).
	//
	// PublishRun returns without waiting for SNS; it may block while the
	// publisher holds as many entries as it allows, until ctx ends. The
	// publisher owns each entry until its done.
	PublishRun(ctx context.Context, key string, run []*sns.Entry, done func(i int, r sns.Result))
	// RunLimit returns the most entries and bytes one run may hold for topicARN (one PublishBatch:
	// at most 10 entries and the topic's MaximumMessageSize in total).
	//
	// It is called each time a run is formed, with a partition's lock
	// held, from many goroutines: it must be cheap and must not block.
	RunLimit(topicARN string) (entries, bytes int)
}

// Option configures an Engine beyond its Config.
type Option func(*options)

type options struct {
	log           *slog.Logger
	reg           prometheus.Registerer
	clientMetrics bool
	version       string
	kafkaOpts     []kgo.Opt
}

func (o options) withDefaults() options {
	o.log = cmp.Or(o.log, slog.Default())
	o.version = cmp.Or(o.version, "dev")
	return o
}

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the engine's metrics on reg (default: none).
func WithRegisterer(reg prometheus.Registerer) Option { return func(o *options) { o.reg = reg } }

// WithClientMetrics also registers franz-go's client metrics (plugin/kprom)
// on the registerer, as bridge_kafka_consumer_* and bridge_kafka_dlq_*.
func WithClientMetrics() Option { return func(o *options) { o.clientMetrics = true } }

// WithVersion sets the bridge version written to the bridge.version
// dead-letter header (default "dev").
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithKafkaOptions appends raw franz-go options to both Kafka clients (the
// group consumer and the dead-letter producer), after the engine's own.
// Meant for tests (a dialer) and rare tuning; options that change the
// delivery contract (auto-commit, balancers, callbacks) must not be passed.
func WithKafkaOptions(opts ...kgo.Opt) Option {
	return func(o *options) { o.kafkaOpts = append(o.kafkaOpts, opts...) }
}

// Engine is the delivery engine: it consumes the source topics as a group
// member, translates and publishes each record keeping order per key and
// target topic, dead-letters permanent failures, and commits offsets only
// past finished records. Run it once.
type Engine struct {
	cfg        Config
	translator Translator
	publisher  Publisher
	log        *slog.Logger
	metrics    *metrics
	opts       options
	instance   string

	runCtx context.Context // canceled when Run ends, after the final drain
	cl     *clientRef
	// deps are handed to every partition; Run sets them before the group
	// client exists, so before any assignment.
	deps partitionDeps

	ready   atomic.Bool
	running atomic.Bool
	// inGroup is set at every assignment and cleared when the group is
	// lost and at shutdown (Health).
	inGroup  atomic.Bool
	progress *progressClock

	budget  *bufferBudget
	blocked *blockedTopics
	hot     *heavyHitters

	// mu guards owned and closing. It is never held while waiting.
	mu      sync.Mutex
	owned   map[tp]*partition
	closing bool

	// commitMu makes a commit and the end of a revocation (or a loss)
	// exclusive: a partition is committed only while this member owns it.
	commitMu sync.Mutex
}

type tp struct {
	topic string
	id    int32
}

// clientRef holds the group client once Run has created it. Partitions
// pause and resume fetching through it (it is their fetchPauser).
type clientRef struct{ atomic.Pointer[kgo.Client] }

func (c *clientRef) PauseFetchPartitions(tps map[string][]int32) map[string][]int32 {
	return c.Load().PauseFetchPartitions(tps)
}

func (c *clientRef) ResumeFetchPartitions(tps map[string][]int32) {
	c.Load().ResumeFetchPartitions(tps)
}

// New checks cfg and returns an engine; nothing connects until Run.
func New(cfg Config, translator Translator, publisher Publisher, opts ...Option) (*Engine, error) {
	if translator == nil {
		return nil, errors.New("consumer: translator is nil")
	}
	if publisher == nil {
		return nil, errors.New("consumer: publisher is nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	o = o.withDefaults()
	if o.clientMetrics && o.reg == nil {
		return nil, errors.New("consumer: WithClientMetrics needs WithRegisterer")
	}
	m, err := newMetrics(o.reg, cfg.GroupID)
	if err != nil {
		return nil, fmt.Errorf("registering consumer metrics: %w", err)
	}
	instance := cfg.InstanceID
	if instance == "" {
		instance, _ = os.Hostname()
	}
	e := &Engine{
		cfg:        cfg,
		translator: translator,
		publisher:  publisher,
		log:        o.log.With("component", "consumer"),
		metrics:    m,
		opts:       o,
		instance:   instance,
		cl:         &clientRef{},
		budget:     newBufferBudget(cfg.MaxBufferedBytes, m.bufferedBytes, m.inflight),
		blocked:    &blockedTopics{},
		hot:        newHeavyHitters(),
		progress:   &progressClock{},
		owned:      make(map[tp]*partition),
	}
	e.progress.mark(time.Now())
	if o.reg != nil {
		if err := o.reg.Register(newAgeCollector(cfg.GroupID, e.partitions)); err != nil {
			return nil, fmt.Errorf("registering consumer metrics: %w", err)
		}
	}
	return e, nil
}

// Ready reports whether the member has joined its group and received its
// first assignment (possibly empty). It is safe for concurrent use.
func (e *Engine) Ready() bool { return e.ready.Load() }

// TopicBlocked tells the engine that publishing to topicARN is blocked
// (its circuit breaker opened) or unblocked. Blocking pauses nothing by
// itself: events for other topics, of the same keys too, keep flowing while
// the blocked topic's events wait in their scopes (the publisher keeps
// retrying the entries it holds). A partition whose buffer then fills
// pauses as at any full buffer, counted with reason topic_blocked when the
// blocked topics' events hold most of it. It is safe for concurrent use and
// does not block; it can be wired to the publisher's breaker hook.
func (e *Engine) TopicBlocked(topicARN string, blocked bool) {
	e.blocked.set(topicARN, blocked)
	e.log.Info("target topic blocked state changed", "topic_arn", topicARN, "blocked", blocked)
}

func (e *Engine) client() *kgo.Client { return e.cl.Load() }

func (e *Engine) partitions() []*partition {
	e.mu.Lock()
	defer e.mu.Unlock()
	ps := make([]*partition, 0, len(e.owned))
	for _, p := range e.owned {
		ps = append(ps, p)
	}
	return ps
}

// Run consumes until ctx ends, then shuts down: it stops fetching, drains
// in-flight work within Config.DrainTimeout, commits, and leaves the group.
// It returns nil after a clean shutdown, or the error that stopped it. Run
// may be called only once per Engine.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("consumer: Run called twice")
	}
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	e.runCtx = runCtx

	common, err := e.cfg.ClientOpts()
	if err != nil {
		return err
	}
	dlqOpts := append(append([]kgo.Opt{}, common...),
		kgo.RequiredAcks(kgo.AllISRAcks()), // also the default with idempotence
		kgo.ProduceRequestTimeout(e.cfg.CommitTimeout),
	)
	if e.opts.clientMetrics {
		dlqOpts = append(dlqOpts, e.clientMetrics("kafka_dlq"))
	}
	dlq, err := kgo.NewClient(append(dlqOpts, e.opts.kafkaOpts...)...)
	if err != nil {
		return fmt.Errorf("creating dead-letter producer: %w", err)
	}
	defer dlq.Close()
	e.deps = partitionDeps{
		translator: e.translator,
		publisher:  e.publisher,
		deadLetters: deadLetterWriter{
			template: e.cfg.DeadLetterTopic,
			instance: e.instance,
			version:  e.opts.version,
			produce:  dlq.Produce,
		},
		fetch:             e.cl,
		budget:            e.budget,
		blocked:           e.blocked,
		hot:               e.hot,
		hotLog:            newKeyLogLimiter(hotKeyLogEvery),
		progress:          e.progress,
		retry:             e.cfg.retryPolicy(),
		maxBufferedBytes:  e.cfg.MaxBufferedBytesPerPartition,
		maxRunPerKey:      e.cfg.MaxRunPerKey,
		maxInflightPerKey: e.cfg.MaxInflightPerKey,
		metrics:           e.metrics,
		log:               e.log,
	}

	cl, err := kgo.NewClient(append(e.consumerOpts(common), e.opts.kafkaOpts...)...)
	if err != nil {
		return fmt.Errorf("creating group consumer: %w", err)
	}
	e.cl.Store(cl)

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var wg sync.WaitGroup
	pollErr := make(chan error, 1)
	wg.Go(func() { pollErr <- e.pollLoop(pollCtx, cl) })
	wg.Go(func() { e.commitLoop(pollCtx) })
	wg.Go(func() { e.lagLoop(pollCtx, kadm.NewClient(cl)) })
	// The stall check outlives polling: the final drain may still be
	// translating.
	stallCtx, stopStallCheck := context.WithCancel(context.WithoutCancel(ctx))
	var stallCheck sync.WaitGroup
	stallCheck.Go(func() { e.stallLoop(stallCtx) })
	defer func() {
		stopStallCheck()
		stallCheck.Wait()
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-pollErr:
	}
	e.log.Info("shutting down: draining in-flight work", "drain_timeout", e.cfg.DrainTimeout)
	stopPolling()
	wg.Wait()
	// No poll holds the rebalance now, and onAssigned starts nothing new.
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	cl.AllowRebalance()
	if n := e.release(context.WithoutCancel(ctx), e.ownedTopicPartitions(), true); n > 0 {
		e.log.Info("partitions released for shutdown", "partitions", n)
	}
	// Close leaves the group (dynamic members); the revoke callback it
	// triggers finds nothing left to commit.
	cl.Close()
	e.inGroup.Store(false)
	if e.cfg.InstanceID != "" {
		e.leaveStatic(context.WithoutCancel(ctx), kadm.NewClient(dlq))
	}
	e.ready.Store(false)
	e.log.Info("consumer stopped")
	return runErr
}

// clientMetrics is franz-go's client metrics hook for one of the engine's
// clients, as bridge_<subsystem>_*.
func (e *Engine) clientMetrics(subsystem string) kgo.Opt {
	return kgo.WithHooks(kprom.NewMetrics("bridge", kprom.Subsystem(subsystem), kprom.Registerer(e.opts.reg)))
}

func (e *Engine) consumerOpts(common []kgo.Opt) []kgo.Opt {
	opts := append([]kgo.Opt{}, common...)
	opts = append(opts,
		kgo.ConsumerGroup(e.cfg.GroupID),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.RebalanceTimeout(e.cfg.RebalanceTimeout),
		kgo.SessionTimeout(e.cfg.SessionTimeout),
		kgo.HeartbeatInterval(e.cfg.HeartbeatInterval),
		kgo.FetchMaxBytes(e.cfg.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(e.cfg.FetchMaxPartitionBytes),
		kgo.FetchMaxWait(e.cfg.FetchMaxWait),
		// Transaction markers come through so that their offsets are
		// committed too (partition.takeMarkerLocked); nothing publishes them.
		kgo.KeepControlRecords(),
		kgo.OnPartitionsAssigned(e.onAssigned),
		kgo.OnPartitionsRevoked(e.onRevoked),
		kgo.OnPartitionsLost(e.onLost),
	)
	opts = append(opts, e.cfg.fetchOpts()...)
	if e.cfg.TopicRegex {
		// A pattern that matches the source topics may also match their
		// dead-letter topics; the bridge never consumes its own dead letters.
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeExcludeTopics(deadletter.Pattern(e.cfg.DeadLetterTopic)))
	}
	opts = append(opts, kgo.ConsumeTopics(e.cfg.Topics...))
	if e.cfg.ResetOffset == ResetLatest {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	} else {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	if e.cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(e.cfg.InstanceID))
	}
	if e.opts.clientMetrics {
		opts = append(opts, e.clientMetrics("kafka_consumer"))
	}
	return opts
}

// pollLoop fetches records while the engine has buffer budget left and
// hands them to their partitions. Handing over never blocks, so the
// rebalance that BlockRebalanceOnPoll holds back while a poll is being
// handed over is held only briefly; it guarantees that records fetched for a
// partition never reach a later owner's state of the same partition.
func (e *Engine) pollLoop(ctx context.Context, cl *kgo.Client) error {
	sizer := newPollSizer()
	for {
		free := e.budget.free()
		if free <= 0 {
			select {
			case <-e.budget.freed:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		// One poll takes about what a partition's buffer holds, or what is
		// left of the engine's, so a partition holds at most about twice
		// MaxBufferedBytesPerPartition before its pause takes effect
		// (records kgo buffered for a paused partition are dropped and
		// fetched again on resume).
		fetches := cl.PollRecords(ctx, sizer.records(min(free, e.cfg.MaxBufferedBytesPerPartition)))
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return nil
		}
		var fatal error
		fetches.EachError(func(topic string, partition int32, err error) {
			switch {
			case errors.Is(err, kgo.ErrClientClosed):
				fatal = err
			case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			default:
				e.metrics.errors.WithLabelValues("transient", "kafka").Inc()
				e.log.Warn("fetch error", "topic", topic, "partition", partition, "err", err, "retriable", kerr.IsRetriable(err))
			}
		})
		sizer.observe(fetches)
		e.mu.Lock()
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			p := e.owned[tp{fp.Topic, fp.Partition}]
			if p == nil {
				// Not ours (any more): the records are not committed by us
				// and will be fetched again by whoever owns the partition.
				return
			}
			p.enqueue(fp.Records, fp.HighWatermark)
		})
		e.mu.Unlock()
		cl.AllowRebalance()
		if fatal != nil {
			return fmt.Errorf("polling: %w", fatal)
		}
	}
}
