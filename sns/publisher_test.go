package sns_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// fixture is a Publisher wired to an in-process double, for tests that run
// inside a synctest bubble (no sockets, fake time).
type fixture struct {
	encoder string
	srv     *snstest.Server
	rec     *recorder
	logs    *lockedBuffer
	pub     *sns.Publisher
	topic   string
	metrics *sns.Metrics
	reg     *prometheus.Registry

	mu          sync.Mutex
	results     map[string]sns.Result // by body
	calls       map[string]int        // done calls by body
	transitions []string
}

func newFixture(t *testing.T, encoder string, mutate func(*sns.Config)) *fixture {
	t.Helper()
	f := &fixture{encoder: encoder, srv: snstest.New(snstest.Options{}), results: map[string]sns.Result{}, calls: map[string]int{},
		reg: prometheus.NewRegistry(), logs: &lockedBuffer{}}
	var err error
	f.topic, err = f.srv.CreateTopic("events", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.rec = &recorder{next: f.srv.HTTPClient().Transport}
	client := newSNSClient(t, &http.Client{Transport: f.rec})
	if f.metrics, err = sns.NewMetrics(f.reg); err != nil {
		t.Fatal(err)
	}
	cfg := sns.Config{
		Encoder:     encoder,
		BackoffBase: 100 * time.Millisecond,
		BackoffMax:  5 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	f.pub, err = sns.NewPublisher(client, cfg,
		sns.WithMetrics(f.metrics),
		sns.WithLogger(slog.New(slog.NewJSONHandler(f.logs, nil))),
		sns.WithStateChange(func(arn string, from, to gobreaker.State) {
			// The hook may ask for the state: the consumer does.
			_ = f.pub.BreakerState(arn)
			f.mu.Lock()
			f.transitions = append(f.transitions, from.String()+">"+to.String())
			f.mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.pub.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return f
}

// encoders are the values of sns.Config.Encoder: every fixture test runs
// with each, so that both paths to SNS behave alike.
var encoders = []string{sns.EncoderDirect, sns.EncoderSDK}

// withFixture runs body in a synctest bubble with a fresh fixture, once per
// encoder.
func withFixture(t *testing.T, mutate func(*sns.Config), body func(*testing.T, *fixture)) {
	for _, enc := range encoders {
		t.Run(enc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { body(t, newFixture(t, enc, mutate)) })
		})
	}
}

func (f *fixture) entry(body string) *sns.Entry {
	return &sns.Entry{TopicARN: f.topic, Body: body, EventType: "ticket:created",
		Attributes: []sns.Attribute{{Name: "event_name", Value: "ticket:created"}}}
}

func (f *fixture) publish(ctx context.Context, bodies ...string) {
	for _, b := range bodies {
		f.pub.Publish(ctx, f.entry(b), func(r sns.Result) {
			f.mu.Lock()
			f.results[b] = r
			f.calls[b]++
			f.mu.Unlock()
		})
	}
}

func (f *fixture) result(body string) (sns.Result, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.results[body], f.calls[body]
}

func (f *fixture) doneCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.results)
}

func (f *fixture) states() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.transitions)
}

func bodies(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// checkPublished asserts every body was done exactly once with a MessageID.
func (f *fixture) checkPublished(t *testing.T, bs []string) {
	t.Helper()
	for _, b := range bs {
		r, n := f.result(b)
		if n != 1 || r.Err != nil || r.MessageID == "" {
			t.Errorf("%s: done %d times, last %+v; want once with a MessageID", b, n, r)
		}
	}
}

func TestPublishBatchesEntriesPerTopic(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		bs := bodies("e", 25)
		f.publish(t.Context(), bs...)
		time.Sleep(time.Second)
		f.checkPublished(t, bs)
		if got := f.srv.Calls("PublishBatch"); got != 3 {
			t.Errorf("PublishBatch calls = %d, want 3 (10+10+5)", got)
		}
		if got := f.srv.Count(f.topic); got != 25 {
			t.Errorf("topic received %d, want 25", got)
		}
		if got := publishedCounter(f); got != 25 {
			t.Errorf("bridge_sns_published_total = %v, want 25", got)
		}
	})
}

