//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// secureKafka is the stack's SASL_SSL listener (scripts/stack.sh env):
// TLS with the stack's own CA, SCRAM users.
type secureKafka struct {
	brokers                       []string
	ca, mechanism, user, password string
}

// secureListener returns the SASL_SSL listener, or skips the test when the
// stack has none.
func secureListener(t *testing.T) secureKafka {
	t.Helper()
	k := secureKafka{
		ca: os.Getenv("BRIDGE_TEST_KAFKA_CA"), mechanism: os.Getenv("BRIDGE_TEST_KAFKA_SASL_MECHANISM"),
		user: os.Getenv("BRIDGE_TEST_KAFKA_USER"), password: os.Getenv("BRIDGE_TEST_KAFKA_PASSWORD"),
	}
	if v := os.Getenv("BRIDGE_TEST_KAFKA_SASL_SSL"); v != "" {
		k.brokers = strings.Split(v, ",")
	}
	if len(k.brokers) == 0 || k.ca == "" || k.user == "" || k.password == "" || k.mechanism == "" {
		t.Skip("BRIDGE_TEST_KAFKA_SASL_SSL, _CA, _SASL_MECHANISM, _USER and _PASSWORD are not all set: the stack has no SASL_SSL listener (eval \"$(scripts/stack.sh env)\")")
	}
	return k
}

// use points cfg's Kafka at the listener, over TLS with its CA and SASL.
func (k secureKafka) use(cfg bridgeproc.Config) bridgeproc.Config {
	return cfg.Set("kafka.brokers", k.brokers).
		Set("kafka.tls.enabled", true).Set("kafka.tls.ca_file", k.ca).
		Set("kafka.sasl.mechanism", k.mechanism).Set("kafka.sasl.username", k.user).Set("kafka.sasl.password", k.password)
}

// bridgeCommand runs the bridge binary with args (a dlq command, say) to
// its end and returns its stdout.
func bridgeCommand(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.BridgeBinary(t), args...)
	cmd.Env = bridgeproc.Env(os.Environ())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bridge %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestSASLSSLEndToEnd: the bridge consumes, dead-letters and commits over
// the broker's SASL_SSL listener (TLS with the stack's CA, SCRAM-SHA-512),
// and the operator's dlq commands, given the same configuration file, list
// the dead letters and replay them to SNS over it too. (SNS side: the
// double.)
func TestSASLSSLEndToEnd(t *testing.T) {
	k := secureListener(t)
	topic, dlq := sourceTopic(t, 3)
	s := newSink(t, false)
	cfg := k.use(baseConfig(t, topic, s.srv.URL, [2]string{"ticket:*", s.arn}))
	group := cfg.Get("kafka.group_id").(string)

	g, err := eventgen.New(41, eventgen.Options{Orgs: 5})
	if err != nil {
		t.Fatal(err)
	}
	var recs []eventgen.Record
	unroutable := map[string]bool{}
	for i := range 30 {
		recs = append(recs, g.TicketUpdated(300))
		if i%6 == 0 {
			p := g.Poison(eventgen.PoisonUnroutable)
			unroutable[p.Natural["eventId"].(string)] = true
			recs = append(recs, p)
		}
	}
	produce(t, testenv.KafkaClient(t), topic, recs)

	b := testenv.StartBridge(t, "secure", cfg)
	if !waitFor(time.Minute, func() bool { return s.acceptedCount() == 30 }) {
		t.Fatalf("%d of 30 events published over SASL_SSL", s.acceptedCount())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := kadm.NewClient(testenv.KafkaClient(t))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	atEnd := func() bool {
		c, err := committed(ctx, adm, group, topic)
		if err != nil {
			return false
		}
		done := true
		ends.Each(func(o kadm.ListedOffset) { done = done && c[o.Partition] == o.Offset })
		return done
	}
	if !waitFor(time.Minute, atEnd) {
		t.Fatal("the group's commits never reached the end of the topic")
	}
	if err := b.Stop(40 * time.Second); err != nil {
		t.Errorf("bridge on SIGTERM: %v", err)
	}
	dead := readAll(t, dlq)
	if len(dead) != len(unroutable) {
		t.Fatalf("%d dead letters, want %d", len(dead), len(unroutable))
	}

	// The dlq commands read the dead-letter topic over the same listener.
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := cfg.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	list := bridgeCommand(t, "dlq", "list", "-config", path)
	if n := strings.Count(list, dlq+"/"); n != len(unroutable) {
		t.Errorf("dlq list shows %d dead letters, want %d:\n%s", n, len(unroutable), list)
	}
	// Route the billing events and replay them to SNS.
	cfg.Set("routing.routes", []map[string]string{{"pattern": "ticket:*", "topic_arn": s.arn}, {"pattern": "billing:*", "topic_arn": s.arn}})
	if err := cfg.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	out := bridgeCommand(t, "dlq", "replay", "-config", path, "-to-sns", "-checkpoint", filepath.Join(dir, "replay.checkpoint"))
	if !strings.Contains(out, "replay complete: 5 replayed to SNS, 0 skipped") {
		t.Errorf("dlq replay -to-sns:\n%s", out)
	}
	for id := range unroutable {
		if !s.isAccepted(id) {
			t.Errorf("replayed event %s never reached SNS", id)
		}
	}
}

// TestSASLSSLStartupRefusesBadCredentialsAndUntrustedCertificates: a wrong
// password and a broker certificate the bridge does not trust (no CA file:
// the system roots) each stop start-up within seconds, with a non-zero exit
// status and one line saying which.
func TestSASLSSLStartupRefusesBadCredentialsAndUntrustedCertificates(t *testing.T) {
	k := secureListener(t)
	topic, _ := sourceTopic(t, 1)
	s := newSink(t, false)
	for _, tc := range []struct {
		name string
		edit func(bridgeproc.Config)
		want string
	}{
		{"wrong password", func(c bridgeproc.Config) { c.Set("kafka.sasl.password", "not-"+k.password) },
			`: the brokers refused the SASL credentials (` + k.mechanism + ` user "` + k.user + `"): SASL_AUTHENTICATION_FAILED`},
		{"untrusted certificate", func(c bridgeproc.Config) { c.Set("kafka.tls.ca_file", "") },
			": the brokers' TLS certificate is not trusted (x509: certificate signed by unknown authority): give the CA that signed it as the TLS CA file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := k.use(baseConfig(t, topic, s.srv.URL, [2]string{"*", s.arn}))
			tc.edit(cfg)
			b := testenv.LaunchBridge(t, "bridge", cfg)
			select {
			case <-b.Done():
			case <-time.After(40 * time.Second):
				b.Kill()
				t.Fatal("the bridge still runs 40s after start")
			}
			var exit *exec.ExitError
			if !errors.As(b.Err(), &exit) || exit.ExitCode() == 0 {
				t.Errorf("exit: %v, want a non-zero status", b.Err())
			}
			// Not a terminal: the refusal is one JSON log record whose err
			// says what is wrong.
			lines := strings.Split(strings.TrimSpace(b.Tail(100)), "\n")
			var rec struct{ Level, Msg, Err string }
			if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &rec) != nil ||
				rec.Level != "ERROR" || rec.Msg != "bridge cannot start" || !strings.Contains(rec.Err, tc.want) {
				t.Errorf("stderr:\n%s\nwant one ERROR record \"bridge cannot start\" whose err contains %q", b.Tail(20), tc.want)
			}
			t.Logf("%s", lines[0])
		})
	}
}
