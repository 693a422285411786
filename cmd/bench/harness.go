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
		if err := bridgeproc.Build(ctx, o.bridgeBin); err != nil {
			return err
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

func (h *harness) nextID() string {
	h.seq++
	return fmt.Sprintf("%d-%d-%d", os.Getpid(), time.Now().Unix(), h.seq)
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
