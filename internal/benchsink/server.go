package benchsink

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// Options configures a Server. The zero value is a sink that accepts every
// valid message at once.
type Options struct {
	// Latency is added to every Publish and PublishBatch answer, as the
	// round trip to a real SNS would.
	Latency time.Duration
	// Quota limits each topic to so many messages per second; entries past
	// it are answered Throttled (a Publish with 429 Throttled).
	Quota Quota
	// Double serves every call with the count-only snstest double instead
	// of the lean path (same counters, quota, storm and latency): to compare
	// what the two sinks cost.
	Double bool
}

// Quota is a per-topic token bucket of messages, as SNS's publish quotas.
// The zero Quota is no limit.
type Quota struct {
	PerSecond float64
	// Burst is how many messages may pass at once after a quiet spell; zero
	// means a tenth of a second's worth (at least one), as snstest.Quota.
	Burst int
}

func (q Quota) limiter() *rate.Limiter {
	if q.PerSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(q.PerSecond), max(q.Burst, int(q.PerSecond/10), 1))
}

// Server is the sink. It is safe for concurrent use.
type Server struct {
	opts   Options
	double *snstest.Server
	l      *listener // nil when not listening
	url    string
	start  time.Time

	mu     sync.Mutex
	topics map[string]*topic // by ARN; written only before traffic

	accepted, requests, throttled atomic.Int64
	connections                   atomic.Int64
	duplicates                    atomic.Int64
	first, last                   atomic.Int64 // Unix nanoseconds of acceptances
	nextID                        atomic.Uint64
	slots                         []atomic.Int64 // acceptances per slot since start

	storm stormState
	seen  [64]idShard
	seed  maphash.Seed

	recordFrom atomic.Int64 // Unix ms; 0: latency not recorded
	latMu      sync.Mutex
	latencies  []Latency
	unparsed   int64
	refusedMu  sync.Mutex
	refused    map[string]int64

	pool sync.Pool // *work
}

// slotWidth is the resolution of Rate; slots cover maxSpan from the
// Server's start.
const (
	slotWidth = 100 * time.Millisecond
	maxSpan   = 2 * time.Hour
)

type topic struct {
	arn     string
	fifo    bool
	maxSize int
	quota   *rate.Limiter
	seq     atomic.Uint64
}

type idShard struct {
	mu  sync.Mutex
	ids map[uint64]struct{}
}

type stormState struct {
	mu         sync.Mutex
	share      float64
	start, end time.Time
	rng        uint64
}

// New starts a Server listening on a free loopback port.
func New(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := newServer(opts)
	s.url = "http://" + ln.Addr().String()
	s.l = &listener{ln: ln, conns: map[net.Conn]struct{}{}}
	s.l.wg.Add(1)
	go s.serve(s.l)
	return s, nil
}

// newServer returns a Server that does not listen (ServeHTTP serves it).
func newServer(opts Options) *Server {
	s := &Server{
		opts:    opts,
		start:   time.Now(),
		topics:  map[string]*topic{},
		slots:   make([]atomic.Int64, maxSpan/slotWidth),
		seed:    maphash.MakeSeed(),
		refused: map[string]int64{},
	}
	s.storm.rng = uint64(time.Now().UnixNano()) | 1
	for i := range s.seen {
		s.seen[i].ids = map[uint64]struct{}{}
	}
	s.pool.New = func() any { return new(work) }
	dopts := snstest.Options{CountOnly: true, OnAccept: s.onDoubleAccept}
	if opts.Double {
		dopts.Quota = snstest.Quota(opts.Quota)
	}
	s.double = snstest.New(dopts)
	if opts.Double {
		for _, a := range []string{"Publish", "PublishBatch"} {
			if opts.Latency > 0 {
				s.double.Inject(&snstest.Fault{Action: a, Latency: opts.Latency})
			}
			s.double.Inject(&snstest.Fault{Action: a, Code: "Throttled", Message: "Rate exceeded",
				Entry: func(snstest.Message) bool { return s.stormHits(time.Now()) }})
		}
	}
	return s
}

// URL is the endpoint for the SDK's BaseEndpoint (sns.endpoint).
func (s *Server) URL() string { return s.url }

// Close stops the Server, closes its connections and waits for their
// goroutines.
func (s *Server) Close() {
	if s.l != nil {
		s.l.close()
	}
}

// CreateTopic creates a topic named name (FIFO when it ends in ".fifo",
// without content-based deduplication: messages must carry a
// deduplication id) with SNS's default MaximumMessageSize and returns its
// ARN. Create topics before traffic starts.
func (s *Server) CreateTopic(name string) (string, error) {
	fifo := sns.IsFIFO(name)
	attrs := map[string]string{}
	if fifo {
		attrs["FifoTopic"] = "true"
	}
	arn, err := s.double.CreateTopic(name, attrs)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.topics[arn] = &topic{arn: arn, fifo: fifo, maxSize: sns.DefaultMaxMessageSize, quota: s.opts.Quota.limiter()}
	return arn, nil
}

