package consumer

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
)

func TestValidateNamesTheBadField(t *testing.T) {
	good := func() Config {
		return Config{Brokers: []string{"127.0.0.1:9092"}, GroupID: "bridge", Topics: []string{"thena.events"}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, tc := range []struct {
		field  string
		mutate func(*Config)
	}{
		{"Brokers", func(c *Config) { c.Brokers = nil }},
		{"Brokers", func(c *Config) { c.Brokers = []string{"kafka"} }},
		{"GroupID", func(c *Config) { c.GroupID = "" }},
		{"Topics", func(c *Config) { c.Topics = nil }},
		{"Topics", func(c *Config) { c.Topics = []string{"thena.("}; c.TopicRegex = true }},
		{"ResetOffset", func(c *Config) { c.ResetOffset = "newest" }},
		{"DeadLetterTopic", func(c *Config) { c.DeadLetterTopic = "{topic}" }},
		{"DeadLetterTopic", func(c *Config) { c.DeadLetterTopic = "dead letters" }},
		{"MaxRunPerKey", func(c *Config) { c.MaxRunPerKey = -1 }},
		{"MaxInflightPerKey", func(c *Config) { c.MaxInflightPerKey = -2 }},
		{"MaxBufferedBytesPerPartition", func(c *Config) { c.MaxBufferedBytesPerPartition = -1 }},
		{"MaxBufferedBytesPerPartition", func(c *Config) { c.MaxBufferedBytesPerPartition = 8 }}, // 8 MiB meant
		{"MaxBufferedBytes", func(c *Config) { c.MaxBufferedBytesPerPartition = 32 << 20; c.MaxBufferedBytes = 16 << 20 }},
		{"DrainTimeout", func(c *Config) { c.DrainTimeout = time.Minute; c.RebalanceTimeout = time.Minute }},
		{"DrainTimeout", func(c *Config) { c.DrainTimeout = 55 * time.Second }},
		{"FetchMaxPartitionBytes", func(c *Config) { c.FetchMaxPartitionBytes = 32 << 20 }},
		{"RetryBackoffMax", func(c *Config) { c.RetryBackoffMin = time.Second; c.RetryBackoffMax = time.Millisecond }},
		{"CommitInterval", func(c *Config) { c.CommitInterval = -time.Second }},
		{"HeartbeatInterval", func(c *Config) { c.SessionTimeout = 6 * time.Second; c.HeartbeatInterval = 3 * time.Second }},
		{"LagInterval", func(c *Config) { c.LagInterval = -time.Second }},
		{"InstanceID", func(c *Config) { c.InstanceID = "bridge 0" }},
		{"InstanceID", func(c *Config) { c.InstanceID = "${POD_NAME}" }},
		{"TLS.Enabled", func(c *Config) { c.TLS.CAFile = "ca.pem" }},
		{"TLS.CAFile", func(c *Config) { c.TLS = TLSConfig{Enabled: true, CAFile: "testdata/missing-ca.pem"} }},
		{"TLS.KeyFile", func(c *Config) { c.TLS = TLSConfig{Enabled: true, CertFile: "client.pem"} }},
		{"SASL.Mechanism", func(c *Config) { c.SASL.Mechanism = "GSSAPI" }},
		{"SASL.Username", func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLScramSHA512, Password: "p"} }},
		{"SASL.Password", func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLScramSHA256, Username: "u"} }},
		{"TLS.Enabled", func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLPlain, Username: "u", Password: "p"} }},
		{"IsolationLevel", func(c *Config) { c.IsolationLevel = "committed" }},
		{"Rack", func(c *Config) { c.Rack = " use1-az1" }},
		{"SASL.Mechanism", func(c *Config) { c.TLS.Enabled = true; c.SASL = SASLConfig{Mechanism: SASLOAuthBearer} }},
		{"SASL.TokenCommand", func(c *Config) {
			c.TLS.Enabled = true
			c.SASL = SASLConfig{Mechanism: SASLOAuthBearer, TokenFile: "t", TokenCommand: []string{"get-token"}}
		}},
		{"SASL.TokenFile", func(c *Config) {
			c.SASL = SASLConfig{Mechanism: SASLScramSHA512, Username: "u", Password: "p", TokenFile: "t"}
		}},
		{"TLS.Enabled", func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLOAuthBearer, TokenFile: "t"} }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			c := good()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted the config")
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := DefaultConfig()
	if c.DeadLetterTopic != "{topic}.dlq" || c.CommitInterval != time.Second || c.MaxBufferedBytesPerPartition != 8<<20 ||
		c.MaxBufferedBytes != 32<<20 || c.MaxRunPerKey != 10 || c.MaxInflightPerKey != 16 ||
		c.TLS.InsecureSkipVerify || c.DrainTimeout >= c.RebalanceTimeout || c.HeartbeatInterval != time.Second ||
		c.SessionTimeout != 45*time.Second || c.LagInterval != 10*time.Second {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if got := deadletter.Topic(c.DeadLetterTopic, "thena.events"); got != "thena.events.dlq" {
		t.Errorf("dead-letter topic %q", got)
	}
}

