package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExampleConfigIsValid(t *testing.T) {
	s, err := loadSettings("../../config.yaml", func(string) string { return "" }, nil)
	if err != nil {
		t.Fatalf("config.yaml in the repository does not load: %v", err)
	}
	if len(s.Routing.Routes) != 2 || s.Kafka.GroupID == "" {
		t.Errorf("unexpected example config: %+v", s)
	}
}

func TestConfigExpandsVariablesAndOverrides(t *testing.T) {
	path := writeConfig(t, `
kafka:
  brokers: ["${BROKER}"]
  group_id: g
  topics: [a]
  commit_interval: 2s
schemas:
  local_dir: ../../schemas
routing:
  routes:
    - pattern: "*"
      topic_arn: "${AWS_SNS_TICKET_TOPIC_ARN}"
`)
	env := map[string]string{
		"BROKER":                   "10.1.2.3:9092",
		"AWS_SNS_TICKET_TOPIC_ARN": "arn:aws:sns:eu-west-1:111122223333:tickets",
		"BRIDGE_KAFKA_TOPICS":      "x, y",
		"BRIDGE_SNS_LINGER":        "7ms",
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	s, err := loadSettings(path, func(k string) string { return env[k] }, environ)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kafka.Brokers[0] != "10.1.2.3:9092" || s.Routing.Routes[0].TopicARN != "arn:aws:sns:eu-west-1:111122223333:tickets" {
		t.Errorf("variables not expanded: %v %v", s.Kafka.Brokers, s.Routing.Routes)
	}
	if strings.Join(s.Kafka.Topics, ",") != "x,y" || s.SNS.Linger != 7*time.Millisecond || s.Kafka.CommitInterval != 2*time.Second {
		t.Errorf("overrides: topics %v linger %v commit %v", s.Kafka.Topics, s.SNS.Linger, s.Kafka.CommitInterval)
	}
	if s.Kafka.DrainTimeout == 0 || s.SNS.MaxInflightBatches == 0 {
		t.Error("keys left out of the file lost their defaults")
	}
}

func TestBadConfigNamesTheField(t *testing.T) {
	base := "kafka:\n  brokers: [\"127.0.0.1:9092\"]\n  group_id: g\n  topics: [a]\nschemas:\n  local_dir: ../../schemas\nrouting:\n  routes:\n    - pattern: \"*\"\n      topic_arn: arn:aws:sns:us-east-1:123456789012:t\n"
	for _, tc := range []struct {
		name, text, env, want string
	}{
		{"unset variable", strings.Replace(base, "arn:aws:sns:us-east-1:123456789012:t", "${AWS_SNS_TICKET_TOPIC_ARN}", 1), "", "AWS_SNS_TICKET_TOPIC_ARN is not set"},
		{"unknown key", base + "sns:\n  lingr: 5ms\n", "", "lingr"},
		{"bad duration", base + "sns:\n  linger: soon\n", "", "soon"},
		{"bad log level", base + "log:\n  level: loud\n", "", "log.level"},
		{"no schema source", strings.Replace(base, "  local_dir: ../../schemas\n", "  local_dir: \"\"\n", 1), "", "schemas.registry_url"},
		{"shutdown shorter than drain", base + "shutdown_timeout: 1s\n", "", "shutdown_timeout"},
		{"no brokers", strings.Replace(base, "[\"127.0.0.1:9092\"]", "[]", 1), "", "kafka"},
		{"bad override", base, "BRIDGE_KAFKA_COMMIT_INTERVAL=often", "BRIDGE_KAFKA_COMMIT_INTERVAL"},
		{"unknown encoder", base + "sns:\n  encoder: fast\n", "", "Encoder \"fast\""},
		{"not an ARN", strings.Replace(base, "arn:aws:sns:us-east-1:123456789012:t", "tickets", 1), "", "routing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var environ []string
			if tc.env != "" {
				environ = []string{tc.env}
			}
			_, err := loadSettings(writeConfig(t, tc.text), func(string) string { return "" }, environ)
			if err == nil {
				t.Fatalf("config loaded; want an error naming %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// The compose file configures the bridge through BRIDGE_* variables; each
// must name a real key, or the container would silently run on defaults.
func TestComposeOverridesNameRealKeys(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := decodeYAML(raw, &compose); err != nil {
		t.Fatal(err)
	}
	var environ []string
	for k, v := range compose.Services["bridge"].Environment {
		if strings.HasPrefix(k, envPrefix) {
			environ = append(environ, k+"="+v)
		}
	}
	if len(environ) == 0 {
		t.Fatal("the bridge service sets no BRIDGE_* variables")
	}
	s := defaultSettings()
	applied, err := applyEnvOverrides(&s, environ)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(environ) {
		t.Errorf("applied %v of %v: the others name no config key", applied, environ)
	}
}
