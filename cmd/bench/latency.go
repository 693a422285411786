package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
)

// latencyResult is one end-to-end latency run of the bridge at a fixed
// offered rate.
type latencyResult struct {
	Rate     int
	Rep      int
	Produced int64
	Counted  int // latencies counted (after the warm-up)
	P50, P99 time.Duration
	Max      time.Duration
	// CPUSeconds is the bridge's CPU time over the run (start-up included).
	CPUSeconds float64
	MaxRSS     int64
	// MachineBusy is the share of all cores busy (any process) while events
	// were offered.
	MachineBusy float64
	// Sustained is the produced events over the time from the first event
	// offered to the last one at the sink: below Rate when the bridge did not
	// keep up (and latency then grows with the run's length).
	Sustained float64
}

// latency starts the bridge on a fresh topic, offers events stamped with the
// current time at rate per second for o.rateDuration from a producer child,
// and notes at the sink, per message, receipt time minus event time.
func (h *harness) latency(ctx context.Context, rate, rep int) (latencyResult, error) {
	o := h.opts
	adm, cl, err := adminClient(o)
	if err != nil {
		return latencyResult{}, err
	}
	defer cl.Close()
	id := h.nextID()
	topic := "bench.live." + id
	if err := createTopic(ctx, adm, o, topic); err != nil {
		return latencyResult{}, err
	}
	defer deleteTopic(context.WithoutCancel(ctx), adm, topic) //nolint:errcheck // best effort
	c := contender{kind: cBridge}
	sk, err := h.newSink(c)
	if err != nil {
		return latencyResult{}, err
	}
	defer sk.Close()
	label := fmt.Sprintf("latency %d events/s rep %d/%d", rate, rep, o.reps)
	logf(h.stderr, "%s: start (%s)", label, o.rateDuration)
	ctx, cancel := context.WithTimeout(ctx, o.rateDuration+3*time.Minute)
	defer cancel()

	// Live events are encoded with local schema ids.
	bridge, err := h.startBridge(ctx, c, sk, topic, framingLocal, "bench-live-"+id, h.stderr)
	if err != nil {
		return latencyResult{}, err
	}
	var hwm atomic.Int64
	var recording atomic.Bool
	watch := make(chan struct{})
	defer close(watch)
	go func() {
		lastLog := time.Now()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-watch:
				return
			case now := <-t.C:
				if v := peakRSS(bridge.Pid()); v > hwm.Load() {
					hwm.Store(v)
				}
				if now.Sub(lastLog) >= 2*time.Second && recording.Load() {
					fmt.Fprintf(h.stderr, "  %s: %d events at the sink%s\n", label, sk.Accepted(), gauges(bridge))
					lastLog = now
				}
			}
		}
	}()
	stopBridge := func() error {
		if v := peakRSS(bridge.Pid()); v > hwm.Load() {
			hwm.Store(v)
		}
		_ = bridge.Signal(syscall.SIGTERM)
		<-bridge.Done()
		return bridge.Err()
	}
	readyCtx, cancelReady := context.WithTimeout(ctx, 60*time.Second)
	err = bridge.WaitReady(readyCtx)
	cancelReady()
	if err != nil {
		_ = stopBridge()
		return latencyResult{}, err
	}
	time.Sleep(time.Second) // let the first fetch requests settle

	sk.RecordLatencyFrom(time.Now())
	recording.Store(true)
	prod := exec.CommandContext(ctx, h.self, "worker", "produce-live", "-brokers", o.brokers, "-topic", topic,
		"-rate", strconv.Itoa(rate), "-duration", o.rateDuration.String(), "-seed", strconv.FormatInt(o.seed, 10),
		"-orgs", strconv.Itoa(o.orgs), "-zipf", strconv.FormatFloat(o.zipf, 'g', -1, 64))
	var out bytes.Buffer
	prod.Stdout, prod.Stderr, prod.Env = &out, h.stderr, bridgeproc.Env(os.Environ())
	busyBefore := readCPUStat()
	err = prod.Run()
	busy := readCPUStat().busySince(busyBefore)
	if err != nil {
		_ = stopBridge()
		return latencyResult{}, fmt.Errorf("producer: %w", err)
	}
	var wr workerResult
	if err := json.Unmarshal(lastLine(out.Bytes()), &wr); err != nil {
		_ = stopBridge()
		return latencyResult{}, fmt.Errorf("reading the producer's result %q: %w", out.String(), err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for sk.Accepted() < wr.Events && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	werr := stopBridge()
	if got := sk.Accepted(); got < wr.Events {
		return latencyResult{}, fmt.Errorf("the sink has %d of the %d events produced", got, wr.Events)
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return latencyResult{}, werr
	}
	if werr != nil {
		return latencyResult{}, fmt.Errorf("the bridge exited: %w", werr)
	}
	ru := bridge.State().SysUsage().(*syscall.Rusage)
	// The warm-up counts from the producer's start, not the harness's: a
	// loaded machine can take seconds to start the producer child.
	ps, counted := sk.percentiles(time.Unix(0, wr.FirstNano).Add(o.warmup), 0.50, 0.99, 1)
	res := latencyResult{Rate: rate, Rep: rep, Produced: wr.Events, Counted: counted, P50: ps[0], P99: ps[1], Max: ps[2],
		CPUSeconds: tv(ru.Utime) + tv(ru.Stime), MaxRSS: hwm.Load(), MachineBusy: busy,
		Sustained: float64(wr.Events) / sk.Stats().Last.Sub(time.Unix(0, wr.FirstNano)).Seconds()}
	logf(h.stderr, "%s: %d events offered, %.0f/s sustained, %d timed: p50 %s, p99 %s, max %s; bridge CPU %.2fs; machine %.0f%% busy",
		label, res.Produced, res.Sustained, res.Counted, res.P50.Round(100*time.Microsecond), res.P99.Round(100*time.Microsecond), res.Max.Round(time.Millisecond), res.CPUSeconds, busy*100)
	return res, nil
}
