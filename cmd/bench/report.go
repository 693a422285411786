package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// report collects the runs and renders docs/benchmarks.md's generated part.
type report struct {
	opts       options
	machine    machine
	started    time.Time
	finished   time.Time
	loadBefore string
	loadAfter  string
	runs       []runResult
	latency    []latencyResult
	notes      []string
	// baseLabel names the base revision (its short commit).
	baseLabel string
	// commands are those of the runs merged from -from-results files.
	commands []string
}

// add merges saved results (another invocation's, for another shape) into r.
func (r *report) add(s savedResults) {
	for _, x := range s.Runs {
		if x.Shape == (shape{}) { // saved before runs had shapes
			x.Shape = r.opts.shape()
		}
		r.runs = append(r.runs, x)
	}
	r.latency = append(r.latency, s.Latency...)
	r.baseLabel = cmp.Or(r.baseLabel, s.BaseLabel)
	if s.Command != "" {
		r.commands = append(r.commands, s.Command)
	}
	if !s.Started.IsZero() && (r.started.IsZero() || s.Started.Before(r.started)) {
		r.started = s.Started
	}
	if s.Finished.After(r.finished) {
		r.finished = s.Finished
	}
}

// saved is r as a -save-results file.
func (r *report) saved() savedResults {
	return savedResults{Runs: r.runs, Latency: r.latency, BaseLabel: r.baseLabel, SinkLatency: r.opts.sinkLatency,
		Command: r.command(), Started: r.started, Finished: r.finished}
}

type machine struct {
	CPU, Memory, Go, Commit string
	Cores                   int
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func describeMachine(ctx context.Context) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if out, err := exec.CommandContext(ctx, "lscpu").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "Model name" {
				m.CPU = strings.TrimSpace(v)
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(firstLine(b)) // MemTotal: N kB
		if len(f) >= 2 {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		m.Go = strings.TrimPrefix(firstLine(out), "go version ")
	}
	if out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty", "--abbrev=12").Output(); err == nil {
		m.Commit = firstLine(out)
	}
	return m
}

// loadAverage is /proc/loadavg's three load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// stat is a median with its range.
type stat struct{ med, min, max float64 }

func stats(xs []float64) stat {
	if len(xs) == 0 {
		return stat{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med, s[0], s[len(s)-1]}
}

func (s stat) format(verb string) string {
	if s.min == s.max {
		return fmt.Sprintf(verb, s.med)
	}
	return fmt.Sprintf(verb+" ("+verb+"–"+verb+")", s.med, s.min, s.max)
}
