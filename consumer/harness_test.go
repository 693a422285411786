package consumer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	srcTopic = "events"
	dlqTopic = "events.dlq"
	group    = "bridge"
	arnA     = "arn:aws:sns:eu-west-1:123456789012:thena-events"
	arnB     = "arn:aws:sns:eu-west-1:123456789012:thena-other"
)

// Test records carry "key|seq|behaviours" as their value. Behaviours:
//
//	tperm    Translate fails permanently
//	ttransN  Translate fails transiently N times, then succeeds
//	pperm    the publisher answers with a permanent error
//	pbroken  the publisher's first answer is a transient error (a broken contract)
//	arnB     the entry targets arnB instead of arnA
//
// The fake translator copies the value into the entry body and the source
// position into DedupID, so the fake publisher knows what it published.

type fakeTranslator struct {
	sink     *sink // when set, told about events that will never be published
	mu       sync.Mutex
	attempts map[string]int
}

func parseValue(v string) (key string, seq int, behaviours string) {
	parts := strings.SplitN(v, "|", 3)
	key = parts[0]
	if len(parts) > 1 {
		seq, _ = strconv.Atoi(parts[1])
	}
	if len(parts) > 2 {
		behaviours = parts[2]
	}
	return key, seq, behaviours
}

func position(r *kgo.Record) string { return fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset) }

func (f *fakeTranslator) Translate(ctx context.Context, rec *kgo.Record) (Outbound, error) {
	key, seq, beh := parseValue(string(rec.Value))
	out := Outbound{
		EventID:   fmt.Sprintf("ev-%s-%d", key, seq),
		EventType: "ticket.created",
		OrgID:     key,
		EventTime: rec.Timestamp,
	}
	if strings.Contains(beh, "tperm") {
		f.sink.skip(key, seq)
		return out, failure.Permanentf(failure.ReasonUndecodable, "field 3: invalid union index")
	}
	if i := strings.Index(beh, "ttrans"); i >= 0 {
		n, _ := strconv.Atoi(digits(beh[i+len("ttrans"):]))
		f.mu.Lock()
		if f.attempts == nil {
			f.attempts = make(map[string]int)
		}
		f.attempts[position(rec)]++
		a := f.attempts[position(rec)]
		f.mu.Unlock()
		if a <= n {
			return Outbound{}, failure.Transientf(failure.ReasonRegistry, "schema registry answered 503")
		}
	}
	arn := arnA
	if strings.Contains(beh, "arnB") {
		arn = arnB
	}
	out.Entry = &sns.Entry{TopicARN: arn, Body: string(rec.Value), DedupID: position(rec), GroupID: key}
	return out, nil
}

func digits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// publication is one acknowledged publish.
type publication struct {
	stream   string // which engine published it
	key      string
	seq      int
	position string // source topic/partition/offset
}

// sink records what every fake publisher acknowledged, in order.
type sink struct {
	mu      sync.Mutex
	pubs    []publication
	fails   []string
	skipped map[string]bool // key|seq of events that fail permanently
}

func (s *sink) skip(key string, seq int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.skipped == nil {
		s.skipped = make(map[string]bool)
	}
	s.skipped[fmt.Sprintf("%s|%d", key, seq)] = true
}

func (s *sink) snapshot() []publication {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pubs)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pubs)
}

// fakePublisher acknowledges entries asynchronously. Keys in held are not
// answered until released (the publisher "retries" them), or until their
// ctx ends. It flags a second publish of a key while one is out.
type fakePublisher struct {
	stream string
	sink   *sink
	delay  time.Duration

	mu       sync.Mutex
	wg       sync.WaitGroup
	out      map[string]bool
	held     map[string]chan struct{}
	attempts map[string]int
	// onPublish, when set, sees every entry as Publish is called.
	onPublish func(*sns.Entry)
}

func newPublisher(stream string, s *sink) *fakePublisher {
	return &fakePublisher{stream: stream, sink: s, out: make(map[string]bool), held: make(map[string]chan struct{}), attempts: make(map[string]int)}
}

func (p *fakePublisher) hold(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held[key] = make(chan struct{})
}

func (p *fakePublisher) release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.held[key])
	delete(p.held, key)
}

