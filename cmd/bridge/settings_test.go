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
		{"unknown encoder", base + "sns:\n  encoder: fast\n", "", "sns.encoder: \"fast\" is neither"},
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

// problemBase is a valid configuration, one key per line so that the
// cases below can name lines.
const problemBase = `kafka:
  brokers: ["127.0.0.1:9092"]
  group_id: g
  topics: [a]
schemas:
  local_dir: ../../schemas
routing:
  routes:
    - pattern: "*"
      topic_arn: arn:aws:sns:us-east-1:123456789012:t
`

// loadProblems loads text with env as both the ${VAR} source and the
// environment, and returns its problems, one per line, with the file's
// path written FILE.
func loadProblems(t *testing.T, text string, env map[string]string) (settings, []string) {
	t.Helper()
	path := writeConfig(t, text)
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	s, err := loadSettings(path, func(k string) string { return env[k] }, environ)
	if err == nil {
		return s, nil
	}
	return s, strings.Split(strings.ReplaceAll(err.Error(), path, "FILE"), "\n")
}

// Each configuration mistake of issue 15, with the message the bridge gave
// before (old, reproduced on the base of this change) and the one it gives
// now: one line per problem, naming the key, the culprit and the fix.
func TestConfigProblemsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		env  map[string]string
		old  string
		want []string
	}{
		{
			name: "misspelt key",
			text: strings.Replace(problemBase, "group_id", "grup_id", 1),
			old:  "config FILE: yaml: unmarshal errors:\n  line 3: field grup_id not found in type main.kafkaSettings",
			want: []string{"FILE:3: kafka.grup_id: unknown key (did you mean kafka.group_id?)"},
		},
		{
			name: "key of another section",
			text: problemBase + "http:\n  linger: 5ms\n",
			old:  "config FILE: yaml: unmarshal errors:\n  line 12: field linger not found in type main.httpSettings",
			want: []string{"FILE:12: http.linger: unknown key (did you mean sns.linger?)"},
		},
		{
			name: "removed keys",
			text: strings.Replace(problemBase, "  topics: [a]\n", "  topics: [a]\n  max_in_flight: 1000\n  max_buffered_per_partition: 100\n", 1),
			old: "config FILE: yaml: unmarshal errors:\n  line 5: field max_in_flight not found in type main.kafkaSettings\n" +
				"  line 6: field max_buffered_per_partition not found in type main.kafkaSettings",
			want: []string{
				"FILE:5: kafka.max_in_flight: removed: " + removedKeys["kafka.max_in_flight"],
				"FILE:6: kafka.max_buffered_per_partition: removed: " + removedKeys["kafka.max_buffered_per_partition"],
			},
		},
		{
			name: "missing CA file",
			text: strings.Replace(problemBase, "  topics: [a]\n", "  topics: [a]\n  tls:\n    enabled: true\n    ca_file: /nonexistent/ca.pem\n", 1),
			old:  "kafka: consumer config: TLS.CAFile: open /nonexistent/ca.pem: no such file or directory",
			want: []string{"FILE:7: kafka.tls.ca_file: cannot read /nonexistent/ca.pem: no such file or directory"},
		},
		{
			name: "misspelt override",
			text: problemBase,
			env:  map[string]string{"BRIDGE_KAFKA_BROKER": "10.0.0.1:9092"},
			old:  "(none: the variable was ignored and the file's brokers used)",
			want: []string{"BRIDGE_KAFKA_BROKER: no such setting (did you mean BRIDGE_KAFKA_BROKERS?)"},
		},
		{
			name: "override of a removed key",
			text: problemBase,
			env:  map[string]string{"BRIDGE_KAFKA_MAX_IN_FLIGHT": "1000"},
			old:  "(none: the variable was ignored)",
			want: []string{"BRIDGE_KAFKA_MAX_IN_FLIGHT: removed (it was kafka.max_in_flight): " + removedKeys["kafka.max_in_flight"]},
		},
		{
			name: "a password in the wrong key is not repeated",
			text: strings.Replace(problemBase, "  topics: [a]\n", "  topics: [a]\n  sasl:\n    mechanism: \"${KAFKA_SASL_PASSWORD}\"\n", 1),
			env:  map[string]string{"KAFKA_SASL_PASSWORD": "hunter2-secret"},
			old:  `kafka: consumer config: SASL.Mechanism: "hunter2-secret" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM`,
			want: []string{`FILE:6: kafka.sasl.mechanism (from ${KAFKA_SASL_PASSWORD}): the value of KAFKA_SASL_PASSWORD is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM, OAUTHBEARER`},
		},
		{
			name: "a bad override value is not repeated",
			text: problemBase,
			env:  map[string]string{"BRIDGE_KAFKA_COMMIT_INTERVAL": "often"},
			old:  `environment overrides: BRIDGE_KAFKA_COMMIT_INTERVAL: not a duration (like 5s or 250ms): "often"`,
			want: []string{"kafka.commit_interval (from BRIDGE_KAFKA_COMMIT_INTERVAL): its value is not a duration (like 250ms, 5s or 1m)"},
		},
		{
			name: "unset variable",
			text: strings.Replace(problemBase, "arn:aws:sns:us-east-1:123456789012:t", "${AWS_SNS_TICKET_TOPIC_ARN}", 1),
			old:  "config FILE: line 10: environment variable AWS_SNS_TICKET_TOPIC_ARN is not set (use ${AWS_SNS_TICKET_TOPIC_ARN:-default} for an optional value)",
			want: []string{"FILE:10: routing.routes[0].topic_arn: environment variable AWS_SNS_TICKET_TOPIC_ARN is not set (set it, or give a default: ${AWS_SNS_TICKET_TOPIC_ARN:-value})"},
		},
		{
			name: "a number where a duration belongs",
			text: problemBase + "shutdown_timeout: 30\n",
			old:  "config FILE: yaml: unmarshal errors:\n  line 11: cannot unmarshal !!int `30` into time.Duration",
			want: []string{`FILE:11: shutdown_timeout: "30" is not a duration (like 250ms, 5s or 1m)`},
		},
		{
			name: "a key set twice",
			text: strings.Replace(problemBase, "  group_id: g\n", "  group_id: g\n  group_id: h\n", 1),
			old:  `config FILE: yaml: unmarshal errors:` + "\n" + `  line 4: mapping key "group_id" already defined at line 3`,
			want: []string{"FILE:4: kafka.group_id: set twice (also on line 3); keep one"},
		},
		{
			name: "a package's rule in the file's words",
			text: strings.Replace(problemBase, "  topics: [a]\n", "  topics: [a]\n  max_buffered_bytes: 1048576\n", 1),
			old:  "kafka: consumer config: MaxBufferedBytes: 1048576 is less than MaxBufferedBytesPerPartition (8388608)",
			want: []string{"FILE:5: kafka.max_buffered_bytes: 1048576 is less than kafka.max_buffered_bytes_per_partition (8388608)"},
		},
		{
			name: "independent problems together",
			text: strings.Replace(problemBase, "group_id", "grup_id", 1) + "log:\n  level: loud\nsns:\n  linger: 2s\n",
			env:  map[string]string{"BRIDGE_SNS_ENDPOIN": "http://127.0.0.1:4566"},
			old:  "config FILE: yaml: unmarshal errors:\n  line 3: field grup_id not found in type main.kafkaSettings",
			want: []string{
				"FILE:3: kafka.grup_id: unknown key (did you mean kafka.group_id?)",
				"BRIDGE_SNS_ENDPOIN: no such setting (did you mean BRIDGE_SNS_ENDPOINT?)",
				`FILE:12: log.level: "loud" is not one of debug, info, warn, error`,
				"FILE:14: sns.linger: 2s is over 1s",
			},
		},
		{
			name: "not YAML",
			text: problemBase + "routing: [\n",
			old:  "config FILE: yaml: line 11: did not find expected node content",
			want: []string{"FILE:11: not valid YAML: did not find expected node content"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := loadProblems(t, tc.text, tc.env)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n  %s\nwant:\n  %s\n(before this change: %s)", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "), tc.old)
			}
		})
	}
}

