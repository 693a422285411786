package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
//	tperm      Translate fails permanently (undecodable: no target topic)
//	ttoolarge  Translate fails permanently after routing (too large for its topic)
//	ttransN    Translate fails transiently N times, then succeeds
//	tsleepN    Translate takes N seconds (or until its ctx ends) the first time
//	pperm      the publisher answers with a permanent error
//	pfailN     the PublishBatch calls carrying the entry fail it transiently
//	           N times (the publisher retries it, with every later entry of
//	           its run that failed with it)
//	pbroken    the publisher's first answer is a transient error (a broken
//	           contract), for it and the rest of its run
//	phold      with fakePublisher.holdPhold, the entry and the rest of its
//	           run are not answered until their ctx ends
//	arnB       the entry targets arnB instead of arnA
//	relaxed    the event's order is relaxed (Outbound.Relaxed)
//
// The fake translator copies the value into the entry body and the source
// position into DedupID, so the fake publisher knows what it published.

type fakeTranslator struct {
	sink     *sink // when set, told each event's scope and which events will never be published
	mu       sync.Mutex
	attempts map[string]int
	sleeps   map[string]int
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

// count returns N of a behaviour "nameN" in beh, and whether it is there.
func count(beh, name string) (int, bool) {
	i := strings.Index(beh, name)
	if i < 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(digits(beh[i+len(name):]))
	return n, true
}

func (f *fakeTranslator) Translate(ctx context.Context, rec *kgo.Record) (Outbound, error) {
	key, seq, beh := parseValue(string(rec.Value))
	out := Outbound{
		EventID:   fmt.Sprintf("ev-%s-%d", key, seq),
		EventType: "ticket.created",
		OrgID:     key,
		EventTime: rec.Timestamp,
		Relaxed:   strings.Contains(beh, "relaxed"),
	}
	if strings.Contains(beh, "offloaded") {
		out.OffloadObject = fmt.Sprintf("s3://large/ev-%s-%d.json", key, seq)
	}
	arn := arnA
	if strings.Contains(beh, "arnB") {
		arn = arnB
	}
	if strings.Contains(beh, "tperm") {
		f.sink.skip(key, seq, "")
		return out, failure.Permanentf(failure.ReasonUndecodable, "field 3: invalid union index")
	}
	if strings.Contains(beh, "ttoolarge") {
		out.RoutedARN = arn
		f.sink.skip(key, seq, arn)
		return out, failure.Permanentf(failure.ReasonTooLarge, "entry of 300000 bytes is over the topic's limit")
	}
	if n, ok := count(beh, "tsleep"); ok && f.attempt(rec) == 1 {
		t := time.NewTimer(time.Duration(n) * time.Second)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Outbound{}, ctx.Err()
		}
	}
	if n, ok := count(beh, "ttrans"); ok {
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
	f.sink.scopeOf(key, seq, arn)
	body := string(rec.Value)
	out.Entry = &sns.Entry{TopicARN: arn, Body: body, DedupID: position(rec), GroupID: key, Size: len(body)}
	return out, nil
}

// attempt counts a Translate call of rec and returns how many there were.
func (f *fakeTranslator) attempt(rec *kgo.Record) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sleeps == nil {
		f.sleeps = make(map[string]int)
	}
	f.sleeps[position(rec)]++
	return f.sleeps[position(rec)]
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
	arn      string
	relaxed  bool
}

// sink records what every fake publisher acknowledged, in order.
type sink struct {
	mu      sync.Mutex
	pubs    []publication
	fails   []string
	skipped map[string]bool   // key|seq of events that fail permanently
	scopes  map[string]string // key|seq -> the topic the event goes (or was routed) to
}

func (s *sink) scopeOf(key string, seq int, arn string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scopes == nil {
		s.scopes = make(map[string]string)
	}
	s.scopes[fmt.Sprintf("%s|%d", key, seq)] = arn
}

func (s *sink) skip(key string, seq int, arn string) {
	if s == nil {
		return
	}
	s.scopeOf(key, seq, arn)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.skipped == nil {
		s.skipped = make(map[string]bool)
	}
	s.skipped[fmt.Sprintf("%s|%d", key, seq)] = true
}

func (s *sink) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, fmt.Sprintf(format, args...))
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