// TestEncoderChoosesThePathToSNS: sns.encoder direct writes the requests
// itself; sdk, the operator's fallback, hands them to the SDK's client.
func TestEncoderChoosesThePathToSNS(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.publish(t.Context(), "e0")
		time.Sleep(time.Second)
		f.checkPublished(t, []string{"e0"})
		agents := f.rec.userAgents()
		if len(agents) != 1 {
			t.Fatalf("%d PublishBatch requests, want 1", len(agents))
		}
		direct := strings.HasPrefix(agents[0], "kafka-sns-bridge-wire")
		sdk := strings.Contains(agents[0], "aws-sdk-go-v2")
		if f.encoder == sns.EncoderDirect && (!direct || sdk) || f.encoder == sns.EncoderSDK && (direct || !sdk) {
			t.Errorf("encoder %s sent User-Agent %q", f.encoder, agents[0])
		}
	})
}

func TestPartialBatchFailureRetriesOnlyFailedEntries(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "InternalError", Times: 2,
			Entry: func(m snstest.Message) bool { return m.Body == "e3" || m.Body == "e7" }})
		bs := bodies("e", 10)
		f.publish(t.Context(), bs...)
		time.Sleep(time.Minute)
		f.checkPublished(t, bs)
		for _, b := range bs {
			r, _ := f.result(b)
			want := 1
			if b == "e3" || b == "e7" {
				want = 2 // the fault hits two entries in total: each failed once
			}
			if r.Attempts != want {
				t.Errorf("%s: Attempts = %d, want %d", b, r.Attempts, want)
			}
		}
		if got := f.srv.Count(f.topic); got != 10 {
			t.Errorf("topic received %d messages, want 10 (no duplicates)", got)
		}
		if st := f.states(); len(st) != 0 {
			t.Errorf("breaker changed state on a partial failure: %v", st)
		}
	})
}

func TestThrottlingIsRetriedNeverDeadLettered(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "Throttling", Status: 400, Times: 3})
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "Throttled", Times: 4,
			Entry: func(snstest.Message) bool { return true }})
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "KMSThrottling", Status: 400, Times: 1})
		bs := bodies("e", 8)
		f.publish(t.Context(), bs...)
		time.Sleep(5 * time.Minute)
		f.checkPublished(t, bs)
		if n := retriesCounter(f, "Throttling"); n != 8*3 {
			t.Errorf("retries{code=Throttling} = %v, want 24", n)
		}
	})
}

func TestOutageOpensBreakerHoldsEntriesAndRecovers(t *testing.T) {
	breaker := func(c *sns.Config) {
		c.BreakerFailures = 3
		c.BreakerOpenTimeout = 10 * time.Second
	}
	withFixture(t, breaker, func(t *testing.T, f *fixture) {
		end := f.srv.Outage()
		bs := bodies("e", 5)
		f.publish(t.Context(), bs...)
		time.Sleep(time.Minute)
		if n := f.doneCount(); n != 0 {
			t.Fatalf("%d entries done during the outage; want none (transient errors are retried)", n)
		}
		if got := f.pub.BreakerState(f.topic); got == gobreaker.StateClosed {
			t.Errorf("breaker %v during the outage, want open or half-open", got)
		}
		if st := f.states(); len(st) == 0 || st[0] != "closed>open" {
			t.Errorf("state changes %v; want closed>open first", st)
		}
		if g := breakerGauge(f); g == 0 {
			t.Errorf("bridge_sns_breaker_state = %v during the outage, want non-zero", g)
		}
		callsDuringOutage := f.srv.Calls("PublishBatch")

		end()
		time.Sleep(time.Minute)
		f.checkPublished(t, bs)
		if got := f.pub.BreakerState(f.topic); got != gobreaker.StateClosed {
			t.Errorf("breaker %v after recovery, want closed", got)
		}
		st := f.states()
		if len(st) < 3 || st[len(st)-2] != "open>half-open" || st[len(st)-1] != "half-open>closed" {
			t.Errorf("state changes %v; want to end open>half-open, half-open>closed", st)
		}
		// While open the breaker keeps calls away: one probe per open period, not
		// one per entry per backoff.
		if callsDuringOutage > 3+int(time.Minute/(10*time.Second))+1 {
			t.Errorf("%d calls during a one-minute outage; the breaker should have held them", callsDuringOutage)
		}
	})
}