func TestNewRejectsBadConfigAndMissingDependencies(t *testing.T) {
	cfg := Config{Brokers: []string{"127.0.0.1:9092"}, GroupID: "bridge", Topics: []string{"t"}}
	if _, err := New(cfg, nil, nil); err == nil {
		t.Error("New accepted a nil translator")
	}
	cfg.GroupID = ""
	if _, err := New(cfg, &fakeTranslator{}, newPublisher("x", &sink{})); err == nil || !strings.Contains(err.Error(), "GroupID") {
		t.Errorf("New: %v, want a GroupID error", err)
	}
}

// AWS_MSK_IAM needs no username or password but TLS, and signs with the
// standard AWS credential chain: the environment's keys, the region the
// broker's name gives, and the session token when there is one. (MSK IAM
// cannot run against the local stack; this is its only test.)
func TestMSKIAMConfig(t *testing.T) {
	cfg := Config{Brokers: []string{"b-1.bridge.abc123.c2.kafka.eu-west-1.amazonaws.com:9098"}, GroupID: "bridge",
		Topics: []string{"thena.events"}, SASL: SASLConfig{Mechanism: SASLAWSMSKIAM}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "TLS.Enabled:") {
		t.Errorf("AWS_MSK_IAM without TLS: %v, want TLS.Enabled refused", err)
	}
	cfg.TLS.Enabled = true
	if err := cfg.Validate(); err != nil {
		t.Fatalf("AWS_MSK_IAM with TLS and no username: %v", err)
	}
	opts, err := cfg.ClientOpts()
	if err != nil || len(opts) < 4 {
		t.Fatalf("ClientOpts: %d options, %v; want brokers, client id, TLS and SASL", len(opts), err)
	}

	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBRIDGE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token-from-the-pod-role")
	m := cfg.SASL.mechanism()
	if m == nil || m.Name() != SASLAWSMSKIAM {
		t.Fatalf("mechanism %v, want %s", m, SASLAWSMSKIAM)
	}
	_, first, err := m.Authenticate(context.Background(), cfg.Brokers[0])
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	var msg map[string]string
	if err := json.Unmarshal(first, &msg); err != nil {
		t.Fatalf("the first IAM message is not JSON: %v: %s", err, first)
	}
	if cred := msg["x-amz-credential"]; !strings.HasPrefix(cred, "AKIAEXAMPLEBRIDGE/") || !strings.Contains(cred, "/eu-west-1/kafka-cluster/") {
		t.Errorf("x-amz-credential %q: want the environment's key and the broker's region", cred)
	}
	if msg["x-amz-security-token"] != "token-from-the-pod-role" || msg["action"] != "kafka-cluster:Connect" {
		t.Errorf("security token %q, action %q", msg["x-amz-security-token"], msg["action"])
	}
}
