package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/errgroup"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// startupTimeout bounds each start-up check (brokers, registry, SNS topics),
// so that bad configuration fails in seconds with a reason, not never.
const startupTimeout = 15 * time.Second

func runService(ctx context.Context, args []string, env commandEnv) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	configPath := fs.String("config", "config.yaml", "configuration file")
	if err := parseFlags(fs, args); err != nil {
		return helpIsDone(err)
	}
	s, err := loadSettings(*configPath, env.getenv, env.environ)
	if err != nil {
		return err
	}
	level, _ := parseLevel(s.Log.Level)
	log := slog.New(slog.NewJSONHandler(env.stderr, &slog.HandlerOptions{Level: level}))

	svc, err := startService(ctx, s, log)
	if err != nil {
		return err
	}
	return svc.run(ctx)
}

// service is a started bridge: every dependency checked and built, nothing
// consuming yet.
type service struct {
	settings  settings
	log       *slog.Logger
	registry  *prometheus.Registry
	publisher *sns.Publisher
	engine    *consumer.Engine
	breakers  *breakerBoard
	listener  net.Listener
}

// startService checks the configuration against the world (brokers, schema
// registry, SNS topics) and builds the pipeline. Each failure names what to
// fix.
func startService(ctx context.Context, s settings, log *slog.Logger) (*service, error) {
	src, err := s.schemaSource()
	if err != nil {
		return nil, err
	}
	if err := checkSchemaSource(ctx, src); err != nil {
		return nil, fmt.Errorf("schemas.registry_url %s: %w", s.Schemas.RegistryURL, err)
	}
	if err := consumer.Ping(ctx, s.consumerConfig(), startupTimeout); err != nil {
		return nil, fmt.Errorf("kafka.brokers %v: %w", s.Kafka.Brokers, err)
	}
	client, topics, err := checkTopics(ctx, s)
	if err != nil {
		return nil, err
	}
	return assemble(ctx, s, src, client, topics, log)
}

// checkTopics builds the SNS client and reads every routed topic: each must
// exist and be permitted. The error is one line naming every unusable ARN.
func checkTopics(ctx context.Context, s settings) (*awssns.Client, map[string]sns.TopicInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	client, err := sns.NewClient(ctx, s.clientConfig())
	if err != nil {
		return nil, nil, fmt.Errorf("sns: %w", err)
	}
	topics, err := sns.Topics(ctx, client, s.Routing.TopicARNs())
	if err != nil {
		return nil, nil, fmt.Errorf("routing: SNS topics are not usable: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return client, topics, nil
}

// assemble builds the pipeline from checked parts: decoder, mapper,
// publisher with its breakers wired to the engine, engine, HTTP listener.
// The demo calls it too, with an embedded Kafka and the SNS double.
func assemble(ctx context.Context, s settings, src avro.SchemaSource, client sns.API, topics map[string]sns.TopicInfo, log *slog.Logger) (*service, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tr, err := s.translator(src, topics, reg, translate.WithLogger(log))
	if err != nil {
		return nil, err
	}

	snsMetrics, err := sns.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	board := newBreakerBoard(s.Routing.TopicARNs())
	pc := s.publisherConfig()
	pc.Topics = topics
	var engine *consumer.Engine // set below; the hook fires only once publishing starts
	pub, err := sns.NewPublisher(client, pc, sns.WithMetrics(snsMetrics), sns.WithLogger(log),
		sns.WithStateChange(func(arn string, _, to gobreaker.State) {
			open := to == gobreaker.StateOpen
			board.set(arn, open)
			engine.TopicBlocked(arn, open)
		}))
	if err != nil {
		return nil, fmt.Errorf("sns: %w", err)
	}
	engine, err = consumer.New(s.consumerConfig(), tr, pub,
		consumer.WithLogger(log),
		consumer.WithRegisterer(reg),
		consumer.WithClientMetrics(),
		consumer.WithVersion(version),
	)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("kafka: %w", err), pub.Close(ctx))
	}
	ln, err := net.Listen("tcp", s.HTTP.Listen)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("http.listen: %w", err), pub.Close(ctx))
	}
	return &service{settings: s, log: log, registry: reg, publisher: pub, engine: engine, breakers: board, listener: ln}, nil
}