// ${VAR} is substituted into the parsed value, so a secret holding quotes,
// a colon or a "#" is taken as it is; a list value from the environment is
// comma-separated, like a BRIDGE_* list.
func TestVariablesAreSubstitutedIntoValues(t *testing.T) {
	text := strings.Replace(problemBase, `["127.0.0.1:9092"]`, `["${KAFKA_BROKERS}"]`, 1) +
		"  large_fields: ${LARGE_FIELDS:-description}\n" +
		"  placeholder: ${PLACEHOLDER}\n" +
		"sns:\n  linger: ${LINGER:-}\n"
	password := `pa"ss: #word'`
	env := map[string]string{"KAFKA_BROKERS": "10.0.0.1:9092, 10.0.0.2:9092", "PLACEHOLDER": password}
	s, problems := loadProblems(t, text, env)
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	if s.Routing.Placeholder != password {
		t.Errorf("placeholder %q, want %q", s.Routing.Placeholder, password)
	}
	if strings.Join(s.Kafka.Brokers, " ") != "10.0.0.1:9092 10.0.0.2:9092" {
		t.Errorf("brokers %q, want the two of KAFKA_BROKERS", s.Kafka.Brokers)
	}
	if strings.Join(s.Routing.LargeFields, " ") != "description" {
		t.Errorf("large_fields %q, want the default after :-", s.Routing.LargeFields)
	}
	if s.SNS.Linger != defaultSettings().SNS.Linger {
		t.Errorf("linger %v: an empty ${LINGER:-} must keep the default %v", s.SNS.Linger, defaultSettings().SNS.Linger)
	}
}

// The local test stack's variables (BRIDGE_TEST_*) are no overrides.
func TestTestStackVariablesAreNotOverrides(t *testing.T) {
	if _, problems := loadProblems(t, problemBase, map[string]string{"BRIDGE_TEST_KAFKA": "127.0.0.1:9092"}); problems != nil {
		t.Errorf("problems: %v", problems)
	}
}

