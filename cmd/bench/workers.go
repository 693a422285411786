package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
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
	schemas     string
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
	fs.StringVar(&f.schemas, "schemas", "schemas", "directory of .avsc files")
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

func consumerClient(f workerFlags, opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(strings.Split(f.brokers, ",")...),
		kgo.ConsumerGroup(f.group),
		kgo.ConsumeTopics(f.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		// The bridge's defaults (config.yaml), so that fetching is alike.
		kgo.FetchMaxBytes(16 << 20),
		kgo.FetchMaxPartitionBytes(1 << 20),
	}, opts...)...)
}

// commitInterval matches the bridge's kafka.commit_interval default.
const commitInterval = 5 * time.Second

// rawConsume consumes the backlog as a group member, committing every
// commitInterval, and does nothing else: the ceiling Kafka and franz-go set.
func rawConsume(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	// The clock starts when the partitions are assigned, before the first
	// fetch, so the first fetch's wait is counted: a poll can return 16 MiB
	// of records at once.
	var assigned atomic.Int64
	cl, err := consumerClient(f, kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
		assigned.CompareAndSwap(0, time.Now().UnixNano())
	}))
	if err != nil {
		return workerResult{}, err
	}
	defer cl.Close()
	var done atomic.Int64
	var sp span
	stop := progress(stderr, "raw-consume", f.events, &done)
	defer stop()
	lastCommit := time.Now()
	for done.Load() < f.events {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return workerResult{}, err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err)) })
		if ferr != nil {
			return workerResult{}, ferr
		}
		fs.EachRecord(func(*kgo.Record) {
			sp.mark()
			done.Add(1)
		})
		if time.Since(lastCommit) >= commitInterval {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				return workerResult{}, fmt.Errorf("committing: %w", err)
			}
			lastCommit = time.Now()
		}
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return workerResult{}, fmt.Errorf("committing: %w", err)
	}
	return workerResult{Events: done.Load(), FirstNano: assigned.Load(), LastNano: sp.last.Load()}, nil
}

// newTranslator builds the bridge's Translator the way `bridge run` would
// with the local schemas, the default limits and the standard routes.
func newTranslator(f workerFlags) (*translate.Translator, error) {
	src, err := avro.NewLocalSource(os.DirFS(f.schemas))
	if err != nil {
		return nil, err
	}
	dec, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		return nil, err
	}
	mapper, err := mapping.NewMapper(mapping.Config{Routes: mapping.StandardRoutes(f.arnEvents, f.arnCustom)},
		map[string]mapping.TopicInfo{f.arnEvents: {}, f.arnCustom: {}})
	if err != nil {
		return nil, err
	}
	return translate.New(dec, mapper, nil)
}

func snsClient(ctx context.Context, f workerFlags) (*awssns.Client, error) {
	return sns.NewClient(ctx, sns.ClientConfig{Region: "us-east-1", Endpoint: f.snsEndpoint})
}

func attributes(e *sns.Entry) map[string]types.MessageAttributeValue {
	m := make(map[string]types.MessageAttributeValue, len(e.Attributes))
	for _, a := range e.Attributes {
		m[a.Name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(a.Value)}
	}
	return m
}

// rawPublish publishes ready-made messages (a pool of generated events,
// decoded and mapped before the clock starts) with PublishBatch, ten per
// call, f.inflight calls in flight per topic: the ceiling the SDK and the
// sink set.
func rawPublish(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	tr, err := newTranslator(f)
	if err != nil {
		return workerResult{}, err
	}
	gen, err := eventgen.New(f.seed, eventgen.Options{Orgs: f.orgs})
	if err != nil {
		return workerResult{}, err
	}
	var pool []sns.Entry
	for _, r := range gen.Mixed(f.pool) {
		m, _, err := tr.Message(ctx, &kgo.Record{Key: r.Key, Value: r.Value})
		if err != nil {
			return workerResult{}, fmt.Errorf("mapping a generated %s: %w", r.EventType, err)
		}
		pool = append(pool, m.Entry)
	}
	client, err := snsClient(ctx, f)
	if err != nil {
		return workerResult{}, err
	}
	var done, failed atomic.Int64
	var sp span
	stop := progress(stderr, "raw-publish", f.events, &done)
	defer stop()

	queues := map[string]chan *awssns.PublishBatchInput{}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for _, arn := range []string{f.arnEvents, f.arnCustom} {
		q := make(chan *awssns.PublishBatchInput, f.inflight)
		queues[arn] = q
		for range f.inflight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for in := range q {
					out, err := client.PublishBatch(ctx, in)
					if err != nil {
						failed.Add(int64(len(in.PublishBatchRequestEntries)))
						firstErr.CompareAndSwap(nil, err)
						continue
					}
					failed.Add(int64(len(out.Failed)))
					done.Add(int64(len(out.Successful)))
					sp.mark()
				}
			}()
		}
	}
	batches := map[string]*awssns.PublishBatchInput{}
	sizes := map[string]int{}
	flush := func(arn string) {
		if b := batches[arn]; b != nil {
			select {
			case queues[arn] <- b:
			case <-ctx.Done():
			}
			delete(batches, arn)
			sizes[arn] = 0
		}
	}
	for i := int64(0); i < f.events && ctx.Err() == nil; i++ {
		e := &pool[i%int64(len(pool))]
		if sizes[e.TopicARN]+e.Size > snsMaxBatchBytes {
			flush(e.TopicARN)
		}
		b := batches[e.TopicARN]
		if b == nil {
			b = &awssns.PublishBatchInput{TopicArn: aws.String(e.TopicARN)}
			batches[e.TopicARN] = b
		}
		b.PublishBatchRequestEntries = append(b.PublishBatchRequestEntries, types.PublishBatchRequestEntry{
			Id:                aws.String(fmt.Sprint(len(b.PublishBatchRequestEntries))),
			Message:           aws.String(e.Body),
			MessageAttributes: attributes(e),
		})
		sizes[e.TopicARN] += e.Size
		if len(b.PublishBatchRequestEntries) == 10 {
			flush(e.TopicARN)
		}
	}
	for arn := range queues {
		flush(arn)
		close(queues[arn])
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return workerResult{}, fmt.Errorf("%d entries failed, first: %w", failed.Load(), err)
	}
	return workerResult{Events: done.Load(), FirstNano: sp.first.Load(), LastNano: sp.last.Load(), Errors: failed.Load()}, ctx.Err()
}

