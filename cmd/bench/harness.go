package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// options are the harness's flags.
type options struct {
	events       int64
	reps         int
	seed         int64
	orgs         int
	partitions   int
	brokers      string
	topicPrefix  string
	fresh        bool
	contenders   []string
	sinkLatency  time.Duration
	rates        []int
	rateDuration time.Duration
	warmup       time.Duration
	inflight     int
	schemas      string
	out          string
	plot         string
	bridgeBin    string
	runTimeout   time.Duration
	perfDir      string
	fetchMaxWait time.Duration
	cpuprofile   string
	saveResults  string
	fromResults  string
	args         []string
}

// Contender names, in report order.
const (
	cBridge     = "bridge"
	cBridgeSlow = "bridge-slow-sink"
	cRawConsume = "raw-consume"
	cRawPublish = "raw-publish"
	cPerMessage = "per-message"
	cPipeline   = "pipeline"
)

// slowSuffix makes any contender but raw-consume run against a sink that
// answers after -sink-latency.
const slowSuffix = "-slow-sink"

// defaultContenders run unless -contenders says otherwise; allContenders
// adds the in-process pipeline (a diagnostic) and the other slow-sink
// variants, in report order.
var (
	defaultContenders = []string{cBridge, cBridgeSlow, cRawConsume, cRawPublish, cPerMessage}
	allContenders     = []string{cBridge, cBridgeSlow, cRawConsume, cRawPublish, cRawPublish + slowSuffix,
		cPerMessage, cPerMessage + slowSuffix, cPipeline, cPipeline + slowSuffix}
)

// base is the contender without its slow-sink suffix.
func base(c string) string { return strings.TrimSuffix(c, slowSuffix) }

func isBridge(c string) bool { return base(c) == cBridge }

