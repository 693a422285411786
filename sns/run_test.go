package sns_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// recorder records the bodies of every PublishBatch request, in order, on
// its way to next: what went on the wire, whichever encoder wrote it.
type recorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	calls  [][]string
	agents []string // User-Agent of each PublishBatch request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	if form.Get("Action") == "PublishBatch" {
		var bodies []string
		for i := 1; form.Has(fmt.Sprintf("PublishBatchRequestEntries.member.%d.Id", i)); i++ {
			bodies = append(bodies, form.Get(fmt.Sprintf("PublishBatchRequestEntries.member.%d.Message", i)))
		}
		r.mu.Lock()
		r.calls = append(r.calls, bodies)
		r.agents = append(r.agents, req.Header.Get("User-Agent"))
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

// batches returns the bodies of each call so far.
func (r *recorder) batches() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// userAgents returns the User-Agent of each call so far.
func (r *recorder) userAgents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.agents)
}

// lockedBuffer is a log sink safe for the publisher's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON log lines whose msg contains msg.
func (l *lockedBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if s, _ := m["msg"].(string); strings.Contains(s, msg) {
			out = append(out, m)
		}
	}
	return out
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// publishRun publishes bodies as one run of key on topic (the fixture's
// when empty).
func (f *fixture) publishRun(ctx context.Context, topic, key string, bodies ...string) {
	var run []*sns.Entry
	for _, b := range bodies {
		e := f.entry(b)
		if topic != "" {
			e.TopicARN = topic
			if sns.IsFIFO(topic) {
				e.GroupID, e.DedupID = key, "dedup-"+b
			}
		}
		run = append(run, e)
	}
	f.pub.PublishRun(ctx, key, run, f.recordRun(bodies))
}

// recordRun is a PublishRun done func that records run[i]'s Result under
// bodies[i].
func (f *fixture) recordRun(bodies []string) func(int, sns.Result) {
	return func(i int, r sns.Result) {
		f.mu.Lock()
		f.results[bodies[i]] = r
		f.calls[bodies[i]]++
		f.mu.Unlock()
	}
}

// delivered returns the bodies topic accepted, in order.
func (f *fixture) delivered(topic string) []string {
	var out []string
	for _, m := range f.srv.Messages(topic) {
		out = append(out, m.Body)
	}
	return out
}

func orderBreaks(f *fixture) float64 {
	return metricValue(f, "bridge_order_breaks_total", map[string]string{"topic_arn": f.topic})
}

func TestRunOfTenRidesOneCallInOrder(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		t.Run(fmt.Sprintf("fifo=%v", fifo), func(t *testing.T) {
			withFixture(t, nil, func(t *testing.T, f *fixture) {
				topic := f.topic
				if fifo {
					var err error
					if topic, err = f.srv.CreateTopic("events.fifo", map[string]string{"FifoTopic": "true"}); err != nil {
						t.Fatal(err)
					}
				}
				bs := bodies("e", 10)
				f.publishRun(t.Context(), topic, "org-1", bs...)
				time.Sleep(time.Second)
				f.checkPublished(t, bs)
				if got := f.rec.batches(); len(got) != 1 || !slices.Equal(got[0], bs) {
					t.Errorf("calls %q; want one call carrying the run in order", got)
				}
				if got := f.delivered(topic); !slices.Equal(got, bs) {
					t.Errorf("topic received %q, want %q", got, bs)
				}
			})
		})
	}
}

func TestRunsOfSeveralKeysShareACall(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.publishRun(t.Context(), "", "org-a", "a0", "a1", "a2")
		f.publishRun(t.Context(), "", "org-b", "b0", "b1", "b2")
		f.publishRun(t.Context(), "", "org-c", "c0", "c1", "c2")
		time.Sleep(time.Second)
		all := []string{"a0", "a1", "a2", "b0", "b1", "b2", "c0", "c1", "c2"}
		f.checkPublished(t, all)
		if got := f.rec.batches(); len(got) != 1 || !slices.Equal(got[0], all) {
			t.Errorf("calls %q; want the three runs in one call, each whole and in order", got)
		}
	})
}

