package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
)

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
	if len(o.fromResults) > 0 {
		rep := &report{opts: o, machine: describeMachine(ctx), loadBefore: loadAverage(), loadAfter: loadAverage()}
		for _, f := range o.fromResults {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			var saved savedResults
			if err := json.Unmarshal(b, &saved); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			rep.add(saved)
		}
		if rep.started.IsZero() {
			rep.started, rep.finished = time.Now(), time.Now()
		}
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
	h := &harness{opts: o, tmp: tmp, self: self, stderr: stderr}
	if err := h.prepare(ctx); err != nil {
		return err
	}
	rep := &report{opts: o, started: time.Now(), loadBefore: loadAverage(), baseLabel: h.baseLabel()}
	rep.machine = describeMachine(ctx)
	stopProfile, err := startProfile(o.sinkProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	for r := 1; r <= o.reps; r++ {
		for _, c := range o.contenders {
			res, err := h.drain(ctx, c, r)
			if err != nil {
				return fmt.Errorf("%s, repetition %d: %w", c, r, err)
			}
			rep.runs = append(rep.runs, res)
		}
	}
	stopProfile()
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
		b, err := json.MarshalIndent(rep.saved(), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.saveResults, b, 0o644); err != nil {
			return err
		}
	}
	return rep.write(stdout, stderr)
}

// prepare builds what the contenders run (the bridge, the base revision),
// reads the configuration templates and makes sure the backlog is there.
func (h *harness) prepare(ctx context.Context) error {
	o := h.opts
	if o.bridgeBin == "" {
		h.opts.bridgeBin = filepath.Join(h.tmp, "bridge")
		logf(h.stderr, "building ./cmd/bridge")
		if err := bridgeproc.Build(ctx, h.opts.bridgeBin); err != nil {
			return err
		}
	}
	var err error
	if h.currentConfig, err = readCurrentConfig(ctx); err != nil {
		return fmt.Errorf("reading config.yaml: %w", err)
	}
	if o.baseRev != "" || o.baseBin != "" {
		if h.base, err = prepareBase(ctx, o, h.tmp, h.stderr); err != nil {
			return err
		}
	}
	h.shape = o.shape()
	var reframe func([]byte) ([]byte, error)
	if h.shape.Framing == framingRegistry {
		ids, err := registryIDs(ctx, o.registry)
		if err != nil {
			return fmt.Errorf("a registry-framed backlog needs the schema registry (-registry %s; is the stack up?): %w", o.registry, err)
		}
		reframe = reframer(ids)
	}
	fp, err := fingerprint(h.shape, reframe)
	if err != nil {
		return err
	}
	h.topic = h.shape.topic(o.topicPrefix, fp)
	logf(h.stderr, "backlog: %s, %d events, %s", h.topic, h.shape.Events, h.shape.distribution())
	if err := ensureBacklog(ctx, o, h.shape, h.topic, reframe, h.stderr); err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	return nil
}

// startProfile starts a CPU profile of this process into path (none when
// path is empty); the returned func stops it and may be called twice.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { pprof.StopCPUProfile(); f.Close() }) }, nil
}

func (h *harness) baseLabel() string {
	if h.base == nil {
		return ""
	}
	return h.base.label
}

// savedResults is the -save-results file.
type savedResults struct {
	Runs    []runResult     `json:"runs"`
	Latency []latencyResult `json:"latency"`
	// BaseLabel names the base revision its base runs were built from.
	BaseLabel string `json:"base_label,omitempty"`
	// SinkLatency is the -sink-latency of its slow-sink runs.
	SinkLatency time.Duration `json:"sink_latency,omitempty"`
	// Command, Started and Finished say which run it was.
	Command           string    `json:"command,omitempty"`
	Started, Finished time.Time `json:",omitzero"`
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

	currentConfig bridgeproc.Config // config.yaml, the current bridge's template
	base          *baseRevision     // nil without -base-rev/-base-bin
	shape         shape
	topic         string // the backlog topic
}

func (h *harness) nextID() string {
	h.seq++
	return fmt.Sprintf("%d-%d-%d", os.Getpid(), time.Now().Unix(), h.seq)
}

// runResult is one contender's drain of the backlog.
type runResult struct {
	Contender string
	Rep       int
	// Shape is the backlog's (zero in results saved before shapes: the
	// report then takes the options').
	Shape shape `json:",omitzero"`
	// Sink is the SNS endpoint: "" (or sinkLean) the lean sink, sinkDouble
	// the count-only double.
	Sink   string `json:",omitempty"`
	Events int64
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
	// Throttled is the messages the sink answered Throttled (quota, storm);
	// Duplicates the accepted messages whose event_id it had accepted
	// before; Refused the calls and entries it refused as SNS would, by code
	// (none for a correct publisher).
	Throttled  int64            `json:",omitempty"`
	Duplicates int64            `json:",omitempty"`
	Refused    map[string]int64 `json:",omitempty"`
	// OrderBreaks is bridge_order_breaks_total at the end (bridges that
	// have the metric).
	OrderBreaks float64 `json:",omitempty"`
	// Quota is the sink's messages/s per topic in a -quota run.
	Quota float64 `json:",omitempty"`
	// Storm is what a -throttle run measured.
	Storm *stormResult `json:",omitempty"`
}

// stormResult is a -throttle run's storm: share of the entries throttled
// from Start to End (Unix nanoseconds), the delivered rate in the seconds
// before it (Before) and during it, and how long after its end the rate was
// back to 0.9 x Before over a 500 ms window (Recovery seconds; negative when
// the backlog ran out first).
type stormResult struct {
	Share      float64
	Start, End int64
	Before     float64
	During     float64
	Recovery   float64
}

func (r runResult) rate() float64             { return float64(r.Events) / r.Seconds }
func (r runResult) cpuPerEvent() float64      { return r.CPUSeconds / float64(r.Events) }
func (r runResult) requestsPerEvent() float64 { return float64(r.Requests) / float64(r.Events) }

// throttledShare is the share of the entries sent that the sink throttled.
func (r runResult) throttledShare() float64 {
	if r.Throttled == 0 {
		return 0
	}
	return float64(r.Throttled) / float64(r.Throttled+r.Events+r.Duplicates)
}