const harnessUsage = `Usage: go run ./cmd/bench [flags]

Prepares a backlog of generated Thena events in Kafka (reused across
contenders, repetitions and invocations: the topic is named after -seed and
-events and is reused when it already holds exactly that many records), serves
a fast SNS double on 127.0.0.1, and runs each contender as its own child
process against the same backlog and sink:

  bridge            the real bridge binary (bridge run), sink answering at once
  bridge-slow-sink  the same with -sink-latency added to every SNS answer
  raw-consume       franz-go group consumer with commits, doing nothing else
  raw-publish       PublishBatch of ready-made messages, -inflight calls per topic
  per-message       consume, decode, map, one Publish per event, -inflight per topic
  pipeline          (diagnostic, not run by default) the bridge's own packages
                    in a bench child, for -cpuprofile and -fetch-max-wait

then measures the bridge's end-to-end latency at fixed offered rates, writes
the report (-out) and plot (-plot), and prints each target as PASS or MISS.
raw-publish, per-message and pipeline also run against the slow sink when
named with the suffix -slow-sink (not by default: per-message-slow-sink is
slow by design).
Progress goes to stderr. Run it from the repository root (it builds
./cmd/bridge and reads schemas/). Smoke run, about a minute:

  go run ./cmd/bench -events 20000 -reps 1 -rates ''

(add -out '' -plot '' to leave docs/benchmarks.md and its plot as they are).

Flags:
`

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, harnessUsage)
		fs.PrintDefaults()
	}
	fs.Int64Var(&o.events, "events", 1000000, "events in the backlog; each throughput run drains all of them")
	fs.IntVar(&o.reps, "reps", 3, "repetitions of every contender (the report gives medians and min-max)")
	fs.Int64Var(&o.seed, "seed", 1, "event generator seed")
	fs.IntVar(&o.orgs, "orgs", 10000, "organizations the events are spread over (the Kafka keys)")
	fs.IntVar(&o.partitions, "partitions", 12, "partitions of the backlog and live topics")
	fs.StringVar(&o.brokers, "brokers", "127.0.0.1:9092", "Kafka seed brokers, comma-separated (scripts/stack.sh up starts one)")
	fs.StringVar(&o.topicPrefix, "topic-prefix", "bench.events", "backlog topic name prefix; the topic is <prefix>.s<seed>.n<events>")
	fs.BoolVar(&o.fresh, "fresh", false, "delete and rebuild the backlog topic even if it holds the right records")
	contenders := fs.String("contenders", strings.Join(defaultContenders, ","), "contenders to run, comma-separated; also 'pipeline', the bridge's packages in the bench process (diagnostic: -fetch-max-wait, -cpuprofile), and raw-publish, per-message or pipeline with the suffix -slow-sink")
	fs.DurationVar(&o.sinkLatency, "sink-latency", 15*time.Millisecond, "latency the SNS double adds to every answer for bridge-slow-sink")
	rates := fs.String("rates", "5000,20000", "offered rates (events/s) for the bridge's end-to-end latency runs, comma-separated; empty skips them")
	fs.DurationVar(&o.rateDuration, "rate-duration", 20*time.Second, "how long each latency run offers events")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "latencies of events produced in the first part of a latency run are not counted")
	fs.IntVar(&o.inflight, "inflight", sns.DefaultMaxInflightBatches, "SNS calls in flight per topic: the bridge's sns.max_inflight_batches and the reference contenders' concurrency")
	fs.StringVar(&o.schemas, "schemas", "schemas", "directory of .avsc files (the bridge runs with schemas.local_dir set to it)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "report to write; empty prints it to stdout only")
	fs.StringVar(&o.plot, "plot", "docs/benchmarks.png", "PNG plot of throughput and CPU per event; empty skips it")
	fs.StringVar(&o.bridgeBin, "bridge", "", "bridge binary to run (default: go build ./cmd/bridge into a temporary directory)")
	fs.DurationVar(&o.runTimeout, "run-timeout", 15*time.Minute, "longest one contender run may take")
	fs.StringVar(&o.perfDir, "perf", "", "if set, record each first-repetition bridge run with 'perf record -g' into this directory (distorts that run's figures)")
	fs.DurationVar(&o.fetchMaxWait, "fetch-max-wait", 0, "pipeline contender only: franz-go FetchMaxWait for the engine (0 keeps the engine's, franz-go's 5s)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "pipeline contender only: write its CPU profile to this file (last repetition wins)")
	fs.StringVar(&o.saveResults, "save-results", "", "also write every run's raw figures to this JSON file")
	fs.StringVar(&o.fromResults, "from-results", "", "measure nothing: render the report and plot from a -save-results file (give the same -events, -reps and -sink-latency)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	for _, c := range strings.Split(*contenders, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		known := false
		for _, k := range allContenders {
			known = known || k == c
		}
		if !known {
			return o, fmt.Errorf("%w: -contenders: unknown %q (one of %s)", errUsage, c, strings.Join(allContenders, ", "))
		}
		o.contenders = append(o.contenders, c)
	}
	for _, r := range strings.Split(*rates, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		n, err := strconv.Atoi(r)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("%w: -rates: %q is not a positive number", errUsage, r)
		}
		o.rates = append(o.rates, n)
	}
	switch {
	case o.events <= 0:
		return o, fmt.Errorf("%w: -events must be positive", errUsage)
	case o.reps <= 0:
		return o, fmt.Errorf("%w: -reps must be positive", errUsage)
	case o.partitions <= 0 || o.orgs <= 0 || o.inflight <= 0:
		return o, fmt.Errorf("%w: -partitions, -orgs and -inflight must be positive", errUsage)
	}
	return o, nil
}

func (o options) backlogTopic() string {
	return fmt.Sprintf("%s.s%d.n%d", o.topicPrefix, o.seed, o.events)
}

func (o options) brokerList() []string { return strings.Split(o.brokers, ",") }

func runHarness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	schemas, err := filepath.Abs(o.schemas)
	if err != nil {
		return err
	}
	o.schemas = schemas
	if o.fromResults != "" {
		b, err := os.ReadFile(o.fromResults)
		if err != nil {
			return err
		}
		rep := &report{opts: o, machine: describeMachine(ctx), started: time.Now(), finished: time.Now(), loadBefore: loadAverage(), loadAfter: loadAverage()}
		var saved savedResults
		if err := json.Unmarshal(b, &saved); err != nil {
			return fmt.Errorf("%s: %w", o.fromResults, err)
		}
		rep.runs, rep.latency = saved.Runs, saved.Latency
		return rep.write(stdout, stderr)
	}
	tmp, err := os.MkdirTemp("", "bridge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if o.bridgeBin == "" {
		o.bridgeBin = filepath.Join(tmp, "bridge")
		logf(stderr, "building ./cmd/bridge")
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", o.bridgeBin, "./cmd/bridge")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building the bridge: %w", err)
		}
	}
	rep := &report{opts: o, started: time.Now(), loadBefore: loadAverage()}
	rep.machine = describeMachine(ctx)

	if err := ensureBacklog(ctx, o, stderr); err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	h := &harness{opts: o, tmp: tmp, self: self, stderr: stderr}
	for r := 1; r <= o.reps; r++ {
		for _, c := range o.contenders {
			res, err := h.drain(ctx, c, r)
			if err != nil {
				return fmt.Errorf("%s, repetition %d: %w", c, r, err)
			}
			rep.runs = append(rep.runs, res)
		}
	}
	for _, rate := range o.rates {
		for r := 1; r <= o.reps; r++ {
			res, err := h.latency(ctx, rate, r)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				// One failed latency run should not throw away the rest.
				logf(stderr, "latency at %d events/s, repetition %d: %v", rate, r, err)
				rep.notes = append(rep.notes, fmt.Sprintf("latency run at %d events/s, repetition %d failed: %v", rate, r, err))
				continue
			}
			rep.latency = append(rep.latency, res)
		}
	}
	rep.finished = time.Now()
	rep.loadAfter = loadAverage()
	if o.saveResults != "" {
		b, err := json.MarshalIndent(savedResults{Runs: rep.runs, Latency: rep.latency}, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.saveResults, b, 0o644); err != nil {
			return err
		}
	}
	return rep.write(stdout, stderr)
}

// savedResults is the -save-results file.
type savedResults struct {
	Runs    []runResult     `json:"runs"`
	Latency []latencyResult `json:"latency"`
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "bench %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

type harness struct {
	opts   options
	tmp    string
	self   string
	stderr io.Writer
	seq    int
}

// runResult is one contender's drain of the backlog.
type runResult struct {
	Contender string
	Rep       int
	Events    int64
	// Seconds is the time from the first to the last event out: first to
	// last message the sink accepted, or (raw-consume) first to last record
	// the worker consumed.
	Seconds float64
	// CPUSeconds is the child process's user+system time over its whole life.
	CPUSeconds float64
	MaxRSS     int64 // bytes
	Requests   int64 // SNS requests the sink answered
	// SinkCPUSeconds is the harness's own CPU time during the run, nearly
	// all of it the SNS double; MachineBusy the share of all cores busy
	// (any process) during the run, from /proc/stat.
	SinkCPUSeconds float64
	MachineBusy    float64
}

func (r runResult) rate() float64             { return float64(r.Events) / r.Seconds }
func (r runResult) cpuPerEvent() float64      { return r.CPUSeconds / float64(r.Events) }
func (r runResult) requestsPerEvent() float64 { return float64(r.Requests) / float64(r.Events) }

// childEnv is the environment of every child: no AWS settings of the
// caller's, static credentials for the local double.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "BRIDGE_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true")
}

func (h *harness) nextID() string {
	h.seq++
	return fmt.Sprintf("%d-%d-%d", os.Getpid(), time.Now().Unix(), h.seq)
}