func TestSystemicErrorOpensBreakerAtOnce(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		remove := f.srv.Inject(&snstest.Fault{TopicARN: f.topic, Code: "AuthorizationError"})
		f.publish(t.Context(), "e0")
		time.Sleep(time.Second)
		if st := f.states(); !slices.Equal(st, []string{"closed>open"}) {
			t.Errorf("state changes %v after one AuthorizationError, want [closed>open]", st)
		}
		if _, n := f.result("e0"); n != 0 {
			t.Errorf("entry done on a systemic error; want it held")
		}
		if n := errorsCounter(f, "systemic", "AuthorizationError"); n != 1 {
			t.Errorf("errors{systemic,AuthorizationError} = %v, want 1", n)
		}
		remove()
		time.Sleep(2 * time.Minute)
		f.checkPublished(t, []string{"e0"})
	})
}

func TestPermanentEntryFailureIsReportedWithCode(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.FailEntries(func(m snstest.Message) bool { return m.Body == "bad" }, "InvalidParameter", true)
		f.srv.FailEntries(func(m snstest.Message) bool { return m.Body == "odd" }, "SomethingNew", true)
		f.publish(t.Context(), "good", "bad", "odd")
		time.Sleep(time.Second)
		f.checkPublished(t, []string{"good"})
		for body, code := range map[string]string{"bad": "InvalidParameter", "odd": "SomethingNew"} {
			r, n := f.result(body)
			var ee *sns.EntryError
			if n != 1 || !failure.IsPermanent(r.Err) || failure.CodeOf(r.Err) != code ||
				!errors.As(r.Err, &ee) || !ee.SenderFault || r.Attempts != 1 {
				t.Errorf("%s: done %d times with %+v; want once, Permanent, code %s, SenderFault", body, n, r, code)
			}
		}
		if st := f.states(); len(st) != 0 {
			t.Errorf("permanent errors moved the breaker: %v", st)
		}
	})
}

func TestWholeBatchRejectionDeadLettersOnlyTheGuiltyEntry(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "ParameterValueInvalid", SenderFault: true,
			WholeRequest: true, Entry: func(m snstest.Message) bool { return m.Body == "bad" }})
		bs := []string{"a", "b", "bad", "c"}
		f.publish(t.Context(), bs...)
		time.Sleep(time.Second)
		f.checkPublished(t, []string{"a", "b", "c"})
		r, _ := f.result("bad")
		if !failure.IsPermanent(r.Err) || failure.CodeOf(r.Err) != "ParameterValueInvalid" {
			t.Errorf("bad: %+v; want Permanent ParameterValueInvalid", r)
		}
	})
}

func TestUnknownServerFaultIsRetried(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "SomethingNew", SenderFault: false, Times: 1,
			Entry: func(snstest.Message) bool { return true }})
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Status: 503, Times: 1})
		f.publish(t.Context(), "e")
		time.Sleep(time.Minute)
		f.checkPublished(t, []string{"e"})
		if r, _ := f.result("e"); r.Attempts != 3 {
			t.Errorf("Attempts = %d, want 3", r.Attempts)
		}
	})
}