// The keys of issue 15 part 6 fail like every other key: one line naming
// the YAML path (and the file's line) with what is wrong.
func TestKnobProblemsNameTheKey(t *testing.T) {
	kafka := func(lines string) string {
		return strings.Replace(problemBase, "  topics: [a]\n", "  topics: [a]\n"+lines, 1)
	}
	for _, tc := range []struct {
		name string
		text string
		env  map[string]string
		want []string
	}{
		{"isolation level", kafka("  isolation_level: committed\n"), nil,
			[]string{`FILE:5: kafka.isolation_level: "committed" is neither "read_committed" nor "read_uncommitted"`}},
		{"rack", kafka("  rack: \" use1-az1\"\n"), nil,
			[]string{`FILE:5: kafka.rack: " use1-az1" is not a rack name (the brokers' broker.rack, like use1-az1)`}},
		{"oauthbearer without a token", kafka("  tls:\n    enabled: true\n  sasl:\n    mechanism: OAUTHBEARER\n"), nil,
			[]string{"FILE:8: kafka.sasl.mechanism: OAUTHBEARER needs a token: set kafka.sasl.token_file or kafka.sasl.token_command"}},
		{"oauthbearer with both", kafka("  tls:\n    enabled: true\n  sasl:\n    mechanism: OAUTHBEARER\n    token_file: /var/run/kafka/token\n    token_command: [get-token]\n"), nil,
			[]string{"FILE:10: kafka.sasl.token_command: set kafka.sasl.token_file or kafka.sasl.token_command, not both"}},
		{"token file without oauthbearer", kafka("  sasl:\n    mechanism: SCRAM-SHA-512\n    username: u\n    password: p\n    token_file: /t\n"), nil,
			[]string{`FILE:9: kafka.sasl.token_file: is for OAUTHBEARER only (the mechanism is "SCRAM-SHA-512")`}},
		{"oauthbearer in the clear", kafka("  sasl:\n    mechanism: OAUTHBEARER\n    token_file: /t\n"), nil,
			[]string{"kafka.tls.enabled: OAUTHBEARER sends credentials in the clear; enable TLS"}},
		{"role arn", problemBase + "sns:\n  role_arn: arn:aws:iam::123456789012:user/bridge\n", nil,
			[]string{`FILE:12: sns.role_arn: "arn:aws:iam::123456789012:user/bridge" is not an IAM role ARN (like arn:aws:iam::123456789012:role/bridge-publisher)`}},
		{"external id alone", problemBase + "sns:\n  external_id: shared-secret\n", nil,
			[]string{"FILE:12: sns.external_id: is set but sns.role_arn is not: the external id is passed when assuming that role"}},
		{"external id not repeated", problemBase + "sns:\n  role_arn: arn:aws:iam::123456789012:role/p\n  external_id: \"${EXTERNAL_ID}\"\n",
			map[string]string{"EXTERNAL_ID": "not valid!"},
			[]string{"FILE:13: sns.external_id (from ${EXTERNAL_ID}): is not an STS external id (2 to 1224 of letters, digits and +=,.@:/-_)"}},
		{"negative rate", problemBase + "sns:\n  max_rate_per_topic: -5\n", nil,
			[]string{"FILE:12: sns.max_rate_per_topic: -5 is not a rate of zero or more entries/s"}},
		{"rate not a number", problemBase, map[string]string{"BRIDGE_SNS_MAX_RATE_PER_TOPIC": "fast"},
			[]string{"sns.max_rate_per_topic (from BRIDGE_SNS_MAX_RATE_PER_TOPIC): its value is not a whole number of at most 64 bits"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := loadProblems(t, tc.text, tc.env)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// The new keys reach the packages' configs.
func TestKnobsReachThePackages(t *testing.T) {
	text := strings.Replace(problemBase, "  topics: [a]\n", "  topics: [a]\n  rack: use1-az1\n  isolation_level: read_uncommitted\n"+
		"  tls:\n    enabled: true\n  sasl:\n    mechanism: OAUTHBEARER\n    token_command: [/usr/local/bin/token, --audience, kafka]\n", 1) +
		"sns:\n  role_arn: arn:aws:iam::123456789012:role/bridge/publisher\n  external_id: tenant-7\n  max_rate_per_topic: 250\n"
	s, problems := loadProblems(t, text, nil)
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	kc := s.consumerConfig()
	if kc.Rack != "use1-az1" || kc.IsolationLevel != "read_uncommitted" || strings.Join(kc.SASL.TokenCommand, " ") != "/usr/local/bin/token --audience kafka" {
		t.Errorf("consumer config: rack %q, isolation %q, token command %q", kc.Rack, kc.IsolationLevel, kc.SASL.TokenCommand)
	}
	if got := s.publisherConfig().MaxRatePerTopic; got != 250 {
		t.Errorf("sns MaxRatePerTopic %v, want 250", got)
	}
	if d := defaultSettings(); d.Kafka.IsolationLevel != "read_committed" || d.SNS.MaxRatePerTopic != 0 {
		t.Errorf("defaults: isolation %q, rate %v; want read_committed and no cap", d.Kafka.IsolationLevel, d.SNS.MaxRatePerTopic)
	}
}