func (p *fakePublisher) Publish(ctx context.Context, e *sns.Entry, done func(sns.Result)) {
	key, seq, beh := parseValue(e.Body)
	if p.onPublish != nil {
		p.onPublish(e)
	}
	p.mu.Lock()
	if p.out[key] {
		p.sink.mu.Lock()
		p.sink.fails = append(p.sink.fails, fmt.Sprintf("%s: second publish of key %q while one is out (seq %d)", p.stream, key, seq))
		p.sink.mu.Unlock()
	}
	p.out[key] = true
	held := p.held[key]
	if held == nil {
		held = p.held["*"] // hold("*") holds every key
	}
	p.attempts[e.DedupID]++
	first := p.attempts[e.DedupID] == 1
	p.mu.Unlock()

	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		res := sns.Result{Attempts: 1}
		if held != nil {
			select {
			case <-held:
				res.Attempts = 7
			case <-ctx.Done():
				res.Err = ctx.Err()
			}
		}
		if res.Err == nil && p.delay > 0 {
			t := time.NewTimer(p.delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				res.Err = ctx.Err()
			}
		}
		if res.Err == nil {
			if strings.Contains(beh, "pbroken") && first {
				// A publisher breaking its contract: a transient error reaches done.
				res.Err = failure.Transientf(failure.ReasonSNSUnavail, "InternalError")
			} else if strings.Contains(beh, "pperm") {
				p.sink.skip(key, seq)
				res.Err = &failure.Error{Class: failure.Permanent, Reason: failure.ReasonSNSRejected, Code: "InvalidParameter",
					Err: fmt.Errorf("message attribute orgId: invalid value")}
			} else {
				res.MessageID = "msg-" + e.DedupID
			}
		}
		p.mu.Lock()
		p.out[key] = false
		p.mu.Unlock()
		if res.MessageID != "" {
			p.sink.mu.Lock()
			p.sink.pubs = append(p.sink.pubs, publication{stream: p.stream, key: key, seq: seq, position: e.DedupID})
			p.sink.mu.Unlock()
		}
		done(res)
	}()
}

func (p *fakePublisher) wait() { p.wg.Wait() }

// harness is a kfake cluster on an in-memory network inside a synctest
// bubble, so group joins, commit intervals and backoffs take no real time.
type harness struct {
	t        *testing.T
	net      *kfake.VirtualNetwork
	c        *kfake.Cluster
	producer *kgo.Client
	sink     *sink
	tr       *fakeTranslator
	engines  []*running
}

// bubble runs fn against a kfake cluster on an in-memory network inside a
// synctest bubble: group joins, commit intervals and backoffs take no real
// time.
func bubble(t *testing.T, partitions int32, withDLQ bool, fn func(t *testing.T, h *harness)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		withCluster(t, &kfake.VirtualNetwork{}, partitions, withDLQ, fn)
	})
}

// realTime runs fn against a kfake cluster on loopback TCP in real time.
// It is for tests that synctest cannot run: kgo waits for an in-progress
// join on an RWMutex, which does not count as durably blocked, so a commit
// that meets a rebalance would freeze the bubble's clock.
func realTime(t *testing.T, partitions int32, withDLQ bool, fn func(t *testing.T, h *harness)) {
	t.Helper()
	withCluster(t, nil, partitions, withDLQ, fn)
}

func withCluster(t *testing.T, vnet *kfake.VirtualNetwork, partitions int32, withDLQ bool, fn func(t *testing.T, h *harness)) {
	h := &harness{t: t, net: vnet, sink: &sink{}}
	h.tr = &fakeTranslator{sink: h.sink}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, srcTopic)}
	if vnet != nil {
		opts = append(opts, kfake.Ports(9092), kfake.ListenFn(vnet.Listen))
	}
	if withDLQ {
		opts = append(opts, kfake.SeedTopics(1, dlqTopic))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	defer c.Close()
	h.producer, err = kgo.NewClient(append(h.clientOpts(), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))...)
	if err != nil {
		t.Fatal(err)
	}
	defer h.producer.Close()
	defer h.stopAll()
	fn(t, h)
	h.stopAll()
	h.check()
}

// clientOpts connect a kgo client to the harness cluster.
func (h *harness) clientOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(h.c.ListenAddrs()...)}
	if h.net != nil {
		opts = append(opts, kgo.Dialer(h.net.DialContext))
	}
	return opts
}

func (h *harness) stopAll() {
	for _, r := range h.engines {
		r.stop()
	}
}

func (h *harness) config() Config {
	return Config{
		Brokers:          h.c.ListenAddrs(),
		GroupID:          group,
		Topics:           []string{srcTopic},
		CommitInterval:   time.Second,
		DrainTimeout:     5 * time.Second,
		CommitTimeout:    5 * time.Second,
		RebalanceTimeout: 30 * time.Second,
		RetryBackoffMin:  50 * time.Millisecond,
		RetryBackoffMax:  time.Second,
	}
}

