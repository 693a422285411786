package sns_test

import (
	"context"

	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// netFixture is a Publisher with its defaults, over the client NewClient
// builds (its transport, timeouts and pool), to the double on an in-memory
// network: what a connection does (hangs, is refused, is redialled)
// happens as it would on a socket, in fake time.
type netFixture struct {
	srv     *snstest.Server
	net     *snstest.Network
	pub     *sns.Publisher
	topic   string
	reg     *prometheus.Registry
	logs    *lockedBuffer
	mu      sync.Mutex
	done    map[string]sns.Result
	firstOK time.Time // first success after since
	since   time.Time
}

func newNetFixture(t *testing.T, encoder string) *netFixture {
	t.Helper()
	f := &netFixture{srv: snstest.New(snstest.Options{}), reg: prometheus.NewRegistry(), logs: &lockedBuffer{},
		done: map[string]sns.Result{}}
	var err error
	if f.topic, err = f.srv.CreateTopic("events", nil); err != nil {
		t.Fatal(err)
	}
	f.net = f.srv.Network()
	client, err := sns.NewClientOver(t.Context(), sns.ClientConfig{Region: "us-east-1", Endpoint: "http://sns.test",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, f.net.DialContext)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sns.NewMetrics(f.reg)
	if err != nil {
		t.Fatal(err)
	}
	f.pub, err = sns.NewPublisher(client, sns.Config{Encoder: encoder}, sns.WithMetrics(m),
		sns.WithLogger(slog.New(slog.NewJSONHandler(f.logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.pub.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
		client.Options().HTTPClient.(interface{ CloseIdleConnections() }).CloseIdleConnections()
		f.net.Close()
	})
	return f
}

func (f *netFixture) publish(ctx context.Context, bodies ...string) {
	for _, b := range bodies {
		f.pub.Publish(ctx, &sns.Entry{TopicARN: f.topic, Body: b, EventType: "ticket:created",
			Attributes: []sns.Attribute{{Name: "event_name", Value: "ticket:created"}}}, func(r sns.Result) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if _, dup := f.done[b]; dup {
				panic("done twice for " + b)
			}
			f.done[b] = r
			if r.Err == nil && f.firstOK.IsZero() && !f.since.IsZero() {
				f.firstOK = time.Now()
			}
		})
	}
}

// recovered marks SNS answering again, from now.
func (f *netFixture) recovered() {
	f.mu.Lock()
	f.since = time.Now()
	f.mu.Unlock()
}

func (f *netFixture) doneCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.done)
}

// calls is how many PublishBatch calls the publisher made, failed ones
// included (whether or not they reached SNS).
func (f *netFixture) calls(t *testing.T) int {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "bridge_sns_publish_duration_seconds" {
			return int(mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func (f *netFixture) gauge(name string) float64 {
	return metricIn(f.reg, name, map[string]string{"topic_arn": f.topic})
}

// TestFirstDeliveryWithinSecondsOfSNSAnsweringAgain: SNS answers 503 to
// every call for 60 s, accepts connections and never answers for 30 s, or
// refuses connections for 30 s, while 100 entries wait. Throughout, the
// publisher sends a sick SNS at most about one call a second once its
// breaker has opened, SNS shows as unusable (Publisher.Unusable, the
// bridge_sns_unusable gauge, a log line); a hung call is abandoned after
// the client's ResponseTimeout (3 s), not the 5 s call timeout, and while a
// probe hangs another goes on a new connection every second. When SNS
// answers again, the first entry is published within 2 s and the rest
// right after (those of a probe still hanging once its response timeout
// passes), each once; SNS is usable again.
func TestFirstDeliveryWithinSecondsOfSNSAnsweringAgain(t *testing.T) {
	faults := []struct {
		name   string
		outage time.Duration
		start  func(f *netFixture) (end func())
	}{
		{"5xx", time.Minute, func(f *netFixture) func() {
			return f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Status: 503})
		}},
		{"hung", 30 * time.Second, func(f *netFixture) func() {
			return f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Latency: time.Hour})
		}},
		{"refused", 30 * time.Second, func(f *netFixture) func() {
			f.net.Refuse(true)
			return func() { f.net.Refuse(false) }
		}},
	}
	for _, fault := range faults {
		for _, enc := range encoders {
			t.Run(fault.name+"/"+enc, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					f := newNetFixture(t, enc)
					// A connection in the pool first, as in steady traffic.
					f.publish(t.Context(), "warm")
					time.Sleep(time.Second)
					if f.doneCount() != 1 {
						t.Fatalf("warm-up entry not done")
					}

					end := fault.start(f)
					start := time.Now()
					f.publish(t.Context(), bodies("e", 100)...)
					if fault.name == "hung" {
						time.Sleep(sns.DefaultResponseTimeout + 100*time.Millisecond)
						if n := metricIn(f.reg, "bridge_sns_errors_total", map[string]string{"class": "transient", "code": "Timeout"}); n == 0 {
							t.Errorf("no call timed out %v into SNS hanging; want them abandoned after %v",
								sns.DefaultResponseTimeout+100*time.Millisecond, sns.DefaultResponseTimeout)
						}
					}
					time.Sleep(5*time.Second - time.Since(start))
					if !f.pub.Unusable() || !f.pub.TopicUnusable(f.topic) || f.gauge("bridge_sns_unusable") != 1 {
						t.Errorf("5 s into the outage: Unusable %v, TopicUnusable %v, bridge_sns_unusable %v; want true, true, 1",
							f.pub.Unusable(), f.pub.TopicUnusable(f.topic), f.gauge("bridge_sns_unusable"))
					}
					// The cadence once the breaker has opened.
					from := f.calls(t)
					steady := fault.outage - 5*time.Second
					time.Sleep(steady)
					if n, most := f.calls(t)-from, int(steady/time.Second)+1; n > most {
						t.Errorf("%d calls in %v of outage after the first 5 s; want at most %d (one a second)", n, steady, most)
					}
					if n := f.doneCount(); n != 1 {
						t.Fatalf("%d entries done during the outage; want none but the warm-up", n-1)
					}

					end()
					f.recovered()
					recoveredAt := time.Now()
					time.Sleep(2 * time.Second)
					f.mu.Lock()
					first := f.firstOK
					f.mu.Unlock()
					if first.IsZero() {
						t.Fatalf("nothing published within 2 s of SNS answering again")
					}
					t.Logf("first delivery %v after SNS answered again", first.Sub(recoveredAt))
					// Probes still hanging when SNS recovered hold their entries
					// until the response timeout; the rest go at once.
					time.Sleep(sns.DefaultResponseTimeout + time.Second)
					for _, b := range bodies("e", 100) {
						f.mu.Lock()
						r, ok := f.done[b]
						f.mu.Unlock()
						if !ok || r.Err != nil {
							t.Errorf("%s: done %v with %v %v after SNS answered again; want published", b, ok, r.Err, time.Since(recoveredAt))
							break
						}
					}
					if got := f.srv.Count(f.topic); got != 101 {
						t.Errorf("SNS holds %d messages, want 101", got)
					}
					if f.pub.Unusable() || f.gauge("bridge_sns_unusable") != 0 {
						t.Errorf("after recovery: Unusable %v, bridge_sns_unusable %v; want false, 0", f.pub.Unusable(), f.gauge("bridge_sns_unusable"))
					}
					if len(f.logs.lines(t, "sns unusable")) == 0 || len(f.logs.lines(t, "sns usable again")) == 0 {
						t.Errorf("log has no line for SNS turning unusable and usable again:\n%s", f.logs)
					}
				})
			})
		}
	}
}

