package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
)

// commitInterval is how often the reference contenders commit (the
// bridge's kafka.commit_interval default was 5 s when they were written and
// is 1 s now; docs/benchmarks.md describes them at 5 s).
const commitInterval = 5 * time.Second

// groupMember is a reference contender's Kafka side: a consumer group
// member of f.group on f.topic from the start, fetching as the bridge does,
// that commits what it has finished every commitInterval.
type groupMember struct {
	cl         *kgo.Client
	lastCommit time.Time
}

func joinGroup(f workerFlags, opts ...kgo.Opt) (*groupMember, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(strings.Split(f.brokers, ",")...),
		kgo.ConsumerGroup(f.group),
		kgo.ConsumeTopics(f.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		// The bridge's defaults (config.yaml), so that fetching is alike.
		kgo.FetchMaxBytes(consumer.DefaultFetchMaxBytes),
		kgo.FetchMaxPartitionBytes(consumer.DefaultFetchMaxPartitionBytes),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &groupMember{cl: cl, lastCommit: time.Now()}, nil
}

// poll returns the next fetches; an error when ctx ended or a partition's
// fetch failed.
func (g *groupMember) poll(ctx context.Context) (kgo.Fetches, error) {
	fs := g.cl.PollFetches(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ferr error
	fs.EachError(func(t string, p int32, err error) { ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err)) })
	return fs, ferr
}

// commitDue commits what was polled when commitInterval has passed since the
// last commit.
func (g *groupMember) commitDue(ctx context.Context) error {
	if time.Since(g.lastCommit) < commitInterval {
		return nil
	}
	return g.commit(ctx)
}

// commit commits what was polled now.
func (g *groupMember) commit(ctx context.Context) error {
	if err := g.cl.CommitUncommittedOffsets(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	g.lastCommit = time.Now()
	return nil
}

func (g *groupMember) close() { g.cl.Close() }

// rawConsume consumes the backlog as a group member, committing every
// commitInterval, and does nothing else: the ceiling Kafka and franz-go set.
func rawConsume(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	// The clock starts when the partitions are assigned, before the first
	// fetch, so the first fetch's wait is counted: a poll can return 16 MiB
	// of records at once.
	var assigned atomic.Int64
	g, err := joinGroup(f, kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
		assigned.CompareAndSwap(0, time.Now().UnixNano())
	}))
	if err != nil {
		return workerResult{}, err
	}
	defer g.close()
	var done atomic.Int64
	var sp span
	stop := progress(stderr, "raw-consume", f.events, &done)
	defer stop()
	for done.Load() < f.events {
		fs, err := g.poll(ctx)
		if err != nil {
			return workerResult{}, err
		}
		fs.EachRecord(func(*kgo.Record) {
			sp.mark()
			done.Add(1)
		})
		if err := g.commitDue(ctx); err != nil {
			return workerResult{}, err
		}
	}
	if err := g.commit(ctx); err != nil {
		return workerResult{}, err
	}
	return workerResult{Events: done.Load(), FirstNano: assigned.Load(), LastNano: sp.last.Load()}, nil
}