func testLogger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("CONSUMER_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// running is an engine started by the harness.
type running struct {
	e      *Engine
	pub    *fakePublisher
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func (h *harness) start(stream string, cfg Config, setup ...func(*fakePublisher)) *running {
	h.t.Helper()
	pub := newPublisher(stream, h.sink)
	for _, s := range setup {
		s(pub)
	}
	reg := prometheus.NewRegistry()
	opts := []Option{WithLogger(testLogger().With("engine", stream)), WithRegisterer(reg), WithClientMetrics(), WithVersion("test")}
	if h.net != nil {
		opts = append(opts, WithKafkaOptions(kgo.Dialer(h.net.DialContext)))
	} else {
		opts = append(opts, WithKafkaOptions(kgo.HeartbeatInterval(250*time.Millisecond), kgo.FetchMaxWait(250*time.Millisecond)))
	}
	e, err := New(cfg, h.tr, pub, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{e: e, pub: pub, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- e.Run(ctx) }()
	h.engines = append(h.engines, r)
	return r
}

// stop ends the engine and waits for it and its publisher's goroutines.
func (r *running) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		panic(fmt.Sprintf("Run: %v", err))
	}
	r.pub.wait()
}

// produce writes records synchronously; a key of "" writes an empty key
// with org as the value's key field.
func (h *harness) produce(recs ...*kgo.Record) {
	h.t.Helper()
	if err := h.producer.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

func rec(key string, seq int, behaviours string) *kgo.Record {
	return &kgo.Record{Topic: srcTopic, Key: []byte(key), Value: fmt.Appendf(nil, "%s|%d|%s", key, seq, behaviours)}
}

// keyedRecords are perKey events of each of keys keys, named by keyFormat
// from the key's number, produced round robin: every key's seq 0, then
// every key's seq 1, and so on.
func keyedRecords(keys, perKey int, keyFormat string) []*kgo.Record {
	var recs []*kgo.Record
	for seq := range perKey {
		for k := range keys {
			recs = append(recs, rec(fmt.Sprintf(keyFormat, k), seq, ""))
		}
	}
	return recs
}

// publishedAll reports whether n distinct source records have been
// published (by any engine, counting a republished one once).
func (h *harness) publishedAll(n int) func() bool {
	return func() bool {
		seen := make(map[string]bool)
		for _, p := range h.sink.snapshot() {
			seen[p.position] = true
		}
		return len(seen) == n
	}
}

// eventually waits, in bubble time, until cond holds.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	limit := 10 * time.Minute // bubble time
	if h.net == nil {
		limit = 60 * time.Second
	}
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) committed() map[int32]int64 {
	out := make(map[int32]int64)
	gi := h.c.GroupInfo(group)
	if gi == nil {
		return out
	}
	for p, c := range gi.Commits[srcTopic] {
		out[p] = c.Offset
	}
	return out
}

func (h *harness) ends() map[int32]int64 {
	out := make(map[int32]int64)
	for _, pi := range h.c.PartitionInfos(srcTopic) {
		out[pi.Partition] = pi.HighWatermark
	}
	return out
}

func (h *harness) committedToEnd() bool {
	c, ends := h.committed(), h.ends()
	for p, end := range ends {
		if end > 0 && c[p] != end {
			return false
		}
	}
	return true
}

// deadLetters reads everything in the dead-letter topic.
func (h *harness) deadLetters() []*kgo.Record {
	h.t.Helper()
	end := h.c.PartitionInfo(dlqTopic, 0)
	if end == nil || end.HighWatermark == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(h.clientOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{dlqTopic: {0: kgo.NewOffset().AtStart()}}))...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for int64(len(out)) < end.HighWatermark {
		fs := cl.PollFetches(context.Background())
		if err := fs.Err(); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// check asserts what must hold in every test: no key had two publishes out
// at once, and no event was published before every earlier event of its key
// had been published (or had failed permanently). Replays after a loss or a
// restart may publish an event again; they never publish one early.
func (h *harness) check() {
	h.t.Helper()
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	for _, f := range h.sink.fails {
		h.t.Error(f)
	}
	done := make(map[string]bool)
	for _, p := range h.sink.pubs {
		for m := range p.seq {
			if ev := fmt.Sprintf("%s|%d", p.key, m); !done[ev] && !h.sink.skipped[ev] {
				h.t.Errorf("%s: key %q published seq %d before seq %d", p.stream, p.key, p.seq, m)
				break
			}
		}
		done[fmt.Sprintf("%s|%d", p.key, p.seq)] = true
	}
}

func headerMap(r *kgo.Record) map[string]string {
	m := make(map[string]string)
	for _, h := range r.Headers {
		m[h.Key] = string(h.Value)
	}
	return m
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