// TestUnusableIsAboutTheTrafficHeld: readiness asks Publisher.Unusable.
// SNS failing for topic A while topic B holds nothing (its partitions
// paused behind A, say) is unusable for everything the replica holds,
// although B's breaker never opened; B delivering makes it usable; a topic
// whose breaker stays closed but whose calls have not succeeded for
// CallTimeout is unusable too; holding nothing is never unusable.
func TestUnusableIsAboutTheTrafficHeld(t *testing.T) {
	withFixture(t, func(c *sns.Config) { c.CallTimeout = 3 * time.Second }, func(t *testing.T, f *fixture) {
		if f.pub.Unusable() {
			t.Fatal("Unusable with nothing held")
		}
		other, err := f.srv.CreateTopic("other", nil)
		if err != nil {
			t.Fatal(err)
		}
		end := f.srv.Inject(&snstest.Fault{Action: "PublishBatch", TopicARN: f.topic, Status: 503})
		f.publish(t.Context(), "a0", "a1")
		time.Sleep(2 * time.Second)
		if !f.pub.Unusable() || !f.pub.TopicUnusable(f.topic) || f.pub.TopicUnusable(other) {
			t.Errorf("A failing, B idle: Unusable %v, A %v, B %v; want true, true, false",
				f.pub.Unusable(), f.pub.TopicUnusable(f.topic), f.pub.TopicUnusable(other))
		}
		var wg sync.WaitGroup
		wg.Add(1)
		f.pub.Publish(t.Context(), &sns.Entry{TopicARN: other, Body: "b0"}, func(sns.Result) { wg.Done() })
		wg.Wait()
		if f.pub.Unusable() || !f.pub.TopicUnusable(f.topic) {
			t.Errorf("B just delivered: Unusable %v, A %v; want false, true", f.pub.Unusable(), f.pub.TopicUnusable(f.topic))
		}
		time.Sleep(4 * time.Second)
		if !f.pub.Unusable() {
			t.Errorf("B idle again for longer than CallTimeout, A still failing: Unusable false, want true")
		}
		end()
		time.Sleep(2 * time.Second)
		f.checkPublished(t, []string{"a0", "a1"})
		if f.pub.Unusable() || f.pub.TopicUnusable(f.topic) {
			t.Errorf("after recovery: Unusable %v, A %v; want false", f.pub.Unusable(), f.pub.TopicUnusable(f.topic))
		}
	})
	// A breaker that never opens: no success for CallTimeout while entries
	// wait is enough.
	withFixture(t, func(c *sns.Config) { c.CallTimeout = 3 * time.Second; c.BreakerFailures = 1000 }, func(t *testing.T, f *fixture) {
		end := f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Status: 503})
		defer end()
		f.publish(t.Context(), "e0")
		time.Sleep(2 * time.Second)
		if f.pub.Unusable() {
			t.Errorf("Unusable 2 s into failing calls with the breaker closed; want it to wait for CallTimeout (3 s)")
		}
		time.Sleep(2 * time.Second)
		if !f.pub.Unusable() || f.pub.BreakerState(f.topic) != gobreaker.StateClosed {
			t.Errorf("4 s of failing calls: Unusable %v, breaker %v; want true, closed", f.pub.Unusable(), f.pub.BreakerState(f.topic))
		}
	})
}
