package consumer

import (
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
		{"TLS.Enabled", func(c *Config) { c.TLS.CAFile = "ca.pem" }},
		{"TLS.CAFile", func(c *Config) { c.TLS = TLSConfig{Enabled: true, CAFile: "testdata/missing-ca.pem"} }},
		{"TLS.KeyFile", func(c *Config) { c.TLS = TLSConfig{Enabled: true, CertFile: "client.pem"} }},
		{"SASL.Mechanism", func(c *Config) { c.SASL.Mechanism = "GSSAPI" }},
		{"SASL.Username", func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLScramSHA512, Password: "p"} }},
		{"SASL.Password", func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLScramSHA256, Username: "u"} }},
		{"TLS.Enabled", func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLPlain, Username: "u", Password: "p"} }},
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
	if c.DeadLetterTopic != "{topic}.dlq" || c.CommitInterval != 5*time.Second || c.MaxBufferedBytesPerPartition != 8<<20 ||
		c.MaxBufferedBytes != 64<<20 || c.MaxRunPerKey != 10 || c.MaxInflightPerKey != 4 ||
		c.TLS.InsecureSkipVerify || c.DrainTimeout >= c.RebalanceTimeout {
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
