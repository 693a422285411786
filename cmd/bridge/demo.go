package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
	"github.com/thena-ai/kafka-sns-bridge/sns"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

const (
	demoTopic      = "thena.events"
	demoPartitions = 12
	// demoEndlessPoisonEvery spaces the -poison records in endless mode
	// (-events 0), so dead letters show on /metrics within seconds.
	demoEndlessPoisonEvery = 1000
)

// demoOptions are the demo's flags.
type demoOptions struct {
	events   int
	orgs     int
	poison   int
	samples  int
	seed     int64
	listen   string
	interval time.Duration
}

// runDemo runs the real pipeline — consumer group, decoder, mapper,
// publisher with breakers, dead-letter producer, metrics — on an embedded
// Kafka (franz-go's kfake) and the in-process SNS double, so a newcomer sees
// the bridge work with nothing installed but Go.
const demoUsage = `Usage: bridge demo [-events N] [flags]

Runs the whole pipeline (consumer group, decoder, mapper, publisher with
breakers, dead-letter producer, metrics) on an embedded Kafka and an
in-process SNS double: nothing to install but Go. A generator produces
realistic events for -orgs organizations, with -poison bad records that are
dead-lettered. Progress is printed every -progress; with -events N the demo
stops once all N are published or dead-lettered and prints a summary with
sample SNS messages. /metrics, /healthz and /readyz are served on -http.

Flags:
`