// StartStorm makes each message published in the next d throttled with
// probability share (a PublishBatch entry listed as Throttled, a Publish
// answered 429), and returns when the storm starts and ends.
func (s *Server) StartStorm(share float64, d time.Duration) (start, end time.Time) {
	s.storm.mu.Lock()
	defer s.storm.mu.Unlock()
	s.storm.share, s.storm.start = share, time.Now()
	s.storm.end = s.storm.start.Add(d)
	return s.storm.start, s.storm.end
}

// stormHits draws whether a message sent at now is throttled by the storm.
func (s *Server) stormHits(now time.Time) bool {
	st := &s.storm
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.share <= 0 || now.Before(st.start) || !now.Before(st.end) {
		return false
	}
	// xorshift64: cheap, and the draws need no quality beyond a fair share.
	st.rng ^= st.rng << 13
	st.rng ^= st.rng >> 7
	st.rng ^= st.rng << 17
	return float64(st.rng>>11)/(1<<53) < st.share
}

// RecordLatencyFrom makes the sink note, for every message whose
// event_timestamp is at or after t, the time from that timestamp to its
// acceptance.
func (s *Server) RecordLatencyFrom(t time.Time) { s.recordFrom.Store(t.UnixMilli()) }

// Latency is one message's end-to-end latency: from its event time to its
// acceptance.
type Latency struct {
	EventTime time.Time
	Latency   time.Duration
}

// Latencies returns the latencies recorded so far of the messages whose
// event time is at or after since, and how many messages had an
// event_timestamp the sink could not read.
func (s *Server) Latencies(since time.Time) (l []time.Duration, unparsed int64) {
	s.latMu.Lock()
	defer s.latMu.Unlock()
	for _, x := range s.latencies {
		if !x.EventTime.Before(since) {
			l = append(l, x.Latency)
		}
	}
	return l, s.unparsed
}

// Accepted is how many messages the sink has accepted.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Stats is a snapshot of the sink's counters.
type Stats struct {
	// Accepted messages; Duplicates among them (an event_id seen before;
	// for a message whose event_id is empty or "null", its body).
	Accepted, Duplicates int64
	// Requests is the Publish and PublishBatch calls answered, Connections
	// the TCP connections the listening Server accepted (a client that
	// keeps few idle connections opens one for many calls).
	Requests, Connections int64
	// Throttled is the messages refused for the quota or a storm.
	Throttled int64
	// Refused counts, by SNS error code, the calls and entries refused for
	// breaking SNS's rules: a correct publisher has none.
	Refused map[string]int64
	// First and Last are when the first and last message were accepted.
	First, Last time.Time
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	st := Stats{Accepted: s.accepted.Load(), Duplicates: s.duplicates.Load(), Requests: s.requests.Load(), Connections: s.connections.Load(),
		Throttled: s.throttled.Load(), Refused: map[string]int64{}}
	if f := s.first.Load(); f != 0 {
		st.First, st.Last = time.Unix(0, f), time.Unix(0, s.last.Load())
	}
	s.refusedMu.Lock()
	for k, v := range s.refused {
		st.Refused[k] = v
	}
	s.refusedMu.Unlock()
	return st
}

// Rate is the messages accepted per second over the whole 100 ms slots
// that start in [from, to) (zero when there is none).
func (s *Server) Rate(from, to time.Time) float64 {
	i, j := max(s.slot(from), 0), min(s.slot(to), len(s.slots))
	if j <= i {
		return 0
	}
	var n int64
	for k := i; k < j; k++ {
		n += s.slots[k].Load()
	}
	return float64(n) / (time.Duration(j-i) * slotWidth).Seconds()
}

// SlotWidth is Rate's resolution.
func SlotWidth() time.Duration { return slotWidth }

func (s *Server) slot(t time.Time) int {
	d := t.Sub(s.start)
	if d < 0 {
		return -1
	}
	return int((d + slotWidth - 1) / slotWidth)
}

