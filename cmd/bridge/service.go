package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/errgroup"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/tracing"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

const runUsage = `Usage: bridge run [-config FILE]

Runs the bridge: joins the Kafka consumer group of kafka.group_id, decodes
each record of kafka.topics, publishes it to the SNS topic its route names,
and commits an offset once everything before it is published or
dead-lettered. It stops gracefully on SIGTERM or Ctrl-C (within
shutdown_timeout).

Before consuming it checks the configuration (every problem at once, each
naming its key), then this machine (http.listen is free, the schema files
and TLS files can be read), then the world (the schema registry answers,
the brokers hold the source topics, AWS credentials exist and every routed
SNS topic exists and may be used). The log is JSON lines on stderr; a
failed start is logged there too ("bridge cannot start", one line per
problem) and, on a terminal, also printed plainly.

Flags:
`

func runService(ctx context.Context, args []string, env commandEnv) error {
	fs := newFlagSet("run", runUsage, env)
	configPath := fs.String("config", "config.yaml", "configuration file (the repository's config.yaml documents every key)")
	if err := parseFlags(fs, args); err != nil {
		return helpIsDone(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: run takes no arguments, got %q (give the configuration file as -config %s)", errUsage, fs.Arg(0), fs.Arg(0))
	}
	level := new(slog.LevelVar)
	log := newLogger(env.stderr, level)
	s, err := loadSettings(*configPath, env.getenv, env.environ)
	if err != nil {
		return startFailed(log, env.stderr, err)
	}
	l, _ := parseLevel(s.Log.Level) // valid: loadSettings checked it
	level.Set(l)
	// Tracing comes from the standard OTEL_* variables, not the file.
	tracer, err := tracing.New(ctx, env.getenv, build().Version, log.With("component", "tracing"))
	if err != nil {
		return startFailed(log, env.stderr, err)
	}
	svc, err := startService(ctx, s, log, sns.WithTracer(tracer.Tracer(build().Version)))
	if err != nil {
		return startFailed(log, env.stderr, errors.Join(err, tracer.Shutdown(ctx)))
	}
	runErr := svc.run(ctx)
	// The publisher is closed: its last spans are in the exporter's
	// buffer. They get a few seconds to leave, past a SIGTERM's context.
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := tracer.Shutdown(flushCtx); err != nil {
		log.Warn("spans lost at shutdown", "err", err)
	}
	if runErr != nil {
		return &reportedError{runErr} // svc.run logged it
	}
	return nil
}

// startFailed logs each problem that stopped start-up, one line each, and
// prints them plainly too when stderr is a terminal.
func startFailed(log *slog.Logger, stderr io.Writer, err error) error {
	problems := leafErrors(err)
	for _, p := range problems {
		log.Error("bridge cannot start", "err", p)
	}
	if isTerminal(stderr) {
		for _, p := range problems {
			fmt.Fprintf(stderr, "bridge: %v\n", p)
		}
	}
	return &reportedError{err}
}

// service is a started bridge: every dependency checked and built, nothing
// consuming yet.
type service struct {
	settings  settings
	log       *slog.Logger
	registry  *prometheus.Registry
	publisher *sns.Publisher
	engine    *consumer.Engine
	listener  net.Listener
}

// assemble builds the pipeline from checked parts: decoder, mapper,
// publisher with its breakers wired to the engine, engine; ln is the bound
// HTTP listener. The demo calls it too, with an embedded Kafka and the SNS
// double.
func assemble(ctx context.Context, s settings, src avro.SchemaSource, client sns.API, topics map[string]sns.TopicInfo, ln net.Listener, log *slog.Logger, snsOpts ...sns.Option) (*service, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), build().collector())
	storeOpts, err := s.payloadStore(ctx, reg)
	if err != nil {
		return nil, err
	}
	tr, err := s.translator(src, topics, reg, append(storeOpts, translate.WithLogger(log.With("component", "translate")))...)
	if err != nil {
		return nil, err
	}

	snsMetrics, err := sns.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	pc := s.publisherConfig()
	pc.Topics = topics
	var engine *consumer.Engine // set below; the hook fires only once publishing starts
	opts := append([]sns.Option{sns.WithMetrics(snsMetrics), sns.WithLogger(log.With("component", "sns")),
		sns.WithStateChange(func(arn string, _, to gobreaker.State) {
			engine.TopicBlocked(arn, to == gobreaker.StateOpen)
		})}, snsOpts...)
	pub, err := sns.NewPublisher(client, pc, opts...)
	if err != nil {
		return nil, fmt.Errorf("sns: %w", err)
	}
	engine, err = consumer.New(s.consumerConfig(), tr, pub,
		consumer.WithLogger(log),
		consumer.WithRegisterer(reg),
		consumer.WithClientMetrics(),
		consumer.WithVersion(build().Version),
	)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("kafka: %w", err), pub.Close(ctx))
	}
	return &service{settings: s, log: log, registry: reg, publisher: pub, engine: engine, listener: ln}, nil
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
	b := build()
	svc.log.Info("bridge started", "version", b.Version, "commit", b.Commit, "http", svc.listener.Addr().String(),
		"topics", svc.settings.Kafka.Topics, "group", svc.settings.Kafka.GroupID)
	if err := g.Wait(); err != nil {
		svc.log.Error("bridge stopped", "err", err)
		return err
	}
	svc.log.Info("bridge stopped")
	return nil
}

// handler serves /metrics, /healthz (the process is alive) and /readyz (the
// member is in its group and its work moves (consumerUnready), topics were
// validated at start-up, and SNS is usable for the events the replica holds
// (sns.Publisher.Unusable)).
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
		consumerWhy := consumerUnready(svc.engine.Health(), time.Now(), svc.settings.HTTP)
		switch {
		case consumerWhy != "":
			http.Error(w, "not ready: "+consumerWhy, http.StatusServiceUnavailable)
		case svc.publisher.Unusable():
			http.Error(w, "not ready: SNS is unusable for the events this replica holds", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ready")
		}
	})
	return mux
}

// consumerUnready says why the delivery engine makes the replica unready,
// or "" when it does not: the member is not in its consumer group (not
// joined yet, or the group was lost); records have waited
// http.ready_stall_timeout with none finished; or every partition with work
// has been stalled decoding for http.ready_translate_stall_timeout.
func consumerUnready(h consumer.Health, now time.Time, hs httpSettings) string {
	switch {
	case !h.InGroup:
		return "not a member of the consumer group (joining, or the group was lost: brokers unreachable or session expired)"
	case h.Waiting > 0 && now.Sub(h.LastProgress) > hs.ReadyStallTimeout:
		return fmt.Sprintf("%d records waiting and none published or dead-lettered for %s", h.Waiting, now.Sub(h.LastProgress).Round(time.Second))
	case !h.TranslateStalledSince.IsZero() && now.Sub(h.TranslateStalledSince) > hs.ReadyTranslateStallTimeout:
		return fmt.Sprintf("decoding stalled on every partition with work for %s (schema registry unavailable?)", now.Sub(h.TranslateStalledSince).Round(time.Second))
	}
	return ""
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