func TestRunIsNeverSplitAcrossCalls(t *testing.T) {
	tests := []struct {
		name string
		runs []int // entries per run
		size int   // of each entry, 0: small
		want []int // runs per call, in call order
	}{
		{"two runs of 4 fill a call a third does not fit", []int{4, 4, 4}, 0, []int{2, 1}},
		{"a run of 2 after a run of 9", []int{9, 2}, 0, []int{1, 1}},
		{"a run of 1 after a run of 9 fits", []int{9, 1}, 0, []int{2}},
		{"runs over the size limit together", []int{2, 2}, 70_000, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withFixture(t, nil, func(t *testing.T, f *fixture) {
				runOf := map[string]int{}
				var all []string
				for r, n := range tt.runs {
					var run []*sns.Entry
					var bs []string
					for i := range n {
						b := fmt.Sprintf("r%d-%d", r, i)
						e := f.entry(b)
						if tt.size > 0 {
							e.Size = tt.size
						}
						run = append(run, e)
						bs = append(bs, b)
						runOf[b] = r
					}
					all = append(all, bs...)
					f.pub.PublishRun(t.Context(), fmt.Sprint("org-", r), run, f.recordRun(bs))
				}
				time.Sleep(time.Second)
				f.checkPublished(t, all)
				var perCall []int
				seen := map[int]bool{}
				for _, call := range f.rec.batches() {
					runs := map[int]int{}
					for _, b := range call {
						runs[runOf[b]]++
					}
					for r, n := range runs {
						if n != tt.runs[r] || seen[r] {
							t.Errorf("call %q carries %d of run %d's %d entries", call, n, r, tt.runs[r])
						}
						seen[r] = true
					}
					perCall = append(perCall, len(runs))
				}
				if !slices.Equal(perCall, tt.want) {
					t.Errorf("runs per call %v, want %v (calls %q)", perCall, tt.want, f.rec.batches())
				}
			})
		})
	}
}

func TestFailedEntriesOfARunRetryInOrderAndCountOrderBreaks(t *testing.T) {
	tests := []struct {
		name      string
		code      string
		fail      []string // entries that fail once
		delivered []string // the topic's order
		retry     []string // the retry call
		breaks    float64
	}{
		{"middle entry", "InternalError", []string{"e2"}, []string{"e0", "e1", "e3", "e4", "e2"}, []string{"e2"}, 2},
		{"two middle entries", "InternalError", []string{"e2", "e3"}, []string{"e0", "e1", "e4", "e2", "e3"}, []string{"e2", "e3"}, 1},
		{"two apart", "ServiceUnavailable", []string{"e1", "e3"}, []string{"e0", "e2", "e4", "e1", "e3"}, []string{"e1", "e3"}, 2},
		{"first entry throttled", "Throttled", []string{"e0"}, []string{"e1", "e2", "e3", "e4", "e0"}, []string{"e0"}, 4},
		{"last entry: no break", "InternalError", []string{"e4"}, []string{"e0", "e1", "e2", "e3", "e4"}, []string{"e4"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withFixture(t, nil, func(t *testing.T, f *fixture) {
				f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: tt.code, Times: len(tt.fail),
					Entry: func(m snstest.Message) bool { return slices.Contains(tt.fail, m.Body) }})
				bs := bodies("e", 5)
				f.publishRun(t.Context(), "", "org-secret-42", bs...)
				time.Sleep(time.Minute)
				f.checkPublished(t, bs)
				if got := f.delivered(f.topic); !slices.Equal(got, tt.delivered) {
					t.Errorf("topic received %q, want %q", got, tt.delivered)
				}
				if calls := f.rec.batches(); len(calls) != 2 || !slices.Equal(calls[1], tt.retry) {
					t.Errorf("calls %q; want the run, then its failed entries as one run in order %q", calls, tt.retry)
				}
				if got := orderBreaks(f); got != tt.breaks {
					t.Errorf("bridge_order_breaks_total = %v, want %v", got, tt.breaks)
				}
				lines := f.logs.lines(t, "order break")
				if tt.breaks == 0 && len(lines) != 0 || tt.breaks > 0 && len(lines) != 1 {
					t.Errorf("%d order-break log lines, want %v", len(lines), tt.breaks > 0)
				}
				for _, l := range lines {
					if l["key_hash"] == "" || l["key_hash"] == nil || l["breaks"] != tt.breaks || l["topic_arn"] != f.topic {
						t.Errorf("order-break line %v; want the key's hash, the topic and %v breaks", l, tt.breaks)
					}
				}
				if strings.Contains(f.logs.String(), "org-secret-42") {
					t.Errorf("the raw ordering key reached the log: %s", f.logs.String())
				}
			})
		})
	}
}