// fakePublisher follows the Publisher contract, like an SNS FIFO topic:
// a run rides one PublishBatch call; when an entry fails transiently, it and
// every later entry of its run fail with it and are retried together, in
// order, after retryDelay; the others are answered at once, in reverse order
// (done calls come in any order). Runs of keys (or topics) in held are not
// answered until released, or until their ctx ends. It flags a run that
// breaks the contract's bounds, and a second run of a strict scope (more
// than maxInflight of a relaxed one) while one is out.
type fakePublisher struct {
	stream string
	sink   *sink
	delay  time.Duration
	// keyDelay, when set, replaces delay for the runs of the keys it names.
	keyDelay map[string]time.Duration
	// runEntries and runBytes are what RunLimit answers.
	runEntries, runBytes int
	// maxInflight is the engine's MaxInflightPerKey.
	maxInflight int
	retryDelay  time.Duration
	holdPhold   bool
	// handedBack counts the entries answered with pbroken's transient error.
	handedBack atomic.Int64

	mu       sync.Mutex
	wg       sync.WaitGroup
	out      map[scopeID]int // runs out
	peak     map[scopeID]int // most runs out at once
	runs     []int           // the length of every run, in the order given
	held     map[string]chan struct{}
	attempts map[string]int
	// onPublish, when set, sees every entry as PublishRun is called.
	onPublish func(*sns.Entry)
}

func newPublisher(stream string, s *sink) *fakePublisher {
	return &fakePublisher{stream: stream, sink: s, runEntries: 10, runBytes: 256 << 10, maxInflight: DefaultMaxInflightPerKey,
		retryDelay: 100 * time.Millisecond, out: make(map[scopeID]int), peak: make(map[scopeID]int),
		held: make(map[string]chan struct{}), attempts: make(map[string]int)}
}

// hold holds the runs of a key, of a topic ARN, or of everything ("*").
func (p *fakePublisher) hold(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held[name] = make(chan struct{})
}

func (p *fakePublisher) release(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.held[name])
	delete(p.held, name)
}

func (p *fakePublisher) RunLimit(string) (entries, bytes int) { return p.runEntries, p.runBytes }

// peakOut is the most runs of scope id that were out at once.
func (p *fakePublisher) peakOut(id scopeID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak[id]
}

// runLengths are the lengths of every run given so far.
func (p *fakePublisher) runLengths() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.runs)
}

func (p *fakePublisher) PublishRun(ctx context.Context, key string, run []*sns.Entry, done func(int, sns.Result)) {
	p.checkRun(key, run)
	id := scopeID{key: key, arn: run[0].TopicARN}
	_, _, beh := parseValue(run[0].Body)
	limit := 1
	if strings.Contains(beh, "relaxed") {
		limit = p.maxInflight
	}
	for _, e := range run {
		if p.onPublish != nil {
			p.onPublish(e)
		}
	}
	p.mu.Lock()
	p.out[id]++
	if p.out[id] > limit {
		p.sink.fail("%s: %d runs of scope %v out at once, want at most %d", p.stream, p.out[id], id, limit)
	}
	p.peak[id] = max(p.peak[id], p.out[id])
	p.runs = append(p.runs, len(run))
	held := p.held[key]
	if held == nil {
		held = p.held[id.arn]
	}
	if held == nil {
		held = p.held["*"]
	}
	p.mu.Unlock()
	p.wg.Go(func() { p.answer(ctx, id, run, held, done) })
}

// checkRun flags a run that breaks the contract's shape: empty, over
// RunLimit, of several keys or topics, or not oldest first.
func (p *fakePublisher) checkRun(key string, run []*sns.Entry) {
	size := 0
	for i, e := range run {
		size += e.Size
		k, _, _ := parseValue(e.Body)
		if k != key || e.TopicARN != run[0].TopicARN {
			p.sink.fail("%s: run of key %q holds %s for %s", p.stream, key, e.DedupID, e.TopicARN)
		}
		if i > 0 && offsetOf(e.DedupID) <= offsetOf(run[i-1].DedupID) {
			p.sink.fail("%s: run of key %q out of offset order: %s after %s", p.stream, key, e.DedupID, run[i-1].DedupID)
		}
	}
	if len(run) == 0 || len(run) > p.runEntries || (len(run) > 1 && size > p.runBytes) {
		p.sink.fail("%s: run of %d entries, %d bytes; RunLimit is %d, %d", p.stream, len(run), size, p.runEntries, p.runBytes)
	}
}

func offsetOf(position string) int64 {
	off, _ := strconv.ParseInt(position[strings.LastIndexByte(position, '/')+1:], 10, 64)
	return off
}

