package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/benchsink"
	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
)

// drain runs contender c once over the whole backlog.
func (h *harness) drain(ctx context.Context, c contender, rep int) (runResult, error) {
	o := h.opts
	sk, err := h.newSink(c)
	if err != nil {
		return runResult{}, err
	}
	defer sk.Close()
	name := c.String()
	group := "bench-" + name + "-" + h.nextID()
	label := fmt.Sprintf("%s rep %d/%d", name, rep, o.reps)
	logf(h.stderr, "%s: start (%d events)", label, o.events)
	ctx, cancel := context.WithTimeout(ctx, o.runTimeout)
	defer cancel()

	var (
		proc   *bridgeproc.Child
		bridge *bridgeproc.Bridge
		out    bytes.Buffer
	)
	selfBefore, busyBefore := selfCPU(), readCPUStat()
	switch {
	case c.bridgeLike():
		bridge, err = h.startBridge(ctx, c, sk, h.topic, h.shape.Framing, group, nil)
		if err != nil {
			return runResult{}, err
		}
		proc = bridge.Child
	case c.kind == cBento:
		if proc, err = h.startBento(ctx, sk, h.topic, group); err != nil {
			return runResult{}, err
		}
	default:
		cmd := h.workerCmd(ctx, c.kind, sk, h.topic, group)
		if c.kind == cPipeline {
			cmd.Args = append(cmd.Args, "-fetch-max-wait", o.fetchMaxWait.String())
			if o.cpuprofile != "" {
				p, err := filepath.Abs(o.cpuprofile)
				if err != nil {
					return runResult{}, err
				}
				cmd.Args = append(cmd.Args, "-cpuprofile", p)
			}
		}
		cmd.Stdout, cmd.Stderr, cmd.Env = &out, h.stderr, bridgeproc.Env(os.Environ())
		if proc, err = bridgeproc.StartChild(cmd); err != nil {
			return runResult{}, err
		}
	}
	stopPerf := func() {}
	if rep == 1 && h.opts.perfDir != "" && c.bridgeLike() {
		stopPerf = h.perf(ctx, proc.Pid(), name)
	}

	// Progress, the storm, and for the services (which never exit by
	// themselves) the stop signal once the sink has every event.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastAt, lastN, lastLog := time.Now(), int64(0), time.Now()
	var werr error
	var hwm int64
	var storm *stormResult
	var orderBreaks float64
	signaled := false
loop:
	for {
		select {
		case <-proc.Done():
			werr = proc.Err()
			break loop
		case now := <-tick.C:
			hwm = max(hwm, peakRSS(proc.Pid()))
			n := sk.distinct()
			if c.push == vThrottle && storm == nil {
				if first := sk.Stats().First; !first.IsZero() && now.Sub(first) >= o.stormAfter {
					start, end := sk.StartStorm(o.stormShare, o.stormFor)
					storm = &stormResult{Share: o.stormShare, Start: start.UnixNano(), End: end.UnixNano()}
					logf(h.stderr, "%s: storm: %.0f %% of the entries throttled for %s", label, 100*o.stormShare, o.stormFor)
				}
			}
			if !c.service() {
				continue
			}
			if now.Sub(lastLog) >= 2*time.Second {
				g := ""
				if bridge != nil {
					g = gauges(bridge)
				}
				fmt.Fprintf(h.stderr, "  %s: %d/%d events at the sink, %.0f events/s%s\n", label, n, o.events, float64(n-lastN)/now.Sub(lastAt).Seconds(), g)
				lastAt, lastN, lastLog = now, n, now
			}
			if n >= o.events && !signaled {
				stopPerf()
				if bridge != nil {
					orderBreaks = finalMetric(bridge, "bridge_order_breaks_total")
				}
				if err := proc.Signal(syscall.SIGTERM); err != nil {
					return runResult{}, err
				}
				signaled = true
			}
		case <-ctx.Done():
			proc.Kill()
			return runResult{}, fmt.Errorf("%s did not finish: %w (the sink has %d of %d events; %s)", name, ctx.Err(), sk.distinct(), o.events, sinkNotes(sk.Stats()))
		}
	}
	stopPerf()
	if werr != nil {
		return runResult{}, fmt.Errorf("%s exited: %w", name, werr)
	}
	ru, ok := proc.State().SysUsage().(*syscall.Rusage)
	if !ok {
		return runResult{}, errors.New("no rusage for the child process")
	}
	st := sk.Stats()
	res := runResult{
		SinkCPUSeconds: selfCPU() - selfBefore,
		MachineBusy:    readCPUStat().busySince(busyBefore),
		Contender:      name,
		Rep:            rep,
		Shape:          h.shape,
		Sink:           map[string]string{sinkDouble: sinkDouble}[o.sinkKind],
		CPUSeconds:     tv(ru.Utime) + tv(ru.Stime),
		MaxRSS:         hwm,
		Requests:       st.Requests,
		Throttled:      st.Throttled,
		Duplicates:     st.Duplicates,
		OrderBreaks:    orderBreaks,
	}
	if len(st.Refused) > 0 {
		res.Refused = st.Refused
	}
	if c.push == vQuota {
		res.Quota = o.quota
	}
	var wr workerResult
	if !c.service() {
		if err := json.Unmarshal(lastLine(out.Bytes()), &wr); err != nil {
			return runResult{}, fmt.Errorf("reading the worker's result %q: %w", out.String(), err)
		}
		res.MaxRSS = max(res.MaxRSS, wr.PeakRSS)
	}
	switch c.kind {
	case cRawConsume:
		res.Events = wr.Events
		res.Seconds = time.Duration(wr.LastNano - wr.FirstNano).Seconds()
	case cRawPublish:
		// It cycles a pool of ready-made messages: copies by design.
		res.Events, res.Duplicates = st.Accepted, 0
		res.Seconds = st.Last.Sub(st.First).Seconds()
	default:
		res.Events = st.Accepted - st.Duplicates
		res.Seconds = st.Last.Sub(st.First).Seconds()
	}
	if storm != nil {
		measureStorm(storm, sk.Server, st.First, st.Last)
		res.Storm = storm
	}
	if res.Events < o.events {
		return res, fmt.Errorf("%s finished with %d of %d events (%s)", name, res.Events, o.events, sinkNotes(st))
	}
	logf(h.stderr, "%s: %d events in %.2fs = %.0f events/s, %.2f CPU s (%.1f µs/event), peak RSS %.0f MiB, %.3f SNS requests/event over %d connections; sink %.1f µs/event, machine %.0f%% busy%s%s",
		label, res.Events, res.Seconds, res.rate(), res.CPUSeconds, res.cpuPerEvent()*1e6, float64(res.MaxRSS)/(1<<20), res.requestsPerEvent(), st.Connections,
		res.SinkCPUSeconds/float64(res.Events)*1e6, res.MachineBusy*100, pushNotes(res), refusedNote(res))
	return res, nil
}

