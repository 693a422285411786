package bridgeproc

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// The real bridge binary, started with a Config on an embedded Kafka and the
// SNS double: Start learns its address from its log, WaitReady returns once
// /readyz answers, the event reaches SNS, /metrics counts it, and SIGTERM
// stops it cleanly.
func TestStartWaitReadyScrapeStop(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := Build(ctx, bin); err != nil {
		t.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "events", "events.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	accepted := make(chan string, 1)
	double := snstest.NewServer(snstest.Options{OnAccept: func(m *snstest.Message) {
		select {
		case accepted <- m.Attributes["event_name"].StringValue:
		default:
		}
	}})
	defer double.Close()
	arn, err := double.CreateTopic("thena-events", nil)
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := filepath.Abs("../../schemas")
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig(Base{
		Brokers: cluster.ListenAddrs(), GroupID: "g", Topics: []string{"events"},
		SchemasDir: schemas, SNSEndpoint: double.URL, Routes: []mapping.Route{{Pattern: "*", TopicARN: arn}},
	}).Set("http.listen", "127.0.0.1:0").Set("kafka.commit_interval", "100ms")
	config := filepath.Join(t.TempDir(), "config.yaml")
	if err := cfg.WriteFile(config); err != nil {
		t.Fatal(err)
	}
	var log LogBuffer
	b, err := Start(ctx, Options{Binary: bin, Config: config, Env: Env(os.Environ()), Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Kill()
	if err := b.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if b.Addr() == "" {
		t.Fatal("ready without an address")
	}

	rec, err := eventgen.Sample(1, "ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "events", Key: rec.Key, Value: rec.Value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-accepted:
		if name != "ticket:created" {
			t.Errorf("SNS got a %s", name)
		}
	case <-b.Done():
		t.Fatalf("the bridge exited: %v\n%s", b.Err(), log.String())
	case <-ctx.Done():
		t.Fatalf("the event never reached SNS\n%s", log.String())
	}
	m, err := b.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Sum("bridge_records_consumed_total"); n != 1 {
		t.Errorf("bridge_records_consumed_total = %v, want 1", n)
	}
	if err := b.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping: %v\n%s", err, log.String())
	}
	if !b.Exited() || b.State() == nil || !b.State().Success() {
		t.Errorf("after Stop: exited %v, state %v", b.Exited(), b.State())
	}
}

func TestConfigSetGetAndYAML(t *testing.T) {
	cfg := NewConfig(Base{Brokers: []string{"127.0.0.1:9092"}, GroupID: "g", Topics: []string{"t"}, RegistryURL: "http://127.0.0.1:8081",
		SNSEndpoint: "http://127.0.0.1:4566", Routes: []mapping.Route{{Pattern: "*", TopicARN: "arn:aws:sns:us-east-1:123456789012:t"}}})
	cfg.Set("kafka.max_buffered_bytes", 2000).Set("log.level", "debug")
	if cfg.Get("kafka.group_id") != "g" || cfg.Get("kafka.max_buffered_bytes") != 2000 || cfg.Get("log.level") != "debug" || cfg.Get("no.such.key") != nil {
		t.Errorf("Get after Set: %v", cfg)
	}
	cfg.Set("kafka.instance_id", nil)
	if !cfg.Has("kafka.instance_id") || !cfg.Has("kafka.group_id") || cfg.Has("kafka.no_such_key") || cfg.Has("no.such.key") || cfg.Has("kafka.group_id.deeper") {
		t.Errorf("Has: a key set to null is there, one never set is not: %v", cfg)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := cfg.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Kafka struct {
			Brokers     []string `yaml:"brokers"`
			MaxInFlight int      `yaml:"max_buffered_bytes"`
		} `yaml:"kafka"`
		Schemas struct {
			RegistryURL string `yaml:"registry_url"`
		} `yaml:"schemas"`
		Routing mapping.Config `yaml:"routing"`
	}
	if err := yaml.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Kafka.Brokers[0] != "127.0.0.1:9092" || back.Kafka.MaxInFlight != 2000 || back.Schemas.RegistryURL != "http://127.0.0.1:8081" ||
		len(back.Routing.Routes) != 1 || back.Routing.Routes[0].TopicARN != "arn:aws:sns:us-east-1:123456789012:t" {
		t.Errorf("the file reads back as %+v:\n%s", back, raw)
	}
}

func TestParseMetrics(t *testing.T) {
	m := ParseMetrics(`# HELP bridge_dead_letters_total x
# TYPE bridge_dead_letters_total counter
bridge_dead_letters_total{reason="too_large",topic="a"} 2
bridge_dead_letters_total{reason="unroutable",topic="a"} 3
bridge_sns_breaker_state{topic_arn="a"} 0
bridge_sns_breaker_state{topic_arn="b"} 2
bridge_inflight_events 7
not a number here
`)
	if got := m.Sum("bridge_dead_letters_total"); got != 5 {
		t.Errorf("Sum = %v, want 5", got)
	}
	if got := m.Sum("bridge_dead_letters_total", `reason="too_large"`); got != 2 {
		t.Errorf("Sum by reason = %v, want 2", got)
	}
	if got := m.Max("bridge_sns_breaker_state"); got != 2 {
		t.Errorf("Max = %v, want 2", got)
	}
	if got, ok := m["bridge_inflight_events"]; !ok || got != 7 || len(m) != 5 {
		t.Errorf("series %v", m)
	}
}

// A child's environment carries none of the caller's BRIDGE_* or AWS_*
// settings, only the dummy AWS ones.
func TestEnvDropsTheCallersBridgeAndAWSSettings(t *testing.T) {
	env := Env([]string{"PATH=/bin", "AWS_PROFILE=prod", "AWS_ACCESS_KEY_ID=AKIAREAL", "BRIDGE_KAFKA_BROKERS=x:1", "HOME=/h"}, "EXTRA=1")
	for _, kv := range env {
		if kv == "AWS_PROFILE=prod" || kv == "AWS_ACCESS_KEY_ID=AKIAREAL" || strings.HasPrefix(kv, "BRIDGE_") {
			t.Errorf("environment keeps %s", kv)
		}
	}
	for _, want := range []string{"PATH=/bin", "HOME=/h", "EXTRA=1", "AWS_ACCESS_KEY_ID=test", "AWS_REGION=" + Region, "AWS_EC2_METADATA_DISABLED=true"} {
		if !slices.Contains(env, want) {
			t.Errorf("environment lacks %s: %v", want, env)
		}
	}
}
