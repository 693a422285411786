package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// workerResult is what a worker prints as the last line of its stdout, as
// JSON, for the harness.
type workerResult struct {
	Events int64 `json:"events"`
	// FirstNano and LastNano are the wall-clock times (Unix nanoseconds) of
	// the start (raw-consume: the partitions' assignment; others: the first
	// event finished) and of the last event finished; the harness uses them
	// for the contender whose output the sink does not see.
	FirstNano int64 `json:"first_unix_nano"`
	LastNano  int64 `json:"last_unix_nano"`
	Errors    int64 `json:"errors"`
	// PeakRSS is the worker's own resident set high-water mark, in bytes.
	PeakRSS int64 `json:"peak_rss"`
}

// workerFlags are the flags every worker kind accepts; the harness passes
// the ones a kind uses.
type workerFlags struct {
	brokers     string
	topic       string
	group       string
	events      int64
	seed        int64
	orgs        int
	zipf        float64
	schemas     string
	registry    string
	snsEndpoint string
	arnEvents   string
	arnCustom   string
	inflight    int
	rate        int
	duration    time.Duration
	pool        int
	// pipeline only
	fetchMaxWait time.Duration
	cpuprofile   string
}

var workers = map[string]func(context.Context, workerFlags, io.Writer) (workerResult, error){
	"raw-consume":  rawConsume,
	"raw-publish":  rawPublish,
	"per-message":  perMessage,
	"produce-live": produceLive,
	"pipeline":     inProcessPipeline,
}

func workerKinds() string {
	var ks []string
	for k := range workers {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

func runWorker(ctx context.Context, kind string, args []string, stdout, stderr io.Writer) error {
	w, ok := workers[kind]
	if !ok {
		return fmt.Errorf("%w: unknown worker %q (one of %s)", errUsage, kind, workerKinds())
	}
	var f workerFlags
	fs := flag.NewFlagSet("worker "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.brokers, "brokers", "127.0.0.1:9092", "Kafka seed brokers, comma-separated")
	fs.StringVar(&f.topic, "topic", "", "Kafka topic to consume or produce")
	fs.StringVar(&f.group, "group", "", "consumer group")
	fs.Int64Var(&f.events, "events", 0, "events to consume or publish")
	fs.Int64Var(&f.seed, "seed", 1, "event generator seed")
	fs.IntVar(&f.orgs, "orgs", 10000, "organizations")
	fs.Float64Var(&f.zipf, "zipf", 0, "Zipf exponent of the organizations (0: uniform)")
	fs.StringVar(&f.schemas, "schemas", "schemas", "directory of .avsc files")
	fs.StringVar(&f.registry, "registry", "", "schema registry the consumed records' ids are from (default: local ids, -schemas)")
	fs.StringVar(&f.snsEndpoint, "sns-endpoint", "", "SNS endpoint URL")
	fs.StringVar(&f.arnEvents, "arn-events", "", "topic ARN for every event but custom objects")
	fs.StringVar(&f.arnCustom, "arn-custom", "", "topic ARN for custom-object:* events")
	fs.IntVar(&f.inflight, "inflight", sns.DefaultMaxInflightBatches, "SNS requests in flight per topic")
	fs.IntVar(&f.rate, "rate", 0, "events per second (produce-live)")
	fs.DurationVar(&f.duration, "duration", 0, "how long to produce (produce-live)")
	fs.IntVar(&f.pool, "pool", 2000, "distinct generated events to cycle through (raw-publish, produce-live)")
	fs.DurationVar(&f.fetchMaxWait, "fetch-max-wait", 0, "franz-go FetchMaxWait for the engine (pipeline; 0 keeps the engine's)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the run here (pipeline)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	res, err := w(ctx, f, stderr)
	if err != nil {
		return fmt.Errorf("worker %s: %w", kind, err)
	}
	res.PeakRSS = peakRSS(os.Getpid())
	return json.NewEncoder(stdout).Encode(res)
}

// progress prints a line to w every two seconds until stop is called.
func progress(w io.Writer, label string, total int64, done *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		last, lastAt := int64(0), time.Now()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				n := done.Load()
				fmt.Fprintf(w, "  %s: %d/%d events, %.0f events/s\n", label, n, total, float64(n-last)/now.Sub(lastAt).Seconds())
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// span records the first and last time an event finished.
type span struct {
	first, last atomic.Int64
}

func (s *span) mark() {
	now := time.Now().UnixNano()
	s.first.CompareAndSwap(0, now)
	s.last.Store(now)
}