// sinkNotes says what the sink refused, throttled and saw twice.
func sinkNotes(st benchsink.Stats) string {
	s := fmt.Sprintf("%d throttled, %d duplicates", st.Throttled, st.Duplicates)
	if len(st.Refused) > 0 {
		s += ", refused as SNS would: " + benchsink.SortedRefusals(st.Refused)
	}
	return s
}

func refusedNote(r runResult) string {
	if len(r.Refused) == 0 {
		return ""
	}
	return "; THE SINK REFUSED " + benchsink.SortedRefusals(r.Refused)
}

func pushNotes(r runResult) string {
	s := ""
	if r.Throttled > 0 {
		s += fmt.Sprintf("; %d throttled (%.1f %% of the entries)", r.Throttled, 100*r.throttledShare())
	}
	if r.Duplicates > 0 {
		s += fmt.Sprintf("; %d duplicates", r.Duplicates)
	}
	if r.OrderBreaks > 0 {
		s += fmt.Sprintf("; %.0f order breaks", r.OrderBreaks)
	}
	if st := r.Storm; st != nil {
		s += fmt.Sprintf("; storm: %.0f events/s before, %.0f during, %s", st.Before, st.During, st.recoveryText())
	}
	return s
}

// finalMetric reads one metric's sum from the bridge's /metrics.
func finalMetric(b *bridgeproc.Bridge, name string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m, err := b.Metrics(ctx)
	if err != nil {
		return 0
	}
	return m.Sum(name)
}

