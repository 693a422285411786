package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// inProcessPipeline runs the bridge's pipeline (consumer.Engine, the same
// decoder and mapper, sns.Publisher with the bridge's defaults) in this
// process, without cmd/bridge's metrics and HTTP server, until f.events
// are published. It exists to profile the pipeline (-cpuprofile) and to try
// Kafka client settings the bridge does not expose (-fetch-max-wait),
// without touching cmd/bridge.
func inProcessPipeline(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	tr, client, err := newPublishing(ctx, f, true)
	if err != nil {
		return workerResult{}, err
	}
	topics, err := sns.Topics(ctx, client, []string{f.arnEvents, f.arnCustom})
	if err != nil {
		return workerResult{}, err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pub, err := sns.NewPublisher(client, sns.Config{Topics: topics, MaxInflightBatches: f.inflight}, sns.WithLogger(log))
	if err != nil {
		return workerResult{}, err
	}
	cfg := consumer.DefaultConfig()
	cfg.Brokers, cfg.GroupID, cfg.Topics = strings.Split(f.brokers, ","), f.group, []string{f.topic}
	var opts []kgo.Opt
	if f.fetchMaxWait > 0 {
		opts = append(opts, kgo.FetchMaxWait(f.fetchMaxWait))
	}
	counting := &countingPublisher{next: pub}
	engine, err := consumer.New(cfg, tr, counting, consumer.WithLogger(log), consumer.WithKafkaOptions(opts...))
	if err != nil {
		return workerResult{}, err
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return workerResult{}, err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return workerResult{}, err
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := progress(stderr, "pipeline", f.events, &counting.done)
	defer stop()
	go func() {
		for runCtx.Err() == nil && counting.done.Load() < f.events {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}()
	err = engine.Run(runCtx)
	closeCtx, cancelClose := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancelClose()
	if cerr := pub.Close(closeCtx); err == nil {
		err = cerr
	}
	if err != nil {
		return workerResult{}, fmt.Errorf("pipeline: %w", err)
	}
	return workerResult{Events: counting.done.Load(), FirstNano: counting.sp.first.Load(), LastNano: counting.sp.last.Load()}, ctx.Err()
}

// countingPublisher counts the entries the publisher finished successfully.
type countingPublisher struct {
	next consumer.Publisher
	done atomic.Int64
	sp   span
}

func (c *countingPublisher) PublishRun(ctx context.Context, key string, run []*sns.Entry, done func(int, sns.Result)) {
	c.next.PublishRun(ctx, key, run, func(i int, r sns.Result) {
		if r.Err == nil {
			c.done.Add(1)
			c.sp.mark()
		}
		done(i, r)
	})
}

func (c *countingPublisher) RunLimit(topicARN string) (entries, bytes int) {
	return c.next.RunLimit(topicARN)
}
