//go:build integration

package e2e

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	addr, err := bridgeproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestBadConfigurationStopsStartup: each mistake an operator makes stops
// `bridge run` within a bounded time with a non-zero exit status and one
// line in its log (stderr) that names what to fix.
func TestBadConfigurationStopsStartup(t *testing.T) {
	topic, _ := sourceTopic(t, 1)
	ticketARN := testenv.SNSTopic(t, false, nil)
	const limit = 40 * time.Second // the bridge bounds each start-up check at 15 s

	for _, tc := range []struct {
		name string
		edit func(t *testing.T, cfg bridgeproc.Config) (mentions []string)
	}{
		{
			name: "unset topic ARN variable",
			edit: func(t *testing.T, cfg bridgeproc.Config) []string {
				cfg.Set("routing.routes", []map[string]string{{"pattern": "*", "topic_arn": "${AWS_SNS_TICKET_TOPIC_ARN}"}})
				return []string{"AWS_SNS_TICKET_TOPIC_ARN"}
			},
		},
		{
			name: "unreachable broker",
			edit: func(t *testing.T, cfg bridgeproc.Config) []string {
				addr := closedPort(t)
				cfg.Set("kafka.brokers", []string{addr})
				return []string{"kafka.brokers", addr}
			},
		},
		{
			name: "bad registry URL",
			edit: func(t *testing.T, cfg bridgeproc.Config) []string {
				url := "http://" + closedPort(t) + "/apis/ccompat/v7"
				cfg.Set("schemas.registry_url", url)
				return []string{"schemas.registry_url", url}
			},
		},
		{
			name: "routed SNS topic missing",
			edit: func(t *testing.T, cfg bridgeproc.Config) []string {
				arn := "arn:aws:sns:us-east-1:123456789012:" + testenv.Name(t, "missing", 200)
				cfg.Set("routing.routes", []map[string]string{
					{"pattern": "ticket:*", "topic_arn": ticketARN},
					{"pattern": "*", "topic_arn": arn},
				})
				return []string{arn}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(t, topic, testenv.SNSEndpoint(t), [2]string{"*", ticketARN})
			mentions := tc.edit(t, cfg)
			b := testenv.LaunchBridge(t, "bridge", cfg)
			start := time.Now()
			select {
			case <-b.Done():
			case <-time.After(limit):
				b.Kill()
				t.Fatalf("the bridge still runs %v after start with a bad configuration", limit)
			}
			var exit *exec.ExitError
			if !errors.As(b.Err(), &exit) || exit.ExitCode() == 0 {
				t.Errorf("exit: %v, want a non-zero status", b.Err())
			}
			// Each problem is one line of the JSON log: level ERROR, msg
			// "bridge cannot start", the problem in err.
			var reasons []string
			for _, l := range b.LogLines() {
				if l["level"] == "ERROR" {
					reasons = append(reasons, fmt.Sprint(l["msg"], ": ", l["err"]))
				}
			}
			if len(reasons) != 1 || !strings.HasPrefix(reasons[0], "bridge cannot start: ") {
				t.Fatalf("stderr holds %d error lines, want one \"bridge cannot start\":\n%s", len(reasons), b.Tail(20))
			}
			for _, m := range mentions {
				if !strings.Contains(reasons[0], m) {
					t.Errorf("the reason does not name %q:\n%s", m, reasons[0])
				}
			}
			t.Logf("exited in %v: %s", time.Since(start).Round(10*time.Millisecond), reasons[0])
		})
	}
}