// drain runs contender c once over the whole backlog.
func (h *harness) drain(ctx context.Context, c string, rep int) (runResult, error) {
	o := h.opts
	latency := time.Duration(0)
	if strings.HasSuffix(c, slowSuffix) {
		latency = o.sinkLatency
	}
	sk, err := newSink(latency)
	if err != nil {
		return runResult{}, err
	}
	defer sk.close()
	group := "bench-" + c + "-" + h.nextID()
	label := fmt.Sprintf("%s rep %d/%d", c, rep, o.reps)
	logf(h.stderr, "%s: start (%d events)", label, o.events)
	ctx, cancel := context.WithTimeout(ctx, o.runTimeout)
	defer cancel()

	var cmd *exec.Cmd
	var listen string
	switch base(c) {
	case cBridge:
		cmd, listen, err = h.bridgeCmd(ctx, sk, o.backlogTopic(), group)
		if err != nil {
			return runResult{}, err
		}
	default:
		cmd = h.workerCmd(ctx, map[string]string{
			cRawConsume: "raw-consume", cRawPublish: "raw-publish", cPerMessage: "per-message", cPipeline: "pipeline"}[base(c)], sk, o.backlogTopic(), group)
		if base(c) == cPipeline {
			cmd.Args = append(cmd.Args, "-fetch-max-wait", o.fetchMaxWait.String())
			if o.cpuprofile != "" {
				p, err := filepath.Abs(o.cpuprofile)
				if err != nil {
					return runResult{}, err
				}
				cmd.Args = append(cmd.Args, "-cpuprofile", p)
			}
		}
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = h.stderr
	cmd.Env = childEnv()
	selfBefore, busyBefore := selfCPU(), readCPUStat()
	if err := cmd.Start(); err != nil {
		return runResult{}, err
	}
	stopPerf := func() {}
	if rep == 1 && h.opts.perfDir != "" && isBridge(c) {
		stopPerf = h.perf(ctx, cmd.Process.Pid, c)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	// Progress, and for the bridge (which never exits by itself) the stop
	// signal once the sink has every event.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastAt, lastN, lastLog := time.Now(), int64(0), time.Now()
	var werr error
	var hwm int64
	signaled := false
loop:
	for {
		select {
		case werr = <-waited:
			break loop
		case now := <-tick.C:
			hwm = max(hwm, peakRSS(cmd.Process.Pid))
			n := sk.accepted.Load()
			if isBridge(c) {
				if now.Sub(lastLog) >= 2*time.Second {
					fmt.Fprintf(h.stderr, "  %s: %d/%d events at the sink, %.0f events/s%s\n", label, n, o.events, float64(n-lastN)/now.Sub(lastAt).Seconds(), gauges(listen))
					lastAt, lastN, lastLog = now, n, now
				}
				if n >= o.events && !signaled {
					stopPerf()
					if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
						return runResult{}, err
					}
					signaled = true
				}
			}
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-waited
			return runResult{}, fmt.Errorf("%s did not finish: %w (the sink has %d of %d events)", c, ctx.Err(), sk.accepted.Load(), o.events)
		}
	}
	stopPerf()
	if werr != nil {
		return runResult{}, fmt.Errorf("%s exited: %w", c, werr)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return runResult{}, errors.New("no rusage for the child process")
	}
	res := runResult{
		SinkCPUSeconds: selfCPU() - selfBefore,
		MachineBusy:    readCPUStat().busySince(busyBefore),
		Contender:      c,
		Rep:            rep,
		CPUSeconds:     tv(ru.Utime) + tv(ru.Stime),
		MaxRSS:         hwm,
		Requests:       sk.requests(),
	}
	var wr workerResult
	if !isBridge(c) {
		if err := json.Unmarshal(lastLine(out.Bytes()), &wr); err != nil {
			return runResult{}, fmt.Errorf("reading the worker's result %q: %w", out.String(), err)
		}
		res.MaxRSS = max(res.MaxRSS, wr.PeakRSS)
	}
	if c == cRawConsume {
		res.Events = wr.Events
		res.Seconds = time.Duration(wr.LastNano - wr.FirstNano).Seconds()
	} else {
		res.Events = sk.accepted.Load()
		res.Seconds = time.Duration(sk.last.Load() - sk.first.Load()).Seconds()
	}
	if res.Events < o.events {
		return res, fmt.Errorf("%s finished with %d of %d events", c, res.Events, o.events)
	}
	logf(h.stderr, "%s: %d events in %.2fs = %.0f events/s, %.2f CPU s (%.1f µs/event), peak RSS %.0f MiB, %.3f SNS requests/event; sink %.1f µs/event, machine %.0f%% busy",
		label, res.Events, res.Seconds, res.rate(), res.CPUSeconds, res.cpuPerEvent()*1e6, float64(res.MaxRSS)/(1<<20), res.requestsPerEvent(),
		res.SinkCPUSeconds/float64(res.Events)*1e6, res.MachineBusy*100)
	return res, nil
}

// peakRSS is the process's resident set high-water mark (VmHWM), in bytes,
// or 0 once it is gone. The rusage of a waited child is no good for this:
// Go starts children with vfork semantics, so the child's ru_maxrss counts
// the parent's resident memory from before exec.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func (h *harness) workerCmd(ctx context.Context, kind string, sk *sink, topic, group string) *exec.Cmd {
	o := h.opts
	return exec.CommandContext(ctx, h.self, "worker", kind,
		"-brokers", o.brokers, "-topic", topic, "-group", group,
		"-events", strconv.FormatInt(o.events, 10), "-seed", strconv.FormatInt(o.seed, 10),
		"-orgs", strconv.Itoa(o.orgs), "-schemas", o.schemas, "-sns-endpoint", sk.srv.URL,
		"-arn-events", sk.arnEvents, "-arn-custom", sk.arnCustom, "-inflight", strconv.Itoa(o.inflight))
}