func TestContextEndAbandonsWaitingEntries(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		end := f.srv.Outage()
		defer end()
		ctx, cancel := context.WithCancel(t.Context())
		f.publish(ctx, "e0", "e1")
		time.Sleep(time.Minute)
		cancel()
		synctest.Wait()
		for _, b := range []string{"e0", "e1"} {
			r, n := f.result(b)
			if n != 1 || !errors.Is(r.Err, context.Canceled) {
				t.Errorf("%s: done %d times with %v; want once with context.Canceled", b, n, r.Err)
			}
		}
	})
}

func TestCloseDrainsThenAbandons(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		bs := bodies("e", 15)
		f.publish(t.Context(), bs...)
		if err := f.pub.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		f.checkPublished(t, bs)

		// After Close: refused as abandoned.
		f.publish(t.Context(), "late")
		synctest.Wait()
		if r, n := f.result("late"); n != 1 || !errors.Is(r.Err, sns.ErrClosed) {
			t.Errorf("late: done %d times with %v; want ErrClosed", n, r.Err)
		}
	})
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		end := f.srv.Outage()
		defer end()
		f.publish(t.Context(), "stuck")
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := f.pub.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close during an outage = %v, want DeadlineExceeded", err)
		}
		if r, n := f.result("stuck"); n != 1 || !errors.Is(r.Err, sns.ErrClosed) || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("stuck: done %d times with %v; want ErrClosed (a context.Canceled)", n, r.Err)
		}
	})
}

func TestPublishBlocksWhileQueueIsFull(t *testing.T) {
	withFixture(t, func(c *sns.Config) { c.MaxQueuedEntries = 2 }, func(t *testing.T, f *fixture) {
		f.srv.Inject(&snstest.Fault{Latency: time.Second})
		f.publish(t.Context(), "e0", "e1")
		returned := make(chan struct{})
		go func() {
			f.publish(t.Context(), "e2")
			close(returned)
		}()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("Publish returned while the queue was full")
		default:
		}
		time.Sleep(2 * time.Second)
		<-returned

		ctx, cancel := context.WithCancel(t.Context())
		f.publish(t.Context(), "e3", "e4")
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
		f.publish(ctx, "e5") // blocks until ctx ends
		synctest.Wait()
		if r, n := f.result("e5"); n != 1 || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("e5: done %d times with %v; want context.Canceled", n, r.Err)
		}
		time.Sleep(5 * time.Second)
		f.checkPublished(t, []string{"e0", "e1", "e2", "e3", "e4"})
	})
}

func TestOversizeEntryIsPermanentWithoutACall(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		e := f.entry("big")
		e.Size = sns.DefaultMaxMessageSize + 1
		var got sns.Result
		f.pub.Publish(t.Context(), e, func(r sns.Result) { got = r })
		synctest.Wait()
		if !failure.IsPermanent(got.Err) || failure.ReasonOf(got.Err) != failure.ReasonTooLarge {
			t.Errorf("result %+v; want Permanent too_large", got)
		}
		if n := f.srv.Calls("PublishBatch"); n != 0 {
			t.Errorf("%d PublishBatch calls for an oversize entry", n)
		}
	})
}

func TestBatchesRespectTheTopicSizeLimit(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		for i := range 4 {
			e := f.entry(fmt.Sprintf("e%d", i))
			e.Size = 100_000 // two fit in 262,144, three do not
			f.pub.Publish(t.Context(), e, func(sns.Result) {})
		}
		time.Sleep(time.Second)
		if n := f.srv.Calls("PublishBatch"); n != 2 {
			t.Errorf("PublishBatch calls = %d, want 2", n)
		}
	})
}

