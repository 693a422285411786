package sns_test

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// sinkAPI is an SNS without the wire: PublishBatch answers after a fixed
// delay, throttling entries (per entry, Throttled, SenderFault false) beyond
// a quota of entries/s (a token bucket) or at random with a probability.
// It counts what it accepted and throttled per second of (fake) time.
type sinkAPI struct {
	sns.API
	delay time.Duration
	start time.Time

	mu        sync.Mutex
	quota     *rate.Limiter // nil: no quota
	random    float64       // probability an entry is throttled
	accepted  []int         // by second since start
	throttled []int
}

func newSinkAPI(delay time.Duration) *sinkAPI { return &sinkAPI{delay: delay, start: time.Now()} }

func (s *sinkAPI) PublishBatch(ctx context.Context, in *awssns.PublishBatchInput, _ ...func(*awssns.Options)) (*awssns.PublishBatchOutput, error) {
	time.Sleep(s.delay)
	now := time.Now()
	sec := int(now.Sub(s.start) / time.Second)
	out := &awssns.PublishBatchOutput{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.accepted) <= sec {
		s.accepted = append(s.accepted, 0)
		s.throttled = append(s.throttled, 0)
	}
	for _, e := range in.PublishBatchRequestEntries {
		if (s.quota != nil && !s.quota.AllowN(now, 1)) || (s.random > 0 && rand.Float64() < s.random) {
			s.throttled[sec]++
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("Throttled"),
				Message: aws.String("Rate exceeded"), SenderFault: false})
			continue
		}
		s.accepted[sec]++
		out.Successful = append(out.Successful, types.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String("m")})
	}
	return out, nil
}

// window returns what the sink accepted and throttled in [from, to) seconds.
func (s *sinkAPI) window(from, to int) (accepted, throttled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := from; i < to && i < len(s.accepted); i++ {
		accepted += s.accepted[i]
		throttled += s.throttled[i]
	}
	return accepted, throttled
}

func (s *sinkAPI) set(quota *rate.Limiter, random float64) {
	s.mu.Lock()
	s.quota, s.random = quota, random
	s.mu.Unlock()
}

// rateRig is a Publisher on a sinkAPI fed by a producer that keeps it busy:
// as many runs of distinct keys as MaxQueuedEntries holds.
type rateRig struct {
	sink        *sinkAPI
	pub         *sns.Publisher
	reg         *prometheus.Registry
	topic       string
	mu          sync.Mutex
	transitions []string
}

func newRateRig(t *testing.T, sink *sinkAPI, inflight int) *rateRig {
	t.Helper()
	return newRateRigWith(t, sink, sns.Config{MaxInflightBatches: inflight, Linger: sns.NoLinger})
}

// newRateRigWith is newRateRig with the Publisher's whole Config.
func newRateRigWith(t *testing.T, sink *sinkAPI, cfg sns.Config) *rateRig {
	t.Helper()
	g := &rateRig{sink: sink, reg: prometheus.NewRegistry(), topic: "arn:aws:sns:us-east-1:123456789012:rated"}
	m, err := sns.NewMetrics(g.reg)
	if err != nil {
		t.Fatal(err)
	}
	g.pub, err = sns.NewPublisher(sink, cfg,
		sns.WithMetrics(m), sns.WithLogger(slog.New(slog.DiscardHandler)),
		sns.WithStateChange(func(_ string, from, to gobreaker.State) {
			g.mu.Lock()
			g.transitions = append(g.transitions, from.String()+">"+to.String())
			g.mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// feed publishes runs of 5 entries of ever new keys until ctx ends.
func (g *rateRig) feed(ctx context.Context) {
	body := `{"eventType":"ticket:created"}`
	for n := 0; ctx.Err() == nil; n++ {
		run := make([]*sns.Entry, 5)
		for i := range run {
			run[i] = &sns.Entry{TopicARN: g.topic, Body: body, Size: 100}
		}
		g.pub.PublishRun(ctx, "org-"+strconv.Itoa(n), run, func(int, sns.Result) {})
	}
}

func (g *rateRig) limit() float64 {
	mfs, _ := g.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "bridge_sns_send_rate_limit" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func (g *rateRig) stop(t *testing.T, cancel context.CancelFunc) {
	cancel()
	if err := g.pub.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.transitions) != 0 {
		t.Errorf("the breaker moved under throttling: %v", g.transitions)
	}
}

func TestSendRateConvergesUnderAQuota(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quota int
		burst int // how many entries over the rate the sink absorbs at once
	}{
		{"2000/s, 100ms burst", 2000, 200},
		{"3000/s, 1s burst", 3000, 3000},
		{"1000/s, no burst", 1000, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := float64(tc.quota)
				sink := newSinkAPI(15 * time.Millisecond)
				sink.set(rate.NewLimiter(rate.Limit(q), tc.burst), 0)
				g := newRateRig(t, sink, 16) // 16 calls of 10 in 15ms: ~10,000/s without a quota
				ctx, cancel := context.WithCancel(t.Context())
				go g.feed(ctx)
				time.Sleep(20 * time.Second)
				for s := 0; s < 20; s += 5 {
					a, th := sink.window(s, s+5)
					t.Logf("%2ds-%2ds: %d/s delivered, %.1f%% throttled", s, s+5, a/5, 100*float64(th)/float64(a+th))
				}
				a, th := sink.window(8, 20) // past the first cuts
				if got := float64(a) / 12; got < 0.9*q {
					t.Errorf("delivered %.0f entries/s under a quota of %.0f; want >= 90%%", got, q)
				}
				if share := float64(th) / float64(a+th); share > 0.10 {
					t.Errorf("%.1f%% of entries throttled; want <= 10%%", 100*share)
				}
				if l := g.limit(); l <= 0 || l > 2*q {
					t.Errorf("bridge_sns_send_rate_limit = %v under a quota of %.0f/s; want the limit near it", l, q)
				}
				g.stop(t, cancel)
			})
		})
	}
}

func TestSendRateRecoversAfterAThrottlingStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := newSinkAPI(15 * time.Millisecond)
		g := newRateRig(t, sink, 4) // 4 calls of 10 in 15ms: ~2,600/s
		ctx, cancel := context.WithCancel(t.Context())
		go g.feed(ctx)
		time.Sleep(5 * time.Second)
		before, _ := sink.window(2, 5)
		full := float64(before) / 3
		sink.set(nil, 0.5)
		time.Sleep(60 * time.Second)
		a, th := sink.window(5, 65)
		t.Logf("before: %.0f/s; storm: %d/s delivered, %d/s throttled, limit %.0f", full, a/60, th/60, g.limit())
		sink.set(nil, 0)
		end := time.Now()
		var back time.Duration
		for back = 0; back < 5*time.Second; back += 100 * time.Millisecond {
			time.Sleep(time.Until(end.Add(back)))
			if g.limit() == 0 {
				break
			}
		}
		time.Sleep(time.Until(end.Add(3 * time.Second)))
		after, _ := sink.window(66, 67)
		t.Logf("limit off %v after the storm; %d/s delivered 1-2s after it", back, after)
		if back > 2*time.Second {
			t.Errorf("the send rate was still limited %v after the storm ended; want unlimited within 2s", back)
		}
		if got := float64(after); got < 0.9*full {
			t.Errorf("%.0f entries/s delivered 1-2s after the storm, %.0f before it; want full speed", got, full)
		}
		g.stop(t, cancel)
	})
}

// A configured ceiling (sns.max_rate_per_topic) holds a topic to that many
// entries/s though SNS takes more, and is what the adaptive rate returns to
// after throttling, not "unlimited".
func TestSendRateCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ceiling = 500.0
		sink := newSinkAPI(15 * time.Millisecond)
		g := newRateRigWith(t, sink, sns.Config{MaxInflightBatches: 16, Linger: sns.NoLinger, MaxRatePerTopic: ceiling})
		ctx, cancel := context.WithCancel(t.Context())
		go g.feed(ctx)
		time.Sleep(10 * time.Second)
		a, _ := sink.window(1, 10)
		if got := float64(a) / 9; got < 0.9*ceiling || got > 1.05*ceiling {
			t.Errorf("delivered %.0f entries/s with a ceiling of %.0f and no quota; want the ceiling", got, ceiling)
		}
		if l := g.limit(); l != ceiling {
			t.Errorf("bridge_sns_send_rate_limit = %v, want the ceiling %v", l, ceiling)
		}

		// SNS throttles below the ceiling: the rate follows it down...
		sink.set(rate.NewLimiter(200, 20), 0)
		time.Sleep(20 * time.Second)
		a, th := sink.window(18, 30)
		if got := float64(a) / 12; got < 0.85*200 {
			t.Errorf("delivered %.0f entries/s under a quota of 200; want >= 85%%", got)
		}
		if share := float64(th) / float64(a+th); share > 0.10 {
			t.Errorf("%.1f%% of entries throttled under the quota; want <= 10%%", 100*share)
		}
		if l := g.limit(); l <= 0 || l >= ceiling {
			t.Errorf("limit %v under a quota of 200; want it cut below the ceiling", l)
		}
		// ...and back up to the ceiling, not past it, once SNS stops.
		sink.set(nil, 0)
		time.Sleep(10 * time.Second)
		a, _ = sink.window(33, 40)
		if got := float64(a) / 7; got > 1.05*ceiling || got < 0.9*ceiling {
			t.Errorf("delivered %.0f entries/s after the throttling; want the ceiling %.0f", got, ceiling)
		}
		if l := g.limit(); l != ceiling {
			t.Errorf("limit %v after the throttling, want the ceiling %v", l, ceiling)
		}
		g.stop(t, cancel)
	})
}

func TestMaxRatePerTopicMustBeARate(t *testing.T) {
	for _, r := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := (sns.Config{MaxRatePerTopic: r}).Validate(); err == nil || !strings.Contains(err.Error(), "MaxRatePerTopic") {
			t.Errorf("MaxRatePerTopic %v: %v, want an error naming it", r, err)
		}
	}
	if err := (sns.Config{MaxRatePerTopic: 50}).Validate(); err != nil {
		t.Errorf("MaxRatePerTopic 50: %v", err)
	}
}
