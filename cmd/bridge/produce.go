package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2/registry"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

const (
	// producePaceInterval is how often a paced producer hands the next
	// events to the client: often enough that 20 events/s look steady.
	producePaceInterval = 10 * time.Millisecond
	// produceUnpacedBatch is how many events an unpaced producer (-rate 0)
	// hands over at a time; the client's buffer bounds what is in flight.
	produceUnpacedBatch = 500
	// produceMaxBuffered is how many records may wait in the client for the
	// brokers; run hands over no more, so it never blocks in Produce.
	produceMaxBuffered = 10000
	// produceFlushTimeout bounds the wait for records in flight at a stop.
	produceFlushTimeout = 15 * time.Second
)

// produceOptions are the produce command's flags.
type produceOptions struct {
	brokers     []string
	topic       string
	rate        float64
	count       int
	duration    time.Duration
	orgs        int
	seed        int64
	registryURL string
	schemasDir  string
	poisonEvery int
	progress    time.Duration
}

const produceUsage = `Usage: bridge produce -brokers HOST:PORT[,...] [flags]

Writes a steady stream of realistic Thena events (every event type, spread
over -orgs organizations, keyed by organization id) in Confluent wire format
to a Kafka topic, until -count events, -duration, or SIGTERM/Ctrl-C. For
compose stacks, smoke tests, load tests and staging.

Schema ids are local (computed from each schema, what schemas.local_dir
expects) unless -registry is given: then the schemas are registered there,
verbatim, under the subject TOPIC-FULLNAME (TopicRecordNameStrategy, e.g.
thena.events-com.thena.events.TicketEvent), and records carry the
registry's ids.

Flags:
`

// runProduce is `bridge produce`: the demo's event generator writing to a
// real Kafka.
func runProduce(ctx context.Context, args []string, env commandEnv) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), produceUsage)
		fs.PrintDefaults()
	}
	var o produceOptions
	var brokers string
	fs.StringVar(&brokers, "brokers", "", "seed brokers, comma-separated (required)")
	fs.StringVar(&o.topic, "topic", "thena.events", "topic to write to; it must exist")
	fs.Float64Var(&o.rate, "rate", 100, "events per second (0: as fast as the brokers take them)")
	fs.IntVar(&o.count, "count", 0, "stop after this many events (0: no limit)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: no limit)")
	fs.IntVar(&o.orgs, "orgs", 200, "organizations the events are spread over")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the event generator")
	fs.StringVar(&o.registryURL, "registry", "", "Confluent-compatible Schema Registry to register the schemas with and take ids from")
	fs.StringVar(&o.schemasDir, "schemas", "", "directory of .avsc files to write with (default: the built-in schemas)")
	fs.IntVar(&o.poisonEvery, "poison-every", 0, "make every Nth record a poison record the bridge dead-letters (bad magic, unknown schema, truncated, unroutable in turn; 0: none)")
	fs.DurationVar(&o.progress, "progress", 5*time.Second, "how often progress is printed")
	if err := parseFlags(fs, args); err != nil {
		return helpIsDone(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: produce takes no arguments, got %q", errUsage, fs.Args())
	}
	for _, b := range strings.Split(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			o.brokers = append(o.brokers, b)
		}
	}
	if err := o.validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return produce(ctx, o, env.stdout)
}

func (o produceOptions) validate() error {
	var errs []error
	if len(o.brokers) == 0 {
		errs = append(errs, errors.New("-brokers is required"))
	}
	if o.topic == "" {
		errs = append(errs, errors.New("-topic is empty"))
	}
	if o.rate < 0 || o.count < 0 || o.duration < 0 || o.poisonEvery < 0 {
		errs = append(errs, errors.New("-rate, -count, -duration and -poison-every must not be negative"))
	}
	if o.orgs < 1 {
		errs = append(errs, errors.New("-orgs must be at least 1"))
	}
	if o.progress <= 0 {
		errs = append(errs, errors.New("-progress must be positive"))
	}
	return errors.Join(errs...)
}