func TestPermanentEntryInsideARunIsNoOrderBreak(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.FailEntries(func(m snstest.Message) bool { return m.Body == "bad" }, "InvalidParameter", true)
		f.publishRun(t.Context(), "", "org-1", "a", "bad", "c")
		time.Sleep(time.Second)
		f.checkPublished(t, []string{"a", "c"})
		if r, n := f.result("bad"); n != 1 || !failure.IsPermanent(r.Err) || failure.CodeOf(r.Err) != "InvalidParameter" {
			t.Errorf("bad: done %d times with %+v; want once, Permanent InvalidParameter", n, r)
		}
		if got := f.delivered(f.topic); !slices.Equal(got, []string{"a", "c"}) {
			t.Errorf("topic received %q", got)
		}
		if got := orderBreaks(f); got != 0 {
			t.Errorf("bridge_order_breaks_total = %v after a permanent rejection; want 0 (that event is never delivered)", got)
		}
		if n := len(f.rec.batches()); n != 1 {
			t.Errorf("%d calls, want 1", n)
		}
	})
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		// A transient failure, then a permanent one, then an accepted entry:
		// only the accepted one overtook the entry that will be retried.
		f.srv.FailEntries(func(m snstest.Message) bool { return m.Body == "bad" }, "InvalidParameter", true)
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "InternalError", Times: 1,
			Entry: func(m snstest.Message) bool { return m.Body == "late" }})
		f.publishRun(t.Context(), "", "org-1", "a", "late", "bad", "c")
		time.Sleep(time.Minute)
		f.checkPublished(t, []string{"a", "late", "c"})
		if got := orderBreaks(f); got != 1 {
			t.Errorf("bridge_order_breaks_total = %v, want 1 (c overtook late)", got)
		}
	})
}

func TestWholeCallRejectionNarrowsARunDownInOrder(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "ParameterValueInvalid", SenderFault: true,
			WholeRequest: true, Entry: func(m snstest.Message) bool { return m.Body == "e2" }})
		bs := bodies("e", 4)
		f.publishRun(t.Context(), "", "org-1", bs...)
		time.Sleep(time.Second)
		f.checkPublished(t, []string{"e0", "e1", "e3"})
		if r, _ := f.result("e2"); !failure.IsPermanent(r.Err) || failure.CodeOf(r.Err) != "ParameterValueInvalid" {
			t.Errorf("e2: %+v; want Permanent ParameterValueInvalid", r)
		}
		want := [][]string{bs, {"e0"}, {"e1"}, {"e2"}, {"e3"}}
		if got := f.rec.batches(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("calls %q; want the run refused, then its entries one at a time in order", got)
		}
		if got := f.delivered(f.topic); !slices.Equal(got, []string{"e0", "e1", "e3"}) {
			t.Errorf("topic received %q", got)
		}
	})
}

func TestRunAbandonedWhileRetrying(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		f.srv.FailEntries(func(m snstest.Message) bool { return m.Body != "e0" }, "InternalError", false)
		ctx, cancel := context.WithCancel(t.Context())
		bs := bodies("e", 4)
		f.publishRun(ctx, "", "org-1", bs...)
		time.Sleep(time.Minute)
		cancel()
		synctest.Wait()
		calls := len(f.rec.batches())
		f.checkPublished(t, []string{"e0"})
		for _, b := range bs[1:] {
			if r, n := f.result(b); n != 1 || !errors.Is(r.Err, context.Canceled) {
				t.Errorf("%s: done %d times with %v; want once with context.Canceled", b, n, r.Err)
			}
		}
		time.Sleep(time.Minute)
		if n := len(f.rec.batches()); n != calls {
			t.Errorf("%d calls after the run was abandoned", n-calls)
		}
	})
}

func TestRunOverTheSizeLimitGoesOneEntryAtATime(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		var run []*sns.Entry
		bs := bodies("e", 3)
		for _, b := range bs {
			e := f.entry(b)
			e.Size = 100_000 // 300,000 together: over the topic's 262,144
			run = append(run, e)
		}
		f.pub.PublishRun(t.Context(), "org-1", run, f.recordRun(bs))
		time.Sleep(time.Second)
		f.checkPublished(t, bs)
		want := [][]string{{"e0"}, {"e1"}, {"e2"}}
		if got := f.rec.batches(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
}

func TestRunLimit(t *testing.T) {
	withFixture(t, func(c *sns.Config) {
		c.Topics = map[string]sns.TopicInfo{"arn:aws:sns:us-east-1:123456789012:big": {MaxMessageSize: 1 << 20}}
	}, func(t *testing.T, f *fixture) {
		if n, b := f.pub.RunLimit(f.topic); n != 10 || b != sns.DefaultMaxMessageSize {
			t.Errorf("RunLimit = %d, %d; want 10, %d", n, b, sns.DefaultMaxMessageSize)
		}
		if _, b := f.pub.RunLimit("arn:aws:sns:us-east-1:123456789012:big"); b != 1<<20 {
			t.Errorf("RunLimit of a 1 MiB topic: %d bytes", b)
		}
		defer func() {
			if recover() == nil {
				t.Error("a run of 11 entries did not panic")
			}
		}()
		f.publishRun(t.Context(), "", "org-1", bodies("e", 11)...)
	})
	withFixture(t, func(c *sns.Config) { c.MaxQueuedEntries = 4 }, func(t *testing.T, f *fixture) {
		if n, _ := f.pub.RunLimit(f.topic); n != 4 {
			t.Errorf("RunLimit with MaxQueuedEntries 4 = %d entries; want 4", n)
		}
	})
}

func TestLingerZeroSendsAtOnce(t *testing.T) {
	for _, tt := range []struct {
		linger time.Duration
		want   time.Duration
	}{{0, sns.DefaultLinger}, {sns.NoLinger, 0}, {5 * time.Millisecond, 5 * time.Millisecond}} {
		t.Run(fmt.Sprint(tt.linger), func(t *testing.T) {
			withFixture(t, func(c *sns.Config) { c.Linger = tt.linger }, func(t *testing.T, f *fixture) {
				start := time.Now()
				took := make(chan time.Duration, 1)
				f.pub.PublishRun(t.Context(), "org-1", []*sns.Entry{f.entry("e")}, func(int, sns.Result) { took <- time.Since(start) })
				if got := <-took; got != tt.want {
					t.Errorf("a lone entry was published after %v; want %v", got, tt.want)
				}
			})
		})
	}
}

func TestThrottlingNeverOpensTheBreaker(t *testing.T) {
	withFixture(t, nil, func(t *testing.T, f *fixture) {
		// Every entry of 30 calls in a row throttled, then 30 calls refused
		// as a whole: five failed calls used to open the breaker for 15s.
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "Throttled", Times: 30 * 10,
			Entry: func(snstest.Message) bool { return true }})
		f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "Throttling", Status: 400, Times: 30})
		bs := bodies("e", 10)
		f.publishRun(t.Context(), "", "org-1", bs...)
		time.Sleep(time.Minute)
		f.checkPublished(t, bs)
		if st := f.states(); len(st) != 0 {
			t.Errorf("the breaker moved under throttling: %v", st)
		}
		if n := metricValue(f, "bridge_sns_throttled_total", map[string]string{"topic_arn": f.topic}); n != 30*10+30*10 {
			t.Errorf("bridge_sns_throttled_total = %v, want 600", n)
		}
	})
}

func TestFIFOGroupOverItsOwnLimitDoesNotSlowTheTopic(t *testing.T) {
	for _, tt := range []struct {
		name      string
		throttled []string // groups SNS throttles
		paced     bool
	}{
		{"one hot group", []string{"org-hot"}, false},
		{"two groups", []string{"org-hot", "org-1"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withFixture(t, nil, func(t *testing.T, f *fixture) {
				fifo, err := f.srv.CreateTopic("events.fifo", map[string]string{"FifoTopic": "true"})
				if err != nil {
					t.Fatal(err)
				}
				f.srv.Inject(&snstest.Fault{Action: "PublishBatch", Code: "Throttled", Times: 20,
					Entry: func(m snstest.Message) bool { return slices.Contains(tt.throttled, m.GroupID) }})
				hot := []string{"h0", "h1", "h2"}
				f.publishRun(t.Context(), fifo, "org-hot", hot...)

				f.publishRun(t.Context(), fifo, "org-1", "a0", "a1", "a2")
				f.publishRun(t.Context(), fifo, "org-2", "b0", "b1", "b2")
				time.Sleep(time.Minute)
				f.checkPublished(t, append(slices.Clone(hot), "a0", "a1", "a2", "b0", "b1", "b2"))
				// SNS judges each entry alone: a later entry of a group can go
				// through while an earlier one is throttled. Each entry that
				// arrived before an earlier one of its run is an order break.
				byGroup := map[string][]string{}
				for _, m := range f.srv.Messages(fifo) {
					byGroup[m.GroupID] = append(byGroup[m.GroupID], m.Body)
				}
				observed := 0
				for _, got := range byGroup {
					for i, b := range got {
						if slices.ContainsFunc(got[i+1:], func(later string) bool { return later < b }) {
							observed++
						}
					}
				}
				if n := metricValue(f, "bridge_order_breaks_total", map[string]string{"topic_arn": fifo}); n != float64(observed) {
					t.Errorf("groups arrived as %q (%d breaks); bridge_order_breaks_total = %v", byGroup, observed, n)
				}
				if paced := len(f.logs.lines(t, "pacing its sends")) > 0; paced != tt.paced {
					t.Errorf("topic paced: %v, want %v", paced, tt.paced)
				}
			})
		})
	}
}
