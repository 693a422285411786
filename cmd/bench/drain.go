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
	"strings"
	"syscall"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
)

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

	var (
		proc   *bridgeproc.Child
		bridge *bridgeproc.Bridge
		out    bytes.Buffer
	)
	selfBefore, busyBefore := selfCPU(), readCPUStat()
	if base(c) == cBridge {
		bridge, err = h.startBridge(ctx, sk, o.backlogTopic(), group, nil)
		if err != nil {
			return runResult{}, err
		}
		proc = bridge.Child
	} else {
		cmd := h.workerCmd(ctx, map[string]string{
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
		cmd.Stdout, cmd.Stderr, cmd.Env = &out, h.stderr, bridgeproc.Env(os.Environ())
		if proc, err = bridgeproc.StartChild(cmd); err != nil {
			return runResult{}, err
		}
	}
	stopPerf := func() {}
	if rep == 1 && h.opts.perfDir != "" && isBridge(c) {
		stopPerf = h.perf(ctx, proc.Pid(), c)
	}

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
		case <-proc.Done():
			werr = proc.Err()
			break loop
		case now := <-tick.C:
			hwm = max(hwm, peakRSS(proc.Pid()))
			n := sk.accepted.Load()
			if isBridge(c) {
				if now.Sub(lastLog) >= 2*time.Second {
					fmt.Fprintf(h.stderr, "  %s: %d/%d events at the sink, %.0f events/s%s\n", label, n, o.events, float64(n-lastN)/now.Sub(lastAt).Seconds(), gauges(bridge))
					lastAt, lastN, lastLog = now, n, now
				}
				if n >= o.events && !signaled {
					stopPerf()
					if err := proc.Signal(syscall.SIGTERM); err != nil {
						return runResult{}, err
					}
					signaled = true
				}
			}
		case <-ctx.Done():
			proc.Kill()
			return runResult{}, fmt.Errorf("%s did not finish: %w (the sink has %d of %d events)", c, ctx.Err(), sk.accepted.Load(), o.events)
		}
	}
	stopPerf()
	if werr != nil {
		return runResult{}, fmt.Errorf("%s exited: %w", c, werr)
	}
	ru, ok := proc.State().SysUsage().(*syscall.Rusage)
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

func (h *harness) workerCmd(ctx context.Context, kind string, sk *sink, topic, group string) *exec.Cmd {
	o := h.opts
	return exec.CommandContext(ctx, h.self, "worker", kind,
		"-brokers", o.brokers, "-topic", topic, "-group", group,
		"-events", strconv.FormatInt(o.events, 10), "-seed", strconv.FormatInt(o.seed, 10),
		"-orgs", strconv.Itoa(o.orgs), "-schemas", o.schemas, "-sns-endpoint", sk.srv.URL,
		"-arn-events", sk.arnEvents, "-arn-custom", sk.arnCustom, "-inflight", strconv.Itoa(o.inflight))
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