// bridgeConfig is the bridge's configuration for a benchmark run: config.yaml's
// defaults except for the addresses, a fresh group, the local schemas and
// -inflight.
const bridgeConfig = `kafka:
  brokers: [%s]
  group_id: %q
  topics: [%q]
  reset_offset: earliest
  client_id: bench-bridge
schemas:
  local_dir: %q
sns:
  region: us-east-1
  endpoint: %q
  max_inflight_batches: %d
routing:
  routes:
    - pattern: "custom-object:*"
      topic_arn: %q
    - pattern: "*"
      topic_arn: %q
http:
  listen: %q
log:
  level: warn
`

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (h *harness) bridgeCmd(ctx context.Context, sk *sink, topic, group string) (*exec.Cmd, string, error) {
	o := h.opts
	listen, err := freePort()
	if err != nil {
		return nil, "", err
	}
	var brokers []string
	for _, b := range o.brokerList() {
		brokers = append(brokers, strconv.Quote(b))
	}
	cfg := fmt.Sprintf(bridgeConfig, strings.Join(brokers, ", "), group, topic, o.schemas, sk.srv.URL, o.inflight,
		sk.arnCustom, sk.arnEvents, listen)
	path := filepath.Join(h.tmp, group+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, o.bridgeBin, "run", "-config", path)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 45 * time.Second
	return cmd, listen, nil
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

// waitReady polls the bridge's /readyz until it answers 200.
func waitReady(ctx context.Context, listen string, exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("the bridge exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get("http://" + listen + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("the bridge was not ready within 60s")
}

// progressGauges are the bridge's work-in-progress metrics shown in the
// progress lines: they tell where events wait.
var progressGauges = []string{"bridge_inflight_events", "bridge_sns_inflight_entries", "bridge_parked_keys", "bridge_paused_partitions"}

// gauges reads progressGauges from the bridge's /metrics, briefly.
func gauges(listen string) string {
	c := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := c.Get("http://" + listen + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && !strings.HasPrefix(name, "#") {
			vals[name] = v
		}
	}
	var b strings.Builder
	for _, g := range progressGauges {
		if v, ok := vals[g]; ok {
			fmt.Fprintf(&b, ", %s %s", strings.TrimPrefix(g, "bridge_"), v)
		}
	}
	return b.String()
}

// selfCPU is this process's user+system CPU time so far, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

// cpuStat is the first line of /proc/stat: jiffies busy and in total, over
// all cores.
type cpuStat struct{ busy, total uint64 }

func readCPUStat() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	f := strings.Fields(firstLine(b)) // cpu user nice system idle iowait irq softirq steal ...
	var st cpuStat
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i >= 8 { // guest time is already in user
			break
		}
		st.total += n
		if i != 3 && i != 4 { // idle, iowait
			st.busy += n
		}
	}
	return st
}

// busySince is the share of all cores that was busy since before.
func (s cpuStat) busySince(before cpuStat) float64 {
	if s.total <= before.total {
		return 0
	}
	return float64(s.busy-before.busy) / float64(s.total-before.total)
}
