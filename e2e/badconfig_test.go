//go:build integration

package e2e

import (
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestBadConfigurationStopsStartup: each mistake an operator makes stops
// `bridge run` within a bounded time with a non-zero exit status and one
// line on stderr that names what to fix.
func TestBadConfigurationStopsStartup(t *testing.T) {
	topic, _ := sourceTopic(t, 1)
	ticketARN := testenv.SNSTopic(t, false, nil)
	const limit = 40 * time.Second // the bridge bounds each start-up check at 15 s

	for _, tc := range []struct {
		name string
		edit func(t *testing.T, cfg config) (mentions []string)
	}{
		{
			name: "unset topic ARN variable",
			edit: func(t *testing.T, cfg config) []string {
				cfg.set("routing.routes", []map[string]string{{"pattern": "*", "topic_arn": "${AWS_SNS_TICKET_TOPIC_ARN}"}})
				return []string{"AWS_SNS_TICKET_TOPIC_ARN"}
			},
		},
		{
			name: "unreachable broker",
			edit: func(t *testing.T, cfg config) []string {
				addr := closedPort(t)
				cfg.set("kafka.brokers", []string{addr})
				return []string{"kafka.brokers", addr}
			},
		},
		{
			name: "bad registry URL",
			edit: func(t *testing.T, cfg config) []string {
				url := "http://" + closedPort(t) + "/apis/ccompat/v7"
				cfg.set("schemas.registry_url", url)
				return []string{"schemas.registry_url", url}
			},
		},
		{
			name: "routed SNS topic missing",
			edit: func(t *testing.T, cfg config) []string {
				arn := "arn:aws:sns:us-east-1:123456789012:" + testenv.Name(t, "missing", 200)
				cfg.set("routing.routes", []map[string]string{
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
			b := launch(t, "bridge", cfg, bridgeEnv(t))
			start := time.Now()
			select {
			case <-b.done:
			case <-time.After(limit):
				b.kill()
				t.Fatalf("the bridge still runs %v after start with a bad configuration", limit)
			}
			var exit *exec.ExitError
			if !errors.As(b.err, &exit) || exit.ExitCode() == 0 {
				t.Errorf("exit: %v, want a non-zero status", b.err)
			}
			var reasons []string
			for _, line := range strings.Split(strings.TrimSpace(b.tail(100)), "\n") {
				if strings.HasPrefix(line, "bridge: ") {
					reasons = append(reasons, line)
				}
			}
			if len(reasons) != 1 {
				t.Fatalf("stderr holds %d lines starting with \"bridge: \", want one:\n%s", len(reasons), b.tail(20))
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