// checkSchemaSource asks a registry for an id that cannot exist: an answer
// (unknown schema) proves the URL, TLS and credentials work; no answer is a
// start-up error. A local directory needs no check.
func checkSchemaSource(ctx context.Context, src avro.SchemaSource) error {
	rs, ok := src.(*avro.RegistrySource)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	_, err := rs.Schema(ctx, 0)
	if err == nil || isUnknownSchema(err) {
		return nil
	}
	return fmt.Errorf("the schema registry does not answer: %w", err)
}

// run serves HTTP and consumes until ctx ends, then shuts down within the
// configured deadline.
func (svc *service) run(ctx context.Context) error {
	srv := &http.Server{Handler: svc.handler(), ReadHeaderTimeout: 5 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(svc.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		defer func() {
			shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdownCtx)
		}()
		err := svc.engine.Run(gctx)
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), svc.settings.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, svc.publisher.Close(closeCtx))
	})
	svc.log.Info("bridge started", "version", version, "http", svc.listener.Addr().String(),
		"topics", svc.settings.Kafka.Topics, "group", svc.settings.Kafka.GroupID)
	err := g.Wait()
	svc.log.Info("bridge stopped")
	return err
}

// handler serves /metrics, /healthz (the process is alive) and /readyz (the
// group is joined, topics were validated at start-up, and not every topic's
// breaker is open).
func (svc *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(svc.registry, promhttp.HandlerOpts{Registry: svc.registry}))
	if svc.settings.HTTP.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/debug/keys", svc.serveHotKeys)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !svc.engine.Ready():
			http.Error(w, "not ready: consumer group not joined", http.StatusServiceUnavailable)
		case svc.breakers.allOpen():
			http.Error(w, "not ready: every SNS topic's circuit breaker is open", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ready")
		}
	})
	return mux
}

// hotKeysDefault and hotKeysMax bound the n of /debug/keys?n=.
const hotKeysDefault, hotKeysMax = 20, 500

// serveHotKeys answers /debug/keys[?n=N] with the engine's hottest ordering
// keys as JSON: by backlog, by time parked and by recent rate, each with its
// share and its recent end-to-end latency (consumer.Engine.HotKeys). It is
// the per-organization view metrics cannot give without one series per
// organization.
func (svc *service) serveHotKeys(w http.ResponseWriter, r *http.Request) {
	n := hotKeysDefault
	if q := r.URL.Query().Get("n"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 || v > hotKeysMax {
			http.Error(w, fmt.Sprintf("n must be a whole number from 1 to %d", hotKeysMax), http.StatusBadRequest)
			return
		}
		n = v
	}
	keys := []consumer.KeyStats{}
	if svc.engine != nil {
		keys = append(keys, svc.engine.HotKeys(n)...)
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		GeneratedAt time.Time           `json:"generated_at"`
		Keys        []consumer.KeyStats `json:"keys"`
	}{time.Now().UTC(), keys})
}

// breakerBoard remembers which topics' breakers are open, for /readyz.
type breakerBoard struct {
	mu   sync.Mutex
	open map[string]bool
}

func newBreakerBoard(arns []string) *breakerBoard {
	b := &breakerBoard{open: make(map[string]bool, len(arns))}
	for _, a := range arns {
		b.open[a] = false
	}
	return b
}

func (b *breakerBoard) set(arn string, open bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open[arn] = open
}

func (b *breakerBoard) allOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.open) == 0 {
		return false
	}
	for _, o := range b.open {
		if !o {
			return false
		}
	}
	return true
}
