package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	zipf         float64
	partitions   int
	brokers      string
	topicPrefix  string
	fresh        bool
	contenders   []contender
	sinkKind     string
	sinkLatency  time.Duration
	quota        float64
	quotaBurst   int
	stormShare   float64
	stormFor     time.Duration
	stormAfter   time.Duration
	relaxedRoute string
	rates        []int
	rateDuration time.Duration
	warmup       time.Duration
	inflight     int
	schemas      string
	registry     string
	framing      string
	out          string
	plot         string
	skewPlot     string
	bridgeBin    string
	baseRev      string
	baseBin      string
	baseConfig   string
	bento        string
	runTimeout   time.Duration
	perfDir      string
	fetchMaxWait time.Duration
	cpuprofile   string
	sinkProfile  string
	saveResults  string
	fromResults  []string
	args         []string
}

// Sink kinds: the lean benchmark sink (internal/benchsink) or the count-only
// SNS double behind it (to compare what the sink itself costs).
const (
	sinkLean   = "lean"
	sinkDouble = "double"
)

const harnessUsage = `Usage: go run ./cmd/bench [flags]

Prepares a backlog of generated Thena events in Kafka, serves a cheap SNS
endpoint on 127.0.0.1 (internal/benchsink), and runs each contender as its
own child process against the same backlog and sink. The backlog topic is
named after everything that shapes it (-seed, -events, -orgs, -zipf,
-partitions, the schema id framing and a hash of the first generated
records) and reused while it holds exactly that many records.

Contenders are KIND[-fifo|-relaxed][-quota|-throttle][-slow-sink]:

  bridge       the real bridge binary (bridge run) with config.yaml's defaults
  base         the bridge built at -base-rev (or -base-bin), with that
               revision's config.yaml: the previous release, side by side
  bento        the Bento binary given by -bento: kafka_franz ->
               schema_registry_decode -> Bloblang envelope -> aws_sns
  raw-consume  franz-go group consumer with commits, doing nothing else
  raw-publish  PublishBatch of ready-made messages, -inflight calls per topic
  per-message  consume, decode, map, one Publish per event, -inflight per topic
  pipeline     (diagnostic) the bridge's own packages in a bench child,
               for -cpuprofile and -fetch-max-wait

  -fifo        (bridge, base) publish to .fifo topics of the sink
  -relaxed     (bridge) routes with -relaxed-route (ordering: relaxed)
  -quota       (bridge, base, bento, pipeline) the sink takes -quota
               messages/s per topic, the rest Throttled
  -throttle    (same) -storm-after the first event, -storm-share of the
               entries are Throttled for -storm-for; reports the time back to
               full speed after the storm
  -slow-sink   the sink answers after -sink-latency

With -base-rev/-base-bin every bridge contender (but relaxed) also runs as
base, and with -bento every standard-order bridge contender also runs as
bento, so both appear beside the bridge in every table. Base and Bento read
a backlog framed with schema registry ids (-registry; -framing auto picks
it for the whole run then).

After the drains it measures the bridge's end-to-end latency at fixed
offered rates, writes the report (-out) and plots (-plot, -skew-plot), and
prints each target as PASS or MISS. Several runs (other -orgs, -zipf) go
into one report with -save-results and then -from-results a.json,b.json.
Progress goes to stderr. Run it from the repository root (it builds
./cmd/bridge and reads schemas/ and config.yaml). Smoke run, about a minute:

  go run ./cmd/bench -events 20000 -reps 1 -rates '' -out '' -plot ''

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
	fs.Float64Var(&o.zipf, "zipf", 0, "if above 1, organizations are drawn from a Zipf(s) distribution over -orgs (the busiest gets the share the report prints) instead of uniformly")
	fs.IntVar(&o.partitions, "partitions", 12, "partitions of the backlog and live topics")
	fs.StringVar(&o.brokers, "brokers", "127.0.0.1:9092", "Kafka seed brokers, comma-separated (scripts/stack.sh up starts one)")
	fs.StringVar(&o.topicPrefix, "topic-prefix", "bench.events", "backlog topic name prefix; the rest of the name is the backlog's shape")
	fs.BoolVar(&o.fresh, "fresh", false, "delete and rebuild the backlog topic even if it holds the right records")
	contenders := fs.String("contenders", strings.Join(defaultContenders, ","), "contenders to run, comma-separated: KIND[-fifo|-relaxed][-quota|-throttle][-slow-sink] (see above)")
	fs.StringVar(&o.sinkKind, "sink", sinkLean, "SNS endpoint: lean (internal/benchsink) or double (the count-only sns/snstest double, to compare the sinks' own cost)")
	fs.DurationVar(&o.sinkLatency, "sink-latency", 15*time.Millisecond, "latency the sink adds to every answer for -slow-sink contenders")
	fs.Float64Var(&o.quota, "quota", 3000, "messages per second each topic takes for -quota contenders")
	fs.IntVar(&o.quotaBurst, "quota-burst", 0, "messages the quota lets through at once after a quiet spell (0: a tenth of a second's worth)")
	fs.Float64Var(&o.stormShare, "storm-share", 0.5, "share of the entries throttled during the storm of -throttle contenders")
	fs.DurationVar(&o.stormFor, "storm-for", 60*time.Second, "how long the storm of -throttle contenders lasts")
	fs.DurationVar(&o.stormAfter, "storm-after", 15*time.Second, "when the storm starts, after the sink's first accepted event (past the contender's start-up, so the rate before it is its full speed)")
	fs.StringVar(&o.relaxedRoute, "relaxed-route", "ordering=relaxed", "key=value added to each route for -relaxed contenders")
	rates := fs.String("rates", "5000,20000", "offered rates (events/s) for the bridge's end-to-end latency runs, comma-separated; empty skips them")
	fs.DurationVar(&o.rateDuration, "rate-duration", 20*time.Second, "how long each latency run offers events")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "latencies of events produced in the first part of a latency run are not counted")
	fs.IntVar(&o.inflight, "inflight", sns.DefaultMaxInflightBatches, "SNS calls in flight per topic: the bridges' sns.max_inflight_batches, Bento's max_in_flight and the reference contenders' concurrency")
	fs.StringVar(&o.schemas, "schemas", "schemas", "directory of .avsc files (the bridge runs with schemas.local_dir set to it)")
	fs.StringVar(&o.registry, "registry", cmp.Or(os.Getenv("BRIDGE_TEST_REGISTRY"), "http://127.0.0.1:8081/apis/ccompat/v7"), "Confluent-compatible schema registry for a registry-framed backlog (default $BRIDGE_TEST_REGISTRY)")
	fs.StringVar(&o.framing, "framing", "auto", "schema ids in the backlog: local, registry, or auto (registry when base or bento runs, so every contender reads the same backlog)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "report to write; empty prints it to stdout only")
	fs.StringVar(&o.plot, "plot", "docs/benchmarks.png", "PNG plot of throughput and CPU per event; empty skips it")
	fs.StringVar(&o.skewPlot, "skew-plot", "docs/benchmarks-skew.png", "PNG plot of events/s against the busiest organization's share, drawn when the results hold more than one backlog shape; empty skips it")
	fs.StringVar(&o.bridgeBin, "bridge", "", "bridge binary to run (default: go build ./cmd/bridge into a temporary directory)")
	fs.StringVar(&o.baseRev, "base-rev", "", "git revision whose ./cmd/bridge runs as the base contender (built from git archive into a temporary directory, configured from its own config.yaml)")
	fs.StringVar(&o.baseBin, "base-bin", "", "a ready base bridge binary instead of building -base-rev (with -base-config, or -base-rev for its config.yaml)")
	fs.StringVar(&o.baseConfig, "base-config", "", "config.yaml of the base bridge (default: -base-rev's)")
	fs.StringVar(&o.bento, "bento", "", "Bento binary: adds the bento contender (see docs/benchmarks.md for building it)")
	fs.DurationVar(&o.runTimeout, "run-timeout", 15*time.Minute, "longest one contender run may take")
	fs.StringVar(&o.perfDir, "perf", "", "if set, record each first-repetition bridge run with 'perf record -g' into this directory (distorts that run's figures)")
	fs.DurationVar(&o.fetchMaxWait, "fetch-max-wait", 0, "pipeline contender only: franz-go FetchMaxWait for the engine (0 keeps the engine's, franz-go's 5s)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "pipeline contender only: write its CPU profile to this file (last repetition wins)")
	fs.StringVar(&o.sinkProfile, "sink-cpuprofile", "", "write the harness's own CPU profile over the drains (nearly all of it the SNS sink) to this file")
	fs.StringVar(&o.saveResults, "save-results", "", "also write every run's raw figures to this JSON file")
	fromResults := fs.String("from-results", "", "measure nothing: render the report and plots from -save-results files, comma-separated (runs of several backlog shapes make one report)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	for _, f := range strings.Split(*fromResults, ",") {
		if f = strings.TrimSpace(f); f != "" {
			o.fromResults = append(o.fromResults, f)
		}
	}
	var cs []contender
	for _, name := range strings.Split(*contenders, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		c, err := parseContender(name)
		if err != nil {
			return o, fmt.Errorf("%w: -contenders: %v", errUsage, err)
		}
		cs = append(cs, c)
	}
	o.contenders = counterparts(cs, o.baseRev != "" || o.baseBin != "", o.bento != "")
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
	needsBase, needsBento := false, false
	for _, c := range o.contenders {
		needsBase = needsBase || c.kind == cBase
		needsBento = needsBento || c.kind == cBento
	}
	switch {
	case o.events <= 0:
		return o, fmt.Errorf("%w: -events must be positive", errUsage)
	case o.reps <= 0:
		return o, fmt.Errorf("%w: -reps must be positive", errUsage)
	case o.partitions <= 0 || o.orgs <= 0 || o.inflight <= 0:
		return o, fmt.Errorf("%w: -partitions, -orgs and -inflight must be positive", errUsage)
	case o.zipf != 0 && !(o.zipf > 1):
		return o, fmt.Errorf("%w: -zipf %v: want 0 (uniform) or above 1", errUsage, o.zipf)
	case o.sinkKind != sinkLean && o.sinkKind != sinkDouble:
		return o, fmt.Errorf("%w: -sink %q: want %s or %s", errUsage, o.sinkKind, sinkLean, sinkDouble)
	case o.quota <= 0 || o.quotaBurst < 0:
		return o, fmt.Errorf("%w: -quota must be positive and -quota-burst not negative", errUsage)
	case o.stormShare < 0 || o.stormShare > 1 || o.stormFor <= 0 || o.stormAfter < 0:
		return o, fmt.Errorf("%w: -storm-share must be in [0, 1], -storm-for positive, -storm-after not negative", errUsage)
	case o.framing != "auto" && o.framing != framingLocal && o.framing != framingRegistry:
		return o, fmt.Errorf("%w: -framing %q: want auto, %s or %s", errUsage, o.framing, framingLocal, framingRegistry)
	case needsBase && o.baseRev == "" && o.baseBin == "":
		return o, fmt.Errorf("%w: the base contender needs -base-rev or -base-bin", errUsage)
	case needsBento && o.bento == "":
		return o, fmt.Errorf("%w: the bento contender needs -bento BIN", errUsage)
	case needsBento && o.framing == framingLocal:
		return o, fmt.Errorf("%w: bento needs a registry-framed backlog (-framing registry or auto)", errUsage)
	}
	if o.framing == "auto" {
		o.framing = framingLocal
		if needsBase || needsBento {
			o.framing = framingRegistry
		}
	}
	return o, nil
}

// shape is the backlog this invocation drains.
func (o options) shape() shape {
	sh := shape{Seed: o.seed, Events: o.events, Orgs: o.orgs, Zipf: o.zipf, Partitions: o.partitions}
	if o.framing == framingRegistry {
		sh.Framing = framingRegistry
	}
	return sh
}

func (o options) brokerList() []string { return strings.Split(o.brokers, ",") }