func TestFIFOEntriesCarryGroupAndDedupIDs(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		arn, err := f.srv.CreateTopic("events.fifo", map[string]string{"FifoTopic": "true"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Add(1)
			f.pub.Publish(t.Context(), &sns.Entry{TopicARN: arn, Body: fmt.Sprint(i), GroupID: "ORG", DedupID: fmt.Sprint("E", i)},
				func(r sns.Result) {
					if r.Err != nil {
						t.Errorf("entry %d: %v", i, r.Err)
					}
					wg.Done()
				})
		}
		wg.Wait()
		msgs := f.srv.Messages(arn)
		if len(msgs) != 3 {
			t.Fatalf("got %d messages", len(msgs))
		}
		for i, m := range msgs {
			if m.Body != fmt.Sprint(i) || m.GroupID != "ORG" || m.DedupID != fmt.Sprint("E", i) || m.SequenceNumber == "" {
				t.Errorf("message %d = %+v", i, m)
			}
		}
	})
}

func TestEntryInFlightWhenContextEndsReportsTheCallOutcome(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.Inject(&snstest.Fault{Latency: time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		f.publish(ctx, "e0")
		time.Sleep(100 * time.Millisecond) // the call is on the wire
		cancel()
		time.Sleep(2 * time.Second)
		// SNS took it: reporting it abandoned would only cause a duplicate.
		f.checkPublished(t, []string{"e0"})
	})
}

func TestTopicsValidatesAtStartUp(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		big, err := f.srv.CreateTopic("big", map[string]string{"MaximumMessageSize": "1048576"})
		if err != nil {
			t.Fatal(err)
		}
		forbidden, _ := f.srv.CreateTopic("forbidden", nil)
		f.srv.Inject(&snstest.Fault{Action: "GetTopicAttributes", TopicARN: forbidden, Code: "AuthorizationError"})
		client := newDoubleClient(t, f.srv)

		infos, err := sns.Topics(t.Context(), client, []string{f.topic, big})
		if err != nil {
			t.Fatal(err)
		}
		if infos[big].MaxMessageSize != 1048576 || infos[f.topic].MaxMessageSize != sns.DefaultMaxMessageSize {
			t.Errorf("Topics = %+v", infos)
		}
		_, err = sns.Topics(t.Context(), client, []string{f.topic, forbidden, "arn:aws:sns:us-east-1:123456789012:gone"})
		if !errors.Is(err, sns.ErrTopicUnusable) || !strings.Contains(err.Error(), forbidden) ||
			!strings.Contains(err.Error(), "gone") || !strings.Contains(err.Error(), "AuthorizationError") {
			t.Errorf("Topics with a forbidden and a missing topic = %v; want both named", err)
		}
	})
}

func newDoubleClient(t testing.TB, srv *snstest.Server) *awssns.Client {
	t.Helper()
	return newSNSClient(t, srv.HTTPClient())
}

// newSNSClient is the SDK client NewClient builds, over hc (the double's
// in-process transport, possibly wrapped).
func newSNSClient(t testing.TB, hc *http.Client) *awssns.Client {
	t.Helper()
	client, err := sns.NewClient(t.Context(), sns.ClientConfig{
		Region: "us-east-1", Endpoint: "http://snstest.invalid",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestTopicSeriesExistFromStartUp: the per-topic gauges of every configured
// topic exist before its first event, so that rules over them see the
// topic from start-up.
func TestTopicSeriesExistFromStartUp(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := sns.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:sns:us-east-1:123456789012:quiet"
	p, err := sns.NewPublisher(newDoubleClient(t, snstest.New(snstest.Options{})), sns.Config{Topics: map[string]sns.TopicInfo{arn: {}}},
		sns.WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(t.Context())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "topic_arn" && l.GetValue() == arn {
					found[mf.GetName()] = true
				}
			}
		}
	}
	for _, name := range []string{"bridge_sns_breaker_state", "bridge_sns_unusable", "bridge_sns_send_rate_limit"} {
		if !found[name] {
			t.Errorf("%s has no series for %s before its first event", name, arn)
		}
	}
}
