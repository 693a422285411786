package main

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// settings is the configuration file's shape (config.yaml documents every
// key). Each section becomes the Config of the package it belongs to; the
// packages own their defaults and validation, this file only translates.
type settings struct {
	Kafka   kafkaSettings  `yaml:"kafka"`
	Schemas schemaSettings `yaml:"schemas"`
	SNS     snsSettings    `yaml:"sns"`
	// S3 is where routes that offload large events store them (offload.go).
	S3      s3Settings     `yaml:"s3"`
	Routing mapping.Config `yaml:"routing"`
	// Ordering shapes how many events of one ordering key are out at once.
	Ordering orderingSettings `yaml:"ordering"`
	HTTP     httpSettings     `yaml:"http"`
	Log      logSettings      `yaml:"log"`
	// ShutdownTimeout bounds a graceful stop on SIGTERM: drain, commit, leave
	// the group. It must exceed kafka.drain_timeout.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

type kafkaSettings struct {
	Brokers     []string     `yaml:"brokers"`
	GroupID     string       `yaml:"group_id"`
	Topics      []string     `yaml:"topics"`
	TopicRegex  bool         `yaml:"topic_regex"`
	ResetOffset string       `yaml:"reset_offset"`
	ClientID    string       `yaml:"client_id"`
	InstanceID  string       `yaml:"instance_id"`
	TLS         tlsSettings  `yaml:"tls"`
	SASL        saslSettings `yaml:"sasl"`
	// Rack is this replica's zone as the brokers name racks (KIP-392).
	Rack string `yaml:"rack"`
	// IsolationLevel is read_committed (aborted transactions never
	// published) or read_uncommitted.
	IsolationLevel  string        `yaml:"isolation_level"`
	DeadLetterTopic string        `yaml:"dead_letter_topic"`
	CommitInterval  time.Duration `yaml:"commit_interval"`
	CommitTimeout   time.Duration `yaml:"commit_timeout"`
	// MaxBufferedBytesPerPartition and MaxBufferedBytes bound the records
	// fetched and not finished, in bytes of memory.
	MaxBufferedBytesPerPartition int64         `yaml:"max_buffered_bytes_per_partition"`
	MaxBufferedBytes             int64         `yaml:"max_buffered_bytes"`
	DrainTimeout                 time.Duration `yaml:"drain_timeout"`
	RebalanceTimeout             time.Duration `yaml:"rebalance_timeout"`
	SessionTimeout               time.Duration `yaml:"session_timeout"`
	HeartbeatInterval            time.Duration `yaml:"heartbeat_interval"`
	// LagInterval is how often the committed offset lag is read from the
	// brokers.
	LagInterval            time.Duration `yaml:"lag_interval"`
	FetchMaxBytes          int32         `yaml:"fetch_max_bytes"`
	FetchMaxPartitionBytes int32         `yaml:"fetch_max_partition_bytes"`
	FetchMaxWait           time.Duration `yaml:"fetch_max_wait"`
	RetryBackoffMin        time.Duration `yaml:"retry_backoff_min"`
	RetryBackoffMax        time.Duration `yaml:"retry_backoff_max"`
}

type orderingSettings struct {
	// MaxRunPerKey is how many consecutive events of one key and topic may
	// ride one PublishBatch call; 1 keeps one event per key in flight.
	MaxRunPerKey int `yaml:"max_run_per_key"`
	// MaxInflightPerKey is how many calls of one key may be out at once on
	// routes with relaxed order.
	MaxInflightPerKey int `yaml:"max_inflight_per_key"`
}

type tlsSettings struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

type saslSettings struct {
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
	// TokenFile and TokenCommand are OAUTHBEARER's token source.
	TokenFile    string   `yaml:"token_file"`
	TokenCommand []string `yaml:"token_command"`
}

type schemaSettings struct {
	// RegistryURL is a Confluent-compatible Schema Registry; LocalDir a
	// directory of .avsc files for development. Exactly one is set.
	RegistryURL    string        `yaml:"registry_url"`
	LocalDir       string        `yaml:"local_dir"`
	Username       string        `yaml:"username"`
	Password       string        `yaml:"password"`
	TLS            tlsSettings   `yaml:"tls"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	RetryAttempts  int           `yaml:"retry_attempts"`
	Limits         limitSettings `yaml:"limits"`
}

type limitSettings struct {
	MaxRecordBytes int `yaml:"max_record_bytes"`
	MaxStringBytes int `yaml:"max_string_bytes"`
	MaxItems       int `yaml:"max_items"`
	MaxDepth       int `yaml:"max_depth"`
	MaxJSONBytes   int `yaml:"max_json_bytes"`
	MaxSchemas     int `yaml:"max_schemas"`
}

type snsSettings struct {
	Region   string `yaml:"region"`
	Endpoint string `yaml:"endpoint"`
	Profile  string `yaml:"profile"`
	// RoleARN is an IAM role the bridge assumes (STS AssumeRole, with the
	// credentials of the standard chain) to publish; ExternalID is passed
	// with it when the role's trust policy asks for one.
	RoleARN    string `yaml:"role_arn"`
	ExternalID string `yaml:"external_id"`
	// MaxRatePerTopic caps the events/s this replica publishes to each
	// topic (0: no cap), the ceiling of the adaptive send rate.
	MaxRatePerTopic int           `yaml:"max_rate_per_topic"`
	RequestTimeout  time.Duration `yaml:"request_timeout"`
	// ResponseTimeout abandons a connection SNS does not start answering on.
	ResponseTimeout time.Duration `yaml:"response_timeout"`
	// Encoder is how PublishBatch requests are written: direct (the
	// bridge's own encoder) or sdk (the AWS SDK's, the fallback for one
	// release).
	Encoder               string        `yaml:"encoder"`
	Linger                time.Duration `yaml:"linger"`
	MaxInflightBatches    int           `yaml:"max_inflight_batches"`
	MaxQueuedEntries      int           `yaml:"max_queued_entries"`
	CallTimeout           time.Duration `yaml:"call_timeout"`
	BackoffBase           time.Duration `yaml:"backoff_base"`
	BackoffMax            time.Duration `yaml:"backoff_max"`
	BreakerFailures       uint32        `yaml:"breaker_failures"`
	BreakerOpenTimeout    time.Duration `yaml:"breaker_open_timeout"`
	BreakerOpenTimeoutMax time.Duration `yaml:"breaker_open_timeout_max"`
	BreakerHalfOpenCalls  uint32        `yaml:"breaker_half_open_calls"`

	// endpointVar and endpointURL are the AWS_ENDPOINT_URL_* variable the
	// SDK takes the endpoint from when Endpoint is empty, for messages.
	endpointVar, endpointURL string
}

type httpSettings struct {
	// Listen is the address of /metrics, /healthz and /readyz.
	Listen string `yaml:"listen"`
	// Pprof serves Go's profiles under /debug/pprof/ on the same port, for
	// profiling a live replica. Off by default: profiles reveal internals.
	Pprof bool `yaml:"pprof"`
	// ReadyStallTimeout: /readyz fails once records have waited this long
	// with none finished.
	ReadyStallTimeout time.Duration `yaml:"ready_stall_timeout"`
	// ReadyTranslateStallTimeout: /readyz fails once every partition with
	// work has been stalled decoding (schema registry) this long.
	ReadyTranslateStallTimeout time.Duration `yaml:"ready_translate_stall_timeout"`
}

type logSettings struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// defaultSettings returns the settings a config file starts from: every
// package's own defaults, so that a key left out of the file keeps them.
func defaultSettings() settings {
	kc := consumer.DefaultConfig()
	lim := avro.DefaultConfig()
	return settings{
		Kafka: kafkaSettings{
			ResetOffset:                  kc.ResetOffset,
			IsolationLevel:               kc.IsolationLevel,
			ClientID:                     kc.ClientID,
			DeadLetterTopic:              kc.DeadLetterTopic,
			CommitInterval:               kc.CommitInterval,
			CommitTimeout:                kc.CommitTimeout,
			MaxBufferedBytesPerPartition: kc.MaxBufferedBytesPerPartition,
			MaxBufferedBytes:             kc.MaxBufferedBytes,
			DrainTimeout:                 kc.DrainTimeout,
			RebalanceTimeout:             kc.RebalanceTimeout,
			SessionTimeout:               kc.SessionTimeout,
			HeartbeatInterval:            kc.HeartbeatInterval,
			LagInterval:                  kc.LagInterval,
			FetchMaxBytes:                kc.FetchMaxBytes,
			FetchMaxPartitionBytes:       kc.FetchMaxPartitionBytes,
			FetchMaxWait:                 kc.FetchMaxWait,
			RetryBackoffMin:              kc.RetryBackoffMin,
			RetryBackoffMax:              kc.RetryBackoffMax,
		},
		Ordering: orderingSettings{
			MaxRunPerKey:      kc.MaxRunPerKey,
			MaxInflightPerKey: kc.MaxInflightPerKey,
		},
		Schemas: schemaSettings{
			RequestTimeout: 5 * time.Second,
			RetryAttempts:  5,
			Limits: limitSettings{
				MaxRecordBytes: lim.MaxRecordBytes,
				MaxStringBytes: lim.MaxStringBytes,
				MaxItems:       lim.MaxItems,
				MaxDepth:       lim.MaxDepth,
				MaxJSONBytes:   lim.MaxJSONBytes,
				MaxSchemas:     lim.MaxSchemas,
			},
		},
		SNS: snsSettings{
			RequestTimeout:        10 * time.Second,
			ResponseTimeout:       sns.DefaultResponseTimeout,
			Encoder:               sns.EncoderDirect,
			Linger:                sns.DefaultLinger,
			MaxInflightBatches:    sns.DefaultMaxInflightBatches,
			MaxQueuedEntries:      sns.DefaultMaxQueuedEntries,
			CallTimeout:           sns.DefaultCallTimeout,
			BackoffBase:           sns.DefaultBackoffBase,
			BackoffMax:            sns.DefaultBackoffMax,
			BreakerFailures:       sns.DefaultBreakerFailures,
			BreakerOpenTimeout:    sns.DefaultBreakerOpenTimeout,
			BreakerOpenTimeoutMax: sns.DefaultBreakerOpenTimeoutMax,
			BreakerHalfOpenCalls:  sns.DefaultBreakerHalfOpenCalls,
		},
		HTTP: httpSettings{Listen: "127.0.0.1:9090",
			ReadyStallTimeout: 2 * time.Minute, ReadyTranslateStallTimeout: 10 * time.Second},
		Log:             logSettings{Level: "info"},
		ShutdownTimeout: 30 * time.Second,
	}
}

// loadSettings reads the config file at path over the defaults, applies
// the environment and validates the result. The error holds every problem
// found, one per line, each naming its key and where it was set.
func loadSettings(path string, getenv func(string) string, environ []string) (settings, error) {
	s := defaultSettings()
	src, err := readConfig(path, getenv, environ, &s)
	if src == nil {
		return s, err
	}
	s.SNS.endpointVar, s.SNS.endpointURL = endpointFromEnv(getenv)
	return s, src.explain(err, s.Validate())
}

// The settings types whose field names match each package's Config, for
// turning the package's validation errors into YAML paths.
var (
	kafkaFields   = fieldScope{{reflect.TypeFor[kafkaSettings](), "kafka"}, {reflect.TypeFor[orderingSettings](), "ordering"}}
	limitFields   = fieldScope{{reflect.TypeFor[limitSettings](), "schemas.limits"}}
	routingFields = fieldScope{{reflect.TypeFor[mapping.Config](), "routing"}}
	snsFields     = fieldScope{{reflect.TypeFor[snsSettings](), "sns"}}
)

// Validate checks what no package checks (the file's own keys and how
// sections relate), then each package's Config. Every problem is reported,
// each naming its YAML path.
func (s settings) Validate() error {
	var errs []error
	switch {
	case s.Schemas.RegistryURL == "" && s.Schemas.LocalDir == "":
		errs = append(errs, problemf("schemas", "set schemas.registry_url (a schema registry) or schemas.local_dir (a directory of .avsc files)"))
	case s.Schemas.RegistryURL != "" && s.Schemas.LocalDir != "":
		errs = append(errs, problemf("schemas", "schemas.registry_url and schemas.local_dir are both set; keep one"))
	}
	if _, _, err := net.SplitHostPort(s.HTTP.Listen); err != nil {
		errs = append(errs, problemf("http.listen", "%q is not host:port (like 0.0.0.0:9090)", s.HTTP.Listen))
	}
	if s.HTTP.ReadyStallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("http.ready_stall_timeout: %s must be positive", s.HTTP.ReadyStallTimeout))
	}
	if s.HTTP.ReadyTranslateStallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("http.ready_translate_stall_timeout: %s must be positive", s.HTTP.ReadyTranslateStallTimeout))
	}
	if _, err := parseLevel(s.Log.Level); err != nil {
		errs = append(errs, problemf("log.level", "%v", err))
	}
	errs = append(errs, s.SNS.roleProblems()...)
	if s.ShutdownTimeout <= s.Kafka.DrainTimeout {
		errs = append(errs, problemf("shutdown_timeout", "%s must be longer than kafka.drain_timeout (%s)", s.ShutdownTimeout, s.Kafka.DrainTimeout))
	}
	if err := s.consumerConfig().Validate(); err != nil {
		errs = append(errs, kafkaFields.rewrite(err, "kafka", "consumer config: "))
	}
	if err := s.decoderConfig().Validate(); err != nil {
		errs = append(errs, limitFields.rewrite(err, "schemas.limits", "avro: Config.", "avro: "))
	}
	for _, err := range leafErrors(s.Routing.Validate()) {
		errs = append(errs, routingFields.rewrite(err, "routing", "mapping: "))
	}
	if err := s.clientConfig().Validate(); err != nil {
		errs = append(errs, snsFields.rewrite(err, "sns", "sns client config: "))
	}
	if err := s.publisherConfig().Validate(); err != nil {
		errs = append(errs, snsFields.rewrite(err, "sns", "sns config: "))
	}
	return errors.Join(errs...)
}

func (s settings) consumerConfig() consumer.Config {
	k := s.Kafka
	return consumer.Config{
		Brokers:     k.Brokers,
		GroupID:     k.GroupID,
		Topics:      k.Topics,
		TopicRegex:  k.TopicRegex,
		ResetOffset: k.ResetOffset,
		ClientID:    k.ClientID,
		InstanceID:  k.InstanceID,
		TLS: consumer.TLSConfig{
			Enabled:            k.TLS.Enabled,
			CAFile:             k.TLS.CAFile,
			CertFile:           k.TLS.CertFile,
			KeyFile:            k.TLS.KeyFile,
			InsecureSkipVerify: k.TLS.InsecureSkipVerify,
		},
		SASL: consumer.SASLConfig{Mechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: k.SASL.Password,
			TokenFile: k.SASL.TokenFile, TokenCommand: k.SASL.TokenCommand},
		Rack:                         k.Rack,
		IsolationLevel:               k.IsolationLevel,
		DeadLetterTopic:              k.DeadLetterTopic,
		CommitInterval:               k.CommitInterval,
		CommitTimeout:                k.CommitTimeout,
		MaxBufferedBytesPerPartition: k.MaxBufferedBytesPerPartition,
		MaxBufferedBytes:             k.MaxBufferedBytes,
		MaxRunPerKey:                 s.Ordering.MaxRunPerKey,
		MaxInflightPerKey:            s.Ordering.MaxInflightPerKey,
		DrainTimeout:                 k.DrainTimeout,
		RebalanceTimeout:             k.RebalanceTimeout,
		SessionTimeout:               k.SessionTimeout,
		HeartbeatInterval:            k.HeartbeatInterval,
		LagInterval:                  k.LagInterval,
		FetchMaxBytes:                k.FetchMaxBytes,
		FetchMaxPartitionBytes:       k.FetchMaxPartitionBytes,
		FetchMaxWait:                 k.FetchMaxWait,
		RetryBackoffMin:              k.RetryBackoffMin,
		RetryBackoffMax:              k.RetryBackoffMax,
	}
}

func (s settings) decoderConfig() avro.Config {
	l := s.Schemas.Limits
	return avro.Config{
		MaxRecordBytes: l.MaxRecordBytes,
		MaxStringBytes: l.MaxStringBytes,
		MaxItems:       l.MaxItems,
		MaxDepth:       l.MaxDepth,
		MaxJSONBytes:   l.MaxJSONBytes,
		MaxSchemas:     l.MaxSchemas,
	}
}

func (s settings) clientConfig() sns.ClientConfig {
	return sns.ClientConfig{
		Region:          s.SNS.Region,
		Endpoint:        s.SNS.Endpoint,
		Profile:         s.SNS.Profile,
		RequestTimeout:  s.SNS.RequestTimeout,
		ResponseTimeout: s.SNS.ResponseTimeout,
	}
}

// publisherConfig is the publisher's Config without its topics, which the
// caller adds once it has them.
func (s settings) publisherConfig() sns.Config {
	n := s.SNS
	return sns.Config{
		// In the file 0 means no linger; in sns.Config 0 means its default.
		Linger:                cmp.Or(n.Linger, sns.NoLinger),
		Encoder:               n.Encoder,
		MaxRatePerTopic:       float64(n.MaxRatePerTopic),
		MaxInflightBatches:    n.MaxInflightBatches,
		MaxQueuedEntries:      n.MaxQueuedEntries,
		CallTimeout:           n.CallTimeout,
		BackoffBase:           n.BackoffBase,
		BackoffMax:            n.BackoffMax,
		BreakerFailures:       n.BreakerFailures,
		BreakerOpenTimeout:    n.BreakerOpenTimeout,
		BreakerOpenTimeoutMax: n.BreakerOpenTimeoutMax,
		BreakerHalfOpenCalls:  n.BreakerHalfOpenCalls,
	}
}

// translator builds the decoder and mapper from the settings, the schema
// source and what start-up learnt of the topics; every command that turns
// records into SNS messages (run, demo, translate, dlq) builds its
// Translator here. reg, when set, gets bridge_truncations_total.
func (s settings) translator(src avro.SchemaSource, topics map[string]mapping.TopicInfo, reg prometheus.Registerer, opts ...translate.Option) (*translate.Translator, error) {
	dec, err := avro.NewDecoder(src, s.decoderConfig())
	if err != nil {
		return nil, fmt.Errorf("schemas.limits: %w", err)
	}
	m, err := mapping.NewMapper(s.Routing, topics)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return translate.New(dec, m, reg, opts...)
}

// schemaSource builds the configured source of writer schemas.
func (s settings) schemaSource() (avro.SchemaSource, error) {
	if s.Schemas.LocalDir != "" {
		if err := localDirProblem(s.Schemas.LocalDir); err != nil {
			return nil, err
		}
		src, err := avro.NewLocalSource(os.DirFS(s.Schemas.LocalDir))
		if err != nil {
			return nil, problemf("schemas.local_dir", "%v", err)
		}
		return src, nil
	}
	opts := []avro.RegistryOption{
		avro.WithRequestTimeout(s.Schemas.RequestTimeout),
		avro.WithRetry(s.Schemas.RetryAttempts, 100*time.Millisecond, 2*time.Second),
	}
	if s.Schemas.Username != "" {
		opts = append(opts, avro.WithBasicAuth(s.Schemas.Username, s.Schemas.Password))
	}
	if s.Schemas.TLS.Enabled || strings.HasPrefix(s.Schemas.RegistryURL, "https://") {
		cfg, err := tlsConfig(s.Schemas.TLS, "schemas.tls")
		if err != nil {
			return nil, err
		}
		opts = append(opts, avro.WithTLSConfig(cfg))
	}
	src, err := avro.NewRegistrySource(s.Schemas.RegistryURL, opts...)
	if err != nil {
		return nil, problemf("schemas.registry_url", "%v", err)
	}
	return src, nil
}

// localDirProblem explains a schemas.local_dir that is not a directory.
func localDirProblem(dir string) error {
	where := ""
	if !filepath.IsAbs(dir) {
		if wd, err := os.Getwd(); err == nil {
			where = " (relative paths are from the working directory, " + wd + ")"
		}
	}
	fi, err := os.Stat(dir)
	switch {
	case err != nil && errors.Is(err, os.ErrNotExist):
		return problemf("schemas.local_dir", "no directory %s%s: give the directory of the .avsc files, or set schemas.registry_url instead", dir, where)
	case err != nil:
		return problemf("schemas.local_dir", "cannot read %s: %v", dir, err)
	case !fi.IsDir():
		return problemf("schemas.local_dir", "%s is a file, not a directory of .avsc files", dir)
	}
	return nil
}

// tlsConfig builds a client TLS configuration from the PEM files of t, the
// section at path; each file that cannot be used is one problem.
func tlsConfig(t tlsSettings, path string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, documented as never for production
	var errs []error
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		switch {
		case err != nil:
			errs = append(errs, problemf(path+".ca_file", "cannot read %s: %v", t.CAFile, unwrapPath(err)))
		default:
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				errs = append(errs, problemf(path+".ca_file", "%s holds no PEM certificate", t.CAFile))
			}
			cfg.RootCAs = pool
		}
	}
	switch {
	case (t.CertFile == "") != (t.KeyFile == ""):
		errs = append(errs, problemf(path+".cert_file", "set both %s.cert_file and %s.key_file, or neither", path, path))
	case t.CertFile != "":
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			errs = append(errs, problemf(path+".cert_file", "%s and %s are not a usable certificate and key: %v", t.CertFile, t.KeyFile, unwrapPath(err)))
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// unwrapPath is the reason of a file error without the path, which the
// caller names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return l, nil
}
