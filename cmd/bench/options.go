package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
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
