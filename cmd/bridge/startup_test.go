package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// startupWorld is what `bridge run` checks at start-up, in process: an
// embedded Kafka holding the source topic, the SNS double with two
// topics, and a config pointing at both.
type startupWorld struct {
	cluster   *kfake.Cluster
	double    *snstest.Server
	ticketARN string
	customARN string
	dir       string
}

func newStartupWorld(t *testing.T) *startupWorld {
	t.Helper()
	setDLQTestEnv(t, t.TempDir())
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "thena.events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	double := snstest.NewServer(snstest.Options{})
	t.Cleanup(double.Close)
	w := &startupWorld{cluster: c, double: double, dir: t.TempDir()}
	if w.ticketARN, err = double.CreateTopic("thena-events", nil); err != nil {
		t.Fatal(err)
	}
	if w.customARN, err = double.CreateTopic("thena-custom-object-events", nil); err != nil {
		t.Fatal(err)
	}
	return w
}

// config is a configuration that starts in this world, http.listen on a
// free port.
func (w *startupWorld) config(t *testing.T) bridgeproc.Config {
	t.Helper()
	return bridgeproc.NewConfig(bridgeproc.Base{
		Brokers: w.cluster.ListenAddrs(), GroupID: "g", Topics: []string{"thena.events"},
		SchemasDir: schemasDir(t), SNSEndpoint: w.double.URL,
		Routes: mapping.StandardRoutes(w.ticketARN, w.customARN),
	}).Set("http.listen", "127.0.0.1:0")
}

// start runs `bridge run` with cfg until it returns, which it must: cfg has
// a problem. It returns the problems the JSON log holds ("bridge cannot
// start" lines, their err) and checks that nothing else reached stderr.
func (w *startupWorld) start(t *testing.T, cfg bridgeproc.Config, environ ...string) []string {
	t.Helper()
	path := filepath.Join(w.dir, "config.yaml")
	if err := cfg.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bridge", "run", "-config", path}, os.Getenv, environ, strings.NewReader(""), &stdout, &stderr)
	var done *reportedError
	if !errors.As(err, &done) {
		t.Fatalf("run: %v, want a start-up failure it has logged\nstderr:\n%s", err, stderr.String())
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var rec struct {
			Level, Msg, Err, Component string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stderr holds a line that is not JSON: %q", line)
		}
		if rec.Level != "ERROR" || rec.Msg != "bridge cannot start" || rec.Component != "bridge" {
			t.Errorf("unexpected log line %s", line)
			continue
		}
		problems = append(problems, strings.ReplaceAll(rec.Err, path, "FILE"))
	}
	return problems
}