// produce writes events until the count, the duration or ctx ends it. A
// stop by ctx (SIGTERM) is a clean stop: what is in flight is flushed, the
// summary printed, and the result is nil.
func produce(ctx context.Context, o produceOptions, out io.Writer) error {
	fsys := schemas.FS()
	if o.schemasDir != "" {
		fsys = os.DirFS(o.schemasDir)
	}
	src, err := avro.NewLocalSource(fsys)
	if err != nil {
		return err
	}
	// Events carry the time they are produced, so the bridge's end-to-end
	// latency is measured from now.
	gen, err := eventgen.New(o.seed, eventgen.Options{Orgs: o.orgs, Now: time.Now, Source: src})
	if err != nil {
		return err
	}
	var ids map[int]int
	if o.registryURL != "" {
		if ids, err = registerSchemas(ctx, o.registryURL, o.topic, src, fsys); err != nil {
			return err
		}
		fmt.Fprintf(out, "registered %d schemas with %s under subjects %s-<full name>\n", len(ids), o.registryURL, o.topic)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(o.brokers...), kgo.DefaultProduceTopic(o.topic),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(produceMaxBuffered))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()

	p := &producer{client: cl, gen: gen, ids: ids, poisonEvery: o.poisonEvery, poisonKinds: eventgen.PoisonKinds()}
	rate := "as fast as the brokers take them"
	if o.rate > 0 {
		rate = fmt.Sprintf("%g events/s", o.rate)
	}
	fmt.Fprintf(out, "producing to %s on %s, %s, %d organizations; SIGTERM or Ctrl-C stops\n",
		o.topic, strings.Join(o.brokers, ","), rate, o.orgs)

	runErr := p.run(ctx, o, out)
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), produceFlushTimeout)
	defer cancel()
	if err := cl.Flush(flushCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("flushing the records in flight: %w", err))
	}
	p.summary(out)
	if runErr == nil {
		runErr = p.failure()
	}
	return runErr
}

// producer hands generated records to a Kafka client and counts what the
// brokers acknowledged.
type producer struct {
	client      *kgo.Client
	gen         *eventgen.Generator
	ids         map[int]int // local schema id -> registry id; nil: local ids
	poisonEvery int
	poisonKinds []eventgen.Poison

	handed, poisoned int // owned by run's goroutine
	start            time.Time

	acked, failed atomic.Int64
	mu            sync.Mutex
	err           error // the first failed record's error
}

// run produces until ctx is done, the count is reached, the duration has
// passed or a record fails; it returns the failure, nil otherwise. It never
// blocks in the client (it hands over no more than the buffer has room
// for), so a stop is seen within a tick even when the brokers are gone; the
// records handed over are flushed by the caller, whatever stopped the run.
func (p *producer) run(ctx context.Context, o produceOptions, out io.Writer) error {
	p.start = time.Now()
	recCtx := context.WithoutCancel(ctx)
	pace := pacer{rate: o.rate, burst: max(1, int(o.rate))}
	tick := time.NewTicker(producePaceInterval)
	defer tick.Stop()
	progress := time.NewTicker(o.progress)
	defer progress.Stop()
	var deadline <-chan time.Time
	if o.duration > 0 {
		timer := time.NewTimer(o.duration)
		defer timer.Stop()
		deadline = timer.C
	}
	lastAt, lastAcked := p.start, int64(0)
	for {
		if err := p.failure(); err != nil {
			return err
		}
		if o.count > 0 && p.handed >= o.count {
			return nil
		}
		n := 0
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case now := <-progress.C:
			acked := p.acked.Load()
			fmt.Fprintf(out, "[%6.1fs] produced %d (%.0f events/s), %d poison, %d failed\n",
				now.Sub(p.start).Seconds(), acked, float64(acked-lastAcked)/now.Sub(lastAt).Seconds(), p.poisoned, p.failed.Load())
			lastAt, lastAcked = now, acked
		case now := <-tick.C:
			n = produceUnpacedBatch
			if o.rate > 0 {
				n = pace.due(now.Sub(p.start))
			}
		}
		n = min(n, produceMaxBuffered-int(p.client.BufferedProduceRecords()))
		if o.count > 0 {
			n = min(n, o.count-p.handed)
		}
		for range n {
			p.client.Produce(recCtx, p.next(), p.acknowledged)
		}
	}
}