func runDemo(ctx context.Context, args []string, env commandEnv) error {
	fs := newFlagSet("demo", demoUsage, env)
	var o demoOptions
	fs.IntVar(&o.events, "events", 0, "stop after this many events and print a summary with sample messages (0: a steady 1,000 events/s until Ctrl-C; the embedded Kafka keeps every record in memory)")
	fs.IntVar(&o.orgs, "orgs", 200, "organizations the events are spread over")
	fs.IntVar(&o.poison, "poison", 5, "poison records (bad bytes, unknown schema, unroutable) mixed in; they are dead-lettered")
	fs.IntVar(&o.samples, "samples", 2, "sample SNS messages to print")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the event generator")
	fs.StringVar(&o.listen, "http", "127.0.0.1:9090", "address of /metrics, /healthz and /readyz (127.0.0.1:0 picks a free port)")
	fs.DurationVar(&o.interval, "progress", time.Second, "how often progress is printed")
	if err := parseFlags(fs, args); err != nil {
		return helpIsDone(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: demo takes no arguments, got %q", errUsage, fs.Arg(0))
	}
	if o.events < 0 || o.orgs < 1 || o.poison < 0 || o.interval <= 0 {
		return fmt.Errorf("%w: -events, -poison must be >= 0, -orgs >= 1, -progress > 0", errUsage)
	}
	if o.events > 0 && o.poison > o.events {
		o.poison = o.events
	}
	return demo(ctx, o, env.stdout, env.stderr)
}

func demo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) error {
	log := newLogger(stderr, slog.LevelWarn)

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.SeedTopics(demoPartitions, demoTopic),
		kfake.SeedTopics(1, demoTopic+".dlq"))
	if err != nil {
		return fmt.Errorf("starting the embedded Kafka: %w", err)
	}
	defer cluster.Close()
	// In endless mode the double only counts, so memory grows with the
	// embedded Kafka's log alone; bounded runs keep messages for samples.
	double := snstest.NewServer(snstest.Options{CountOnly: o.events == 0})
	defer double.Close()
	ticketARN, err := double.CreateTopic("thena-events", nil)
	if err != nil {
		return err
	}
	customARN, err := double.CreateTopic("thena-custom-object-events", nil)
	if err != nil {
		return err
	}

	s := defaultSettings()
	s.Kafka.Brokers = cluster.ListenAddrs()
	s.Kafka.GroupID = "thena-sns-bridge-demo"
	s.Kafka.Topics = []string{demoTopic}
	s.Kafka.CommitInterval = time.Second
	s.Schemas.LocalDir = "(embedded)"
	s.Routing = mapping.Config{Routes: mapping.StandardRoutes(ticketARN, customARN)}
	s.HTTP.Listen = o.listen
	s.SNS.Endpoint = double.URL
	s.SNS.Region = "us-east-1"

	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		return err
	}
	cc := s.clientConfig()
	cc.Credentials = credentials.NewStaticCredentialsProvider("demo", "demo", "")
	client, err := sns.NewClient(ctx, cc)
	if err != nil {
		return err
	}
	topics, err := sns.Topics(ctx, client, s.Routing.TopicARNs())
	if err != nil {
		return err
	}
	ln, err := listen("-http", s.HTTP.Listen)
	if err != nil {
		return err
	}
	svc, err := assemble(ctx, s, src, client, topics, ln, log)
	if err != nil {
		_ = ln.Close() // nothing was served on it
		return err
	}

	fmt.Fprintf(stdout, "kafka-sns-bridge demo: embedded Kafka at %s (topic %s, %d partitions), SNS double at %s\n",
		strings.Join(s.Kafka.Brokers, ","), demoTopic, demoPartitions, double.URL)
	fmt.Fprintf(stdout, "metrics: http://%s/metrics   health: /healthz   readiness: /readyz\n", svc.listener.Addr())
	if o.events > 0 {
		fmt.Fprintf(stdout, "producing %d events (%d of them poison) for %d organizations; Ctrl-C stops\n\n", o.events, o.poison, o.orgs)
	} else {
		fmt.Fprintf(stdout, "producing events for %d organizations until Ctrl-C\n\n", o.orgs)
	}

	runCtx, stopBridge := context.WithCancel(ctx)
	defer stopBridge()
	var wg sync.WaitGroup
	bridgeErr := make(chan error, 1)
	wg.Go(func() { bridgeErr <- svc.run(runCtx) })
	prod := &demoProducer{}
	wg.Go(func() { prod.run(runCtx, cluster.ListenAddrs(), o) })

	start := time.Now()
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	var last demoCounts
	lastAt := start
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case runErr = <-bridgeErr:
			bridgeErr = nil
			break loop
		case now := <-tick.C:
			c := countDemo(svc.registry, double, ticketARN, customARN, prod)
			rate := float64(c.published+c.deadLettered-last.published-last.deadLettered) / now.Sub(lastAt).Seconds()
			fmt.Fprintf(stdout, "[%5.1fs] produced %d  consumed %d  published %d (ticket topic %d, custom objects %d)  dead-lettered %d  %.0f events/s\n",
				now.Sub(start).Seconds(), c.produced, c.consumed, c.published, c.ticket, c.custom, c.deadLettered, rate)
			last, lastAt = c, now
			if err := prod.error(); err != nil {
				runErr = err
				break loop
			}
			if o.events > 0 && prod.done() && c.published+c.deadLettered >= o.events {
				break loop
			}
		}
	}
	stopBridge()
	wg.Wait()
	if bridgeErr != nil {
		runErr = errors.Join(runErr, <-bridgeErr)
	}
	c := countDemo(svc.registry, double, ticketARN, customARN, prod)
	printDemoSummary(stdout, c, time.Since(start), double, ticketARN, customARN, o.samples)
	if runErr != nil {
		return runErr
	}
	if o.events > 0 && c.published+c.deadLettered != c.produced {
		return fmt.Errorf("demo stopped before every event was accounted for: %d produced, %d published, %d dead-lettered",
			c.produced, c.published, c.deadLettered)
	}
	return nil
}

// demoProducer writes generated events (and a few poison records) to the
// embedded Kafka, keyed by organization id like Thena's services.
type demoProducer struct {
	mu       sync.Mutex
	produced int
	finished bool
	err      error
}

func (p *demoProducer) run(ctx context.Context, brokers []string, o demoOptions) {
	err := p.produce(ctx, brokers, o)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = true
	if err != nil && ctx.Err() == nil {
		p.err = fmt.Errorf("demo producer: %w", err)
	}
}