// recoveryWindow is the window the rate after a storm is measured over, and
// recoveryShare the share of the rate before the storm that counts as full
// speed again.
const (
	recoveryWindow = 500 * time.Millisecond
	recoveryShare  = 0.9
	beforeWindow   = 5 * time.Second
)

// acceptances is what measureStorm needs of the sink.
type acceptances interface {
	Rate(from, to time.Time) float64
}

// measureStorm fills in st's rates and recovery from the sink's acceptances,
// the first and last of which were at first and last. The rate before the
// storm is over the beforeWindow before it, or since the first event.
func measureStorm(st *stormResult, sk acceptances, first, last time.Time) {
	start, end := time.Unix(0, st.Start), time.Unix(0, st.End)
	from := start.Add(-beforeWindow)
	if from.Before(first) {
		from = first
	}
	st.Before = sk.Rate(from, start)
	st.During = sk.Rate(start, end)
	st.Recovery = -1
	step := benchsink.SlotWidth()
	for t := end; !t.Add(recoveryWindow).After(last); t = t.Add(step) {
		if sk.Rate(t, t.Add(recoveryWindow)) >= recoveryShare*st.Before {
			st.Recovery = t.Sub(end).Seconds()
			return
		}
	}
}

func (st *stormResult) recoveryText() string {
	if st.Recovery < 0 {
		return "the backlog ran out before full speed was seen again"
	}
	return fmt.Sprintf("full speed %.1fs after it ended", st.Recovery)
}

func (h *harness) workerCmd(ctx context.Context, kind string, sk *sink, topic, group string) *exec.Cmd {
	o := h.opts
	cmd := exec.CommandContext(ctx, h.self, "worker", kind,
		"-brokers", o.brokers, "-topic", topic, "-group", group,
		"-events", strconv.FormatInt(o.events, 10), "-seed", strconv.FormatInt(o.seed, 10),
		"-orgs", strconv.Itoa(o.orgs), "-zipf", strconv.FormatFloat(o.zipf, 'g', -1, 64),
		"-schemas", o.schemas, "-sns-endpoint", sk.URL(),
		"-arn-events", sk.arnEvents, "-arn-custom", sk.arnCustom, "-inflight", strconv.Itoa(o.inflight))
	if h.shape.Framing == framingRegistry {
		cmd.Args = append(cmd.Args, "-registry", o.registry)
	}
	return cmd
}

// perf attaches 'perf record' to pid until the returned func is called.
func (h *harness) perf(ctx context.Context, pid int, label string) (stop func()) {
	if err := os.MkdirAll(h.opts.perfDir, 0o755); err != nil {
		logf(h.stderr, "perf: %v", err)
		return func() {}
	}
	out := filepath.Join(h.opts.perfDir, label+".perf.data")
	cmd := exec.CommandContext(ctx, "perf", "record", "-F", "499", "-g", "-o", out, "-p", strconv.Itoa(pid))
	cmd.Stdout, cmd.Stderr = h.stderr, h.stderr
	if err := cmd.Start(); err != nil {
		logf(h.stderr, "perf: %v", err)
		return func() {}
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		logf(h.stderr, "perf: wrote %s", out)
	}
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}