// Start-up problems found against the world, with the message each gave
// before this change (old) and the one now.
func TestStartupProblemsNameTheCulprit(t *testing.T) {
	w := newStartupWorld(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	brokers := strings.Join(w.cluster.ListenAddrs(), ",")
	missingARN := "arn:aws:sns:us-east-1:123456789012:thena-missing"

	for _, tc := range []struct {
		name    string
		edit    func(bridgeproc.Config)
		environ []string
		old     string
		want    []string
	}{
		{
			name: "missing source topic",
			edit: func(c bridgeproc.Config) { c.Set("kafka.topics", []string{"thena.evnets"}) },
			old:  `kafka.brokers [` + brokers + `]: source topic "thena.evnets" does not exist or is not readable`,
			want: []string{`kafka.topics: topic "thena.evnets" does not exist or is not readable on ` + brokers +
				` (create it, correct kafka.topics, or grant the bridge Describe and Read on it)`},
		},
		{
			name: "missing SNS topic",
			edit: func(c bridgeproc.Config) {
				c.Set("routing.routes", []mapping.Route{{Pattern: "ticket:*", TopicARN: w.ticketARN}, {Pattern: "*", TopicARN: missingARN}})
			},
			old: "routing: SNS topics are not usable: sns topic unusable: topic " + missingARN + " does not exist (NotFound): " +
				"operation error SNS: GetTopicAttributes, https response error StatusCode: 404, RequestID: ..., NotFound: Topic does not exist",
			want: []string{"routing.routes[1].topic_arn: SNS topic " + missingARN + " does not exist (create it, or correct the ARN)"},
		},
		{
			name: "schema directory missing",
			edit: func(c bridgeproc.Config) { c.Set("schemas.local_dir", "/nonexistent/schemas") },
			old:  "schemas.local_dir: avro: loading local schemas: stat .: no such file or directory",
			want: []string{"schemas.local_dir: no directory /nonexistent/schemas: give the directory of the .avsc files, or set schemas.registry_url instead"},
		},
		{
			// The brokers are unreachable too: the port is found first,
			// without waiting for them.
			name: "busy metrics port",
			edit: func(c bridgeproc.Config) {
				c.Set("http.listen", busy.Addr().String()).Set("kafka.brokers", []string{"127.0.0.1:1"})
			},
			old:  "http.listen: listen tcp " + busy.Addr().String() + ": bind: address already in use (after every remote check)",
			want: []string{"http.listen: " + busy.Addr().String() + " is in use by another process (another bridge?): stop it or choose another port"},
		},
		{
			name: "SNS endpoint down",
			edit: func(c bridgeproc.Config) { c.Set("sns.endpoint", "http://"+closedAddr(t)) },
			old:  "routing: SNS topics are not usable: reading attributes of topic ...: sns_unavailable (transient, NetworkError): ...; (the same for each routed topic)",
			want: []string{"sns.endpoint: http://ADDR does not answer: dial tcp ADDR: connect: connection refused (check the URL and that SNS runs there)"},
		},
		{
			name: "a problem with several routes",
			edit: func(c bridgeproc.Config) {
				c.Set("routing.routes", []mapping.Route{{Pattern: "ticket:*", TopicARN: missingARN}, {Pattern: "*", TopicARN: missingARN}})
			},
			old:  "routing: SNS topics are not usable: sns topic unusable: topic " + missingARN + " does not exist (NotFound): ...",
			want: []string{"routing.routes[0].topic_arn, routing.routes[1].topic_arn: SNS topic " + missingARN + " does not exist (create it, or correct the ARN)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.config(t)
			tc.edit(cfg)
			got := w.start(t, cfg, tc.environ...)
			g := addrRef.ReplaceAllString(strings.Join(got, "\n"), "ADDR")
			if want := addrRef.ReplaceAllString(strings.Join(tc.want, "\n"), "ADDR"); g != want {
				t.Errorf("problems:\n  %s\nwant:\n  %s\n(before this change: %s)", g, want, tc.old)
			}
		})
	}
}

// With no AWS credentials, start-up says so once, not once per routed
// topic as a network error.
func TestStartupWithoutCredentials(t *testing.T) {
	w := newStartupWorld(t)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	cfg := w.config(t).Set("routing.default_topic_arn", w.ticketARN+"-default")
	got := w.start(t, cfg)
	// Before: "routing: SNS topics are not usable: reading attributes of topic
	// arn:...:thena-events: sns_unavailable (transient, NetworkError): operation
	// error SNS: GetTopicAttributes, get identity: get credentials: failed to
	// refresh cached credentials, no EC2 IMDS role found, ...", three times.
	if len(got) != 1 || !strings.HasPrefix(got[0], "sns: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile with AWS_PROFILE or sns.profile, or run with an IAM role): ") {
		t.Errorf("problems: %q, want one about credentials", got)
	}
}

// A configuration problem is said before anything is tried, and every
// one of them at once.
func TestStartupReportsEveryConfigProblem(t *testing.T) {
	w := newStartupWorld(t)
	cfg := w.config(t).Set("kafka.grup_id", "g").Set("log.level", "loud")
	got := w.start(t, cfg, "BRIDGE_SNS_LINGR=5ms")
	want := []string{
		// bridgeproc.Config writes keys in sorted order.
		"FILE:7: kafka.grup_id: unknown key (did you mean kafka.group_id?)",
		"BRIDGE_SNS_LINGR: no such setting (did you mean BRIDGE_SNS_LINGER?)",
		`FILE:11: log.level: "loud" is not one of debug, info, warn, error`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// addrRef matches a loopback host:port, which differs from run to run.
var addrRef = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	addr, err := bridgeproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