// answer plays the PublishBatch calls of one run.
func (p *fakePublisher) answer(ctx context.Context, id scopeID, run []*sns.Entry, held chan struct{}, done func(int, sns.Result)) {
	delay := p.delay
	if d, ok := p.keyDelay[id.key]; ok {
		delay = d
	}
	attempts := 1
	if held != nil {
		select {
		case <-held:
			attempts = 7
		case <-ctx.Done():
		}
	}
	pending := make([]int, len(run))
	for i := range pending {
		pending[i] = i
	}
	for call := 0; ; call++ {
		if call > 0 || delay > 0 {
			wait := delay
			if call > 0 {
				wait = p.retryDelay
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			p.finishRun(id, pending, func(i int) sns.Result { return sns.Result{Err: ctx.Err()} }, done)
			return
		}
		results, retry, heldBack := p.call(run, pending, attempts+call)
		if len(retry) == 0 && len(heldBack) == 0 {
			p.finishRun(id, pending, func(i int) sns.Result { return results[i] }, done)
			return
		}
		for _, i := range slices.Backward(pending) {
			if r, ok := results[i]; ok {
				done(i, r)
			}
		}
		if len(heldBack) > 0 {
			<-ctx.Done()
			p.finishRun(id, heldBack, func(int) sns.Result { return sns.Result{Err: ctx.Err()} }, done)
			return
		}
		pending = retry
	}
}

// finishRun ends the run's last call: the scope is no longer out once the
// engine has these answers.
func (p *fakePublisher) finishRun(id scopeID, idx []int, result func(int) sns.Result, done func(int, sns.Result)) {
	p.mu.Lock()
	p.out[id]--
	p.mu.Unlock()
	for _, i := range slices.Backward(idx) {
		done(i, result(i))
	}
}

// call is one PublishBatch call carrying the pending entries of a run, in
// order. It returns the answers to give now, the entries to retry, and the
// entries held back until ctx ends (phold).
func (p *fakePublisher) call(run []*sns.Entry, pending []int, attempts int) (results map[int]sns.Result, retry, heldBack []int) {
	results = make(map[int]sns.Result)
	broken := false
	for _, i := range pending {
		e := run[i]
		key, seq, beh := parseValue(e.Body)
		p.mu.Lock()
		p.attempts[e.DedupID]++
		a := p.attempts[e.DedupID]
		p.mu.Unlock()
		failN, _ := count(beh, "pfail")
		switch {
		case len(heldBack) > 0 || (p.holdPhold && strings.Contains(beh, "phold")):
			heldBack = append(heldBack, i)
		case len(retry) > 0 || a <= failN:
			retry = append(retry, i) // SNS FIFO: the group's later entries fail with it
		case broken || (strings.Contains(beh, "pbroken") && a == 1):
			// A publisher breaking its contract: a transient error reaches done.
			broken = true
			p.handedBack.Add(1)
			results[i] = sns.Result{Err: failure.Transientf(failure.ReasonSNSUnavail, "InternalError"), Attempts: attempts}
		case strings.Contains(beh, "pperm"):
			p.sink.skip(key, seq, e.TopicARN)
			results[i] = sns.Result{Attempts: attempts, Err: &failure.Error{Class: failure.Permanent, Reason: failure.ReasonSNSRejected, Code: "InvalidParameter",
				Err: fmt.Errorf("message attribute orgId: invalid value")}}
		default:
			results[i] = sns.Result{MessageID: "msg-" + e.DedupID, Attempts: attempts}
			p.sink.mu.Lock()
			p.sink.pubs = append(p.sink.pubs, publication{stream: p.stream, key: key, seq: seq, position: e.DedupID,
				arn: e.TopicARN, relaxed: strings.Contains(beh, "relaxed")})
			p.sink.mu.Unlock()
		}
	}
	return results, retry, heldBack
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
	// logs, when set, receives the JSON logs of the engines started after.
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines are the logged lines with message msg, decoded.
func (s *syncBuffer) lines(msg string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(s.b.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
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
	pub.maxInflight = cfg.withDefaults().MaxInflightPerKey
	for _, s := range setup {
		s(pub)
	}
	reg := prometheus.NewRegistry()
	log := testLogger()
	if h.logs != nil {
		log = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts := []Option{WithLogger(log.With("engine", stream)), WithRegisterer(reg), WithClientMetrics(), WithVersion("test")}
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

// seqs is 0, 1, ..., n-1.
func seqs(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// bufferedCost is what r costs in the engine's buffers once translated.
func bufferedCost(r *kgo.Record) int64 {
	r = &kgo.Record{Topic: srcTopic, Key: r.Key, Value: r.Value, Headers: r.Headers}
	out, _ := (&fakeTranslator{}).Translate(context.Background(), r)
	return recordCost(r) + entryCost(out.Entry)
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

// check asserts what must hold in every test: every run the publishers got
// kept the contract (fakePublisher), and no event of a strict scope was
// published before every earlier event of its key for the same topic had
// been published (or had failed permanently). Replays after a loss or a
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
			ev := fmt.Sprintf("%s|%d", p.key, m)
			if p.relaxed || h.sink.scopes[ev] != p.arn {
				continue // relaxed, or another topic's event: no order between them
			}
			if !done[ev] && !h.sink.skipped[ev] {
				h.t.Errorf("%s: key %q published seq %d to %s before seq %d", p.stream, p.key, p.seq, p.arn, m)
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