// next is the next record: a generated event or, every poisonEvery records,
// a poison one, framed with the registry's ids when there is a registry.
func (p *producer) next() *kgo.Record {
	p.handed++
	var r eventgen.Record
	if p.poisonEvery > 0 && p.handed%p.poisonEvery == 0 {
		r = p.gen.Poison(p.poisonKinds[p.poisoned%len(p.poisonKinds)])
		p.poisoned++
	} else {
		r = p.gen.Mixed(1)[0]
	}
	return &kgo.Record{Key: r.Key, Value: reframe(r.Value, p.ids)}
}

// reframe rewrites a value's local schema id to the registry's. Values
// whose id is not a local schema's (the unknown-schema poison record) or
// that are not in wire format (the bad-magic one) stay as they are.
func reframe(value []byte, ids map[int]int) []byte {
	if ids == nil || len(value) < avro.WireHeaderLen || value[0] != 0 {
		return value
	}
	if id, ok := ids[int(binary.BigEndian.Uint32(value[1:avro.WireHeaderLen]))]; ok {
		binary.BigEndian.PutUint32(value[1:avro.WireHeaderLen], uint32(id))
	}
	return value
}

// acknowledged is the client's callback for each record.
func (p *producer) acknowledged(_ *kgo.Record, err error) {
	if err == nil {
		p.acked.Add(1)
		return
	}
	p.failed.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = fmt.Errorf("producing to Kafka: %w", err)
	}
}

// failure is the first record's error, nil while every record went.
func (p *producer) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *producer) summary(out io.Writer) {
	took := time.Since(p.start)
	acked := p.acked.Load()
	fmt.Fprintf(out, "produced %d events in %.1fs (%.0f events/s), %d of them poison, %d failed\n",
		acked, took.Seconds(), float64(acked)/took.Seconds(), p.poisoned, p.failed.Load())
}

// pacer spreads events evenly over time: by elapsed time t it has let
// rate*t events go in all. After a stall (the brokers pushing back) it lets
// at most burst events go at once and forgets the rest of the debt, so a
// steady stream stays steady rather than making up for lost time.
type pacer struct {
	rate  float64
	burst int
	sent  int
}

// due returns how many events may go now, elapsed after the start.
func (p *pacer) due(elapsed time.Duration) int {
	n := int(p.rate*elapsed.Seconds()) - p.sent
	if n <= 0 {
		return 0
	}
	if n > p.burst {
		p.sent += n - p.burst
		n = p.burst
	}
	p.sent += n
	return n
}

// registerSchemas registers the current version of every schema of src,
// as its file is written, under the subject TOPIC-FULLNAME, and returns the
// local id -> registry id mapping.
func registerSchemas(ctx context.Context, url, topic string, src *avro.LocalSource, fsys fs.FS) (map[int]int, error) {
	client, err := registry.NewClient(url)
	if err != nil {
		return nil, fmt.Errorf("-registry %s: %w", url, err)
	}
	ids := map[int]int{}
	for _, v := range src.Versions() {
		if !v.Current {
			continue
		}
		text, err := fs.ReadFile(fsys, v.File)
		if err != nil {
			return nil, err
		}
		subject := topic + "-" + v.FullName
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		id, _, err := client.CreateSchema(rctx, subject, string(text))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("-registry %s: registering %s under %s: %w", url, v.File, subject, err)
		}
		ids[v.ID] = id
	}
	return ids, nil
}