// snsMaxBatchBytes is SNS's limit for a whole PublishBatch call: the same
// 256 KiB as one message.
const snsMaxBatchBytes = sns.DefaultMaxMessageSize

// perMessage is the one-Publish-per-event peer, the way Watermill's and
// Bento's SNS outputs work: consume as a group member, decode and map each
// record, send it with one Publish call, commit what is done. Records are
// spread over 2*inflight goroutines by key (so each key stays in order, as in
// the bridge) and each topic allows f.inflight Publish calls at once.
func perMessage(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	tr, err := newTranslator(f)
	if err != nil {
		return workerResult{}, err
	}
	client, err := snsClient(ctx, f)
	if err != nil {
		return workerResult{}, err
	}
	cl, err := consumerClient(f)
	if err != nil {
		return workerResult{}, err
	}
	defer cl.Close()
	var done, failed atomic.Int64
	var sp span
	stop := progress(stderr, "per-message", f.events, &done)
	defer stop()
	sem := map[string]chan struct{}{f.arnEvents: make(chan struct{}, f.inflight), f.arnCustom: make(chan struct{}, f.inflight)}

	var firstErr atomic.Value
	var pending sync.WaitGroup
	lanes := make([]chan *kgo.Record, 2*f.inflight)
	var lanesDone sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan *kgo.Record, 256)
		lanesDone.Add(1)
		go func(in chan *kgo.Record) {
			defer lanesDone.Done()
			for rec := range in {
				if err := publishOne(ctx, tr, client, sem, rec); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				} else {
					done.Add(1)
					sp.mark()
				}
				pending.Done()
			}
		}(lanes[i])
	}
	defer func() {
		for _, l := range lanes {
			close(l)
		}
		lanesDone.Wait()
	}()
	seed := maphash.MakeSeed()
	lastCommit := time.Now()
	var seen int64
	for seen < f.events {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return workerResult{}, err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err)) })
		if ferr != nil {
			return workerResult{}, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			pending.Add(1)
			lanes[maphash.Bytes(seed, r.Key)%uint64(len(lanes))] <- r
		})
		// Commit only what is published: wait for this poll's records.
		pending.Wait()
		if err, _ := firstErr.Load().(error); err != nil {
			return workerResult{}, fmt.Errorf("%d events failed, first: %w", failed.Load(), err)
		}
		if time.Since(lastCommit) >= commitInterval {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				return workerResult{}, fmt.Errorf("committing: %w", err)
			}
			lastCommit = time.Now()
		}
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return workerResult{}, fmt.Errorf("committing: %w", err)
	}
	return workerResult{Events: done.Load(), FirstNano: sp.first.Load(), LastNano: sp.last.Load(), Errors: failed.Load()}, nil
}

func publishOne(ctx context.Context, tr *translate.Translator, client *awssns.Client, sem map[string]chan struct{}, rec *kgo.Record) error {
	m, _, err := tr.Message(ctx, rec)
	if err != nil {
		return err
	}
	s := sem[m.Entry.TopicARN]
	s <- struct{}{}
	defer func() { <-s }()
	_, err = client.Publish(ctx, &awssns.PublishInput{
		TopicArn:          aws.String(m.Entry.TopicARN),
		Message:           aws.String(m.Entry.Body),
		MessageAttributes: attributes(&m.Entry),
	})
	return err
}

// countingPublisher counts the entries the publisher finished successfully.
type countingPublisher struct {
	next consumer.Publisher
	done atomic.Int64
	sp   span
}

func (c *countingPublisher) Publish(ctx context.Context, e *sns.Entry, done func(sns.Result)) {
	c.next.Publish(ctx, e, func(r sns.Result) {
		if r.Err == nil {
			c.done.Add(1)
			c.sp.mark()
		}
		done(r)
	})
}