// accept counts one accepted message. identity tells it from other events
// (its event_id as sent), for duplicates; ts reads its event_timestamp, for
// latency.
func (s *Server) accept(now time.Time, identity []byte, ts func() (time.Time, bool)) {
	s.accepted.Add(1)
	ns := now.UnixNano()
	s.first.CompareAndSwap(0, ns)
	s.last.Store(ns)
	if k := int(now.Sub(s.start) / slotWidth); k >= 0 && k < len(s.slots) {
		s.slots[k].Add(1)
	}
	if len(identity) > 0 {
		h := maphash.Bytes(s.seed, identity)
		sh := &s.seen[h%uint64(len(s.seen))]
		sh.mu.Lock()
		if _, dup := sh.ids[h]; dup {
			s.duplicates.Add(1)
		} else {
			sh.ids[h] = struct{}{}
		}
		sh.mu.Unlock()
	}
	from := s.recordFrom.Load()
	if from == 0 {
		return
	}
	at, ok := ts()
	s.latMu.Lock()
	defer s.latMu.Unlock()
	switch {
	case !ok:
		s.unparsed++
	case at.UnixMilli() >= from:
		s.latencies = append(s.latencies, Latency{at, now.Sub(at)})
	}
}

func (s *Server) refuse(code string, n int64) {
	s.refusedMu.Lock()
	s.refused[code] += n
	s.refusedMu.Unlock()
}

// onDoubleAccept counts a message the snstest double accepted (Double mode).
func (s *Server) onDoubleAccept(m *snstest.Message) {
	ts := m.Attributes["event_timestamp"].StringValue
	id := m.Attributes["event_id"].StringValue
	if id == "" || id == "null" {
		id = m.Body
	}
	s.accept(time.Now(), []byte(id), func() (time.Time, bool) { return parseEventTime(ts) })
}

// work is one call's reusable memory.
type work struct {
	body []byte
	req  request
	out  []byte
}

// ServeHTTP answers Publish and PublishBatch on the lean path and passes
// every other call to the snstest double. (The listening Server has its
// own HTTP/1.1 loop, conn.go; ServeHTTP serves in-process clients.)
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wk := s.pool.Get().(*work)
	defer s.pool.Put(wk)
	body, err := readBody(r, wk.body[:0])
	wk.body = body[:0]
	if err != nil {
		writeXML(w, s.errorAnswer(wk, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error(), true}), wk.out)
		return
	}
	if status, ok := s.answer(wk, body); ok {
		writeXML(w, status, wk.out)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.delegate(w, r, body)
}

// answer serves a publish call's body on the lean path, leaving the answer
// in wk.out; ok is false for a call the double serves (every call in
// Double mode, and the actions other than Publish and PublishBatch).
func (s *Server) answer(wk *work, body []byte) (status int, ok bool) {
	action := formAction(body)
	if action != "Publish" && action != "PublishBatch" {
		return 0, false
	}
	s.requests.Add(1)
	if s.opts.Double {
		return 0, false
	}
	if err := wk.req.parse(body); err != nil {
		return s.fail(wk, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error(), true}), true
	}
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	if action == "Publish" {
		return s.publish(wk), true
	}
	return s.publishBatch(wk), true
}

// delegate passes a call to the double: publish calls in Double mode with
// their throttles and refusals counted from its answer, the others as they
// are.
func (s *Server) delegate(w http.ResponseWriter, r *http.Request, body []byte) {
	if !s.opts.Double {
		s.double.ServeHTTP(w, r)
		return
	}
	if a := formAction(body); a != "Publish" && a != "PublishBatch" {
		s.double.ServeHTTP(w, r)
		return
	}
	s.trackDoubleThrottles(w, r)
}

// readBody reads r's body into buf (grown as needed).
func readBody(r *http.Request, buf []byte) ([]byte, error) {
	defer r.Body.Close()
	if n := r.ContentLength; n >= 0 {
		if n > 8<<20 {
			return buf, fmt.Errorf("body of %d bytes", n)
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, 0, n)
		}
		buf = buf[:n]
		_, err := io.ReadFull(r.Body, buf)
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// formAction finds the Action value in a form body.
func formAction(body []byte) string {
	for len(body) > 0 {
		pair := body
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if len(pair) > 7 && string(pair[:7]) == "Action=" {
			return string(pair[7:])
		}
	}
	return ""
}

// SortedRefusals renders Stats.Refused as "code n, code n" in code order.
func SortedRefusals(m map[string]int64) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", k, m[k])
	}
	return out
}

// trackDoubleThrottles passes a publish call to the double and counts, from
// its answer, the messages it throttled and refused (Double mode).
func (s *Server) trackDoubleThrottles(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{header: w.Header()}
	s.double.ServeHTTP(rec, r)
	out := rec.body.Bytes()
	for {
		i := bytes.Index(out, []byte("<Code>"))
		if i < 0 {
			break
		}
		out = out[i+len("<Code>"):]
		code, rest, _ := bytes.Cut(out, []byte("</Code>"))
		if string(code) == "Throttled" {
			s.throttled.Add(1)
		} else {
			s.refuse(string(code), 1)
		}
		out = rest
	}
	w.WriteHeader(cmp.Or(rec.status, http.StatusOK))
	w.Write(rec.body.Bytes()) //nolint:errcheck // the client went away
}

// recorder holds an answer of the double until it has been read.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }
