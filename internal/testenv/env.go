package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Environment variables read by this package; scripts/stack.sh env prints them.
const (
	EnvKafka       = "BRIDGE_TEST_KAFKA"
	EnvSNSEndpoint = "BRIDGE_TEST_SNS_ENDPOINT"
	EnvRegistry    = "BRIDGE_TEST_REGISTRY"
)

const howToStart = "start the local stack: run `make stack-up` and `eval $(scripts/stack.sh env)`, or run `make test`"

// Kafka returns the seed brokers of a running Kafka cluster. It fails the test when there is none.
func Kafka(t testing.TB) []string {
	t.Helper()
	if v := os.Getenv(EnvKafka); v != "" {
		return strings.Split(v, ",")
	}
	addr := fromDocker(t, EnvKafka, dockerKafka)
	return []string{addr}
}

// SNSEndpoint returns the base URL of an SNS and SQS endpoint (moto). It fails the test when there
// is none.
func SNSEndpoint(t testing.TB) string {
	t.Helper()
	if v := os.Getenv(EnvSNSEndpoint); v != "" {
		return v
	}
	return fromDocker(t, EnvSNSEndpoint, dockerMoto)
}

// Registry returns the base URL of a Confluent-compatible Schema Registry API, without a trailing
// slash: GET Registry(t)+"/subjects" lists subjects. It fails the test when there is none.
func Registry(t testing.TB) string {
	t.Helper()
	if v := os.Getenv(EnvRegistry); v != "" {
		return strings.TrimRight(v, "/")
	}
	return fromDocker(t, EnvRegistry, dockerRegistry)
}

// fromDocker starts (once per test binary) the container that stands in for the service named by
// env, or fails the test with a message that says how to provide the service instead.
func fromDocker(t testing.TB, env string, start func() (string, error)) string {
	t.Helper()
	if err := dockerAvailable(); err != nil {
		t.Fatalf("testenv: %s is not set and no Docker daemon answers (%v); %s", env, err, howToStart)
	}
	addr, err := dockerService(env, start)
	if err != nil {
		t.Fatalf("testenv: %s is not set and starting its container failed: %v; %s", env, err, howToStart)
	}
	return addr
}

var nameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Name returns a name unique to this test and run: prefix, the sanitized test name, and a random
// suffix, at most maxLen bytes, made of letters, digits, '-' and '_' only. That alphabet is valid
// for Kafka topics, SNS topics, SQS queues and registry subjects alike.
func Name(t testing.TB, prefix string, maxLen int) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testenv: random name suffix: %v", err)
	}
	suffix := "-" + hex.EncodeToString(b[:])
	base := nameUnsafe.ReplaceAllString(t.Name(), "-")
	if prefix != "" {
		base = prefix + "-" + base
	}
	if room := maxLen - len(suffix); len(base) > room {
		base = base[:max(room, 0)]
	}
	return strings.Trim(base, "-") + suffix
}

// HTTPClient returns an HTTP client for talking to the stack (the registry, say) whose idle
// keep-alive connections are closed in t.Cleanup, so goleak does not report their goroutines.
func HTTPClient(t testing.TB) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}