func (p *demoProducer) produce(ctx context.Context, brokers []string, o demoOptions) error {
	// Events carry the time they are produced, so the end-to-end latency
	// on /metrics is the pipeline's own.
	gen, err := eventgen.New(o.seed, eventgen.Options{Orgs: o.orgs, Now: time.Now})
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(demoTopic))
	if err != nil {
		return err
	}
	defer cl.Close()
	batch := 500
	if o.events == 0 {
		batch = 100 // endless mode: a steady 1,000 events/s, not a flood
	}
	poisonKinds := eventgen.PoisonKinds()
	poisonEvery := 0
	if o.poison > 0 && o.events > 0 {
		poisonEvery = o.events / o.poison
	}
	if o.poison > 0 && o.events == 0 { // endless mode: the first -poison records spread over the first events
		poisonEvery = demoEndlessPoisonEvery
	}
	for n, poisoned := 0, 0; o.events == 0 || n < o.events; {
		size := batch
		if o.events > 0 && o.events-n < size {
			size = o.events - n
		}
		recs := make([]*kgo.Record, 0, size)
		for _, r := range gen.Mixed(size) {
			if poisonEvery > 0 && poisoned < o.poison && (n+len(recs)+1)%poisonEvery == 0 {
				r = gen.Poison(poisonKinds[poisoned%len(poisonKinds)])
				poisoned++
			}
			recs = append(recs, &kgo.Record{Key: r.Key, Value: r.Value})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return err
		}
		n += len(recs)
		p.mu.Lock()
		p.produced = n
		p.mu.Unlock()
		if o.events == 0 { // endless mode: a steady stream, not a flood
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func (p *demoProducer) done() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.finished
}

func (p *demoProducer) error() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *demoProducer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.produced
}

// demoCounts is the demo's progress, from the bridge's own metrics and what
// the SNS double accepted.
type demoCounts struct {
	produced, consumed        int
	published, ticket, custom int
	deadLettered              int
	deadLetterReasons         map[string]int
	truncated                 int
}

func countDemo(reg *prometheus.Registry, double *snstest.Server, ticketARN, customARN string, prod *demoProducer) demoCounts {
	c := demoCounts{produced: prod.count(), deadLetterReasons: map[string]int{}}
	c.ticket, c.custom = double.Count(ticketARN), double.Count(customARN)
	c.published = c.ticket + c.custom
	families, _ := reg.Gather()
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "bridge_records_consumed_total":
				c.consumed += int(m.GetCounter().GetValue())
			case "bridge_dead_letters_total":
				v := int(m.GetCounter().GetValue())
				c.deadLettered += v
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" {
						c.deadLetterReasons[l.GetValue()] += v
					}
				}
			case "bridge_truncations_total":
				c.truncated += int(m.GetCounter().GetValue())
			}
		}
	}
	return c
}

func printDemoSummary(w io.Writer, c demoCounts, took time.Duration, double *snstest.Server, ticketARN, customARN string, samples int) {
	for _, arn := range []string{ticketARN, customARN} {
		msgs := double.Messages(arn)
		for i := 0; i < samples && i < len(msgs); i++ {
			printSample(w, msgs[i])
		}
	}
	var reasons []string
	for r, n := range c.deadLetterReasons {
		if n == 0 {
			continue // series exist from the start at zero
		}
		reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(reasons)
	fmt.Fprintf(w, "\nsummary after %.1fs:\n", took.Seconds())
	fmt.Fprintf(w, "  produced       %d\n", c.produced)
	fmt.Fprintf(w, "  published      %d (ticket topic %d, custom object topic %d; %d truncated to fit)\n", c.published, c.ticket, c.custom, c.truncated)
	fmt.Fprintf(w, "  dead-lettered  %d (%s)\n", c.deadLettered, strings.Join(reasons, ", "))
	fmt.Fprintf(w, "  unaccounted    %d\n", c.produced-c.published-c.deadLettered)
}

func printSample(w io.Writer, m snstest.Message) {
	fmt.Fprintf(w, "\nsample message on %s\n  attributes:", m.TopicARN)
	names := make([]string, 0, len(m.Attributes))
	for n := range m.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, " %s=%q", n, m.Attributes[n].StringValue)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(m.Body), "  ", "  "); err != nil {
		fmt.Fprintf(w, "\n  body: (not JSON, %d bytes)\n", len(m.Body))
		return
	}
	if pretty.Len() > 1500 {
		pretty.Truncate(1500)
		pretty.WriteString("\n  ...")
	}
	fmt.Fprintf(w, "\n  body: %s\n", pretty.String())
}
