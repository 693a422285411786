//go:build docker

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// The compose stack's test (`make docker-test`, build tag docker): docker-compose.yml with
// docker-compose.local.yml, on the images scripts/docker/docker.sh builds and on the host's
// network, started with nothing but `up`, must carry the producer's events through Kafka, the
// registry and the bridge container to the SQS queues init.sh subscribed, dead-letter the poison
// records, and show it all on /metrics and in Prometheus. Addresses and the compose command come
// from `scripts/docker/docker.sh env`.

// composeProject names the test's compose project, so a developer's own stack is left alone.
const composeProject = "kafka-sns-bridge-docker-test"

// localPort is the host port of a compose service: the LOCAL_* variable docker-compose.local.yml
// reads, else its default there.
func localPort(env string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil {
		return v
	}
	return def
}

type composeStack struct {
	command []string // e.g. docker compose, or a compose v2 binary
	files   []string
	kafka   string // host:port
	sns     string // URL
	bridge  string // host:port of /metrics
	prom    string // URL
	reg     string // registry base URL
}

func newComposeStack(t *testing.T) *composeStack {
	t.Helper()
	command := strings.Fields(os.Getenv("BRIDGE_TEST_COMPOSE"))
	if len(command) == 0 {
		t.Fatal("BRIDGE_TEST_COMPOSE is not set (a compose command, e.g. `docker compose`): run `make docker-test`, or eval \"$(scripts/docker/docker.sh env)\"")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return &composeStack{
		command: command,
		files:   []string{filepath.Join(root, "docker-compose.yml"), filepath.Join(root, "docker-compose.local.yml")},
		kafka:   fmt.Sprintf("127.0.0.1:%d", localPort("LOCAL_KAFKA_PORT", 11092)),
		sns:     fmt.Sprintf("http://127.0.0.1:%d", localPort("LOCAL_SNS_PORT", 6566)),
		bridge:  fmt.Sprintf("127.0.0.1:%d", localPort("LOCAL_BRIDGE_PORT", 11090)),
		prom:    fmt.Sprintf("http://127.0.0.1:%d", localPort("LOCAL_PROMETHEUS_PORT", 11091)),
		reg:     fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", localPort("LOCAL_REGISTRY_PORT", 10081)),
	}
}

// run runs a compose subcommand on the stack's files and returns its combined output.
func (c *composeStack) run(ctx context.Context, command []string, files []string, args ...string) (string, error) {
	full := slices.Clone(command[1:])
	for _, f := range files {
		full = append(full, "-f", f)
	}
	full = append(full, "-p", composeProject)
	full = append(full, args...)
	out, err := exec.CommandContext(ctx, command[0], full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w", strings.Join(command, " "), strings.Join(args, " "), err)
	}
	return string(out), nil
}

func (c *composeStack) must(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := c.run(ctx, c.command, c.files, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// Both files are valid for every compose at hand (Compose v2 and v1: BRIDGE_TEST_COMPOSE_VALIDATE,
// comma-separated commands), alone and together.
func TestComposeFilesAreValid(t *testing.T) {
	c := newComposeStack(t)
	commands := strings.Split(os.Getenv("BRIDGE_TEST_COMPOSE_VALIDATE"), ",")
	if os.Getenv("BRIDGE_TEST_COMPOSE_VALIDATE") == "" {
		commands = []string{strings.Join(c.command, " ")}
	}
	for _, command := range commands {
		for _, files := range [][]string{c.files[:1], c.files} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := c.run(ctx, strings.Fields(command), files, "config", "-q")
			cancel()
			if err != nil {
				t.Errorf("%s does not accept %v: %v\n%s", command, files, err, out)
			}
		}
	}
}

// `up` alone: events flow from the producer service through the bridge container to SQS, the
// poison records are dead-lettered, and /metrics and Prometheus count them.
func TestComposeStackCarriesEventsEndToEnd(t *testing.T) {
	c := newComposeStack(t)
	t.Setenv(testenv.EnvSNSEndpoint, c.sns) // testenv's SQS reader talks to the stack's moto

	c.must(t, 2*time.Minute, "down", "-v", "--remove-orphans") // a stack an interrupted run left
	t.Cleanup(func() {
		if t.Failed() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, _ := c.run(ctx, c.command, c.files, "logs", "--no-color", "--tail", "60")
			cancel()
			t.Logf("compose logs:\n%s", out)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := c.run(ctx, c.command, c.files, "down", "-v", "--remove-orphans", "--timeout", "20"); err != nil {
			t.Errorf("%v\n%s", err, out)
		}
	})
	c.must(t, 10*time.Minute, "up", "-d", "--no-build")

	checkHostNetworkOnly(t)

	sqsClient := sqs.NewFromConfig(testenv.AWSConfig(t))
	queueURL := func(name string) string {
		t.Helper()
		var out *sqs.GetQueueUrlOutput
		poll(t, 3*time.Minute, "queue "+name+" (made by init.sh)", func(ctx context.Context) error {
			var err error
			out, err = sqsClient.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
			return err
		})
		return aws.ToString(out.QueueUrl)
	}

	tickets := testenv.Receive(t, queueURL("thena-events-integrator"), 20, 4*time.Minute)
	if len(tickets) < 20 {
		t.Fatalf("%d messages on the ticket topic's queue within 4 minutes of up, want 20", len(tickets))
	}
	for _, m := range tickets {
		checkMessage(t, m, false)
	}
	custom := testenv.Receive(t, queueURL("thena-custom-object-events-integrator"), 1, 2*time.Minute)
	if len(custom) == 0 {
		t.Fatal("no message on the custom object topic's queue within 2 minutes")
	}
	checkMessage(t, custom[0], true)

	letter := firstDeadLetter(t, c.kafka, "thena.events.dlq")
	switch letter.Reason {
	case "bad_magic", "unknown_schema", "undecodable", "unroutable":
	default:
		t.Errorf("dead letter at %s has reason %q, want one of the poison records' reasons", letter.Position(), letter.Reason)
	}
	if letter.SourceTopic != "thena.events" || letter.SourceOffset < 0 {
		t.Errorf("dead letter at %s names source %s at offset %d", letter.Position(), letter.SourceTopic, letter.SourceOffset)
	}

	var m bridgeproc.Metrics
	poll(t, time.Minute, "the bridge's /metrics to count the dead letter", func(ctx context.Context) error {
		var err error
		if m, err = bridgeproc.Scrape(ctx, c.bridge); err != nil {
			return err
		}
		if m.Sum("bridge_dead_letters_total") < 1 {
			return fmt.Errorf("bridge_dead_letters_total is %v", m.Sum("bridge_dead_letters_total"))
		}
		return nil
	})
	if v := m.Sum("bridge_records_consumed_total"); v < 21 {
		t.Errorf("bridge_records_consumed_total is %v, want at least the 21 records read back", v)
	}
	if v := m.Sum("bridge_sns_published_total"); v < 21 {
		t.Errorf("bridge_sns_published_total is %v, want at least the 21 messages read back", v)
	}

	// The dashboard's source: Prometheus scrapes the bridge container.
	poll(t, 2*time.Minute, "Prometheus to have scraped the bridge", func(ctx context.Context) error {
		v, err := promQuery(ctx, c.prom, `sum(bridge_sns_published_total{job="kafka-sns-bridge"})`)
		if err != nil {
			return err
		}
		if v < 1 {
			return fmt.Errorf("sum(bridge_sns_published_total) is %v", v)
		}
		return nil
	})

	// The producer registered the schemas under TopicRecordNameStrategy subjects, and the bridge
	// decoded with the registry's ids (what it published proves that).
	subjects, err := getJSON[[]string](context.Background(), c.reg+"/subjects")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(subjects, "thena.events-com.thena.events.TicketEvent") {
		t.Errorf("registry subjects %v lack thena.events-com.thena.events.TicketEvent", subjects)
	}
}

// checkMessage checks what an integrator's queue received: the envelope and the attributes
// filter policies use.
func checkMessage(t *testing.T, m testenv.Message, customObject bool) {
	t.Helper()
	name := m.Attributes["event_name"]
	if strings.HasPrefix(name, "custom-object:") != customObject {
		t.Errorf("event %q on the wrong topic's queue", name)
	}
	if m.Attributes["event_id"] == "" || m.Attributes["context_organization_id"] == "" {
		t.Errorf("message attributes %v lack the event id or organization", m.Attributes)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(m.Body), &body); err != nil {
		t.Errorf("message body is not JSON: %v", err)
		return
	}
	if body["eventType"] != name || body["orgId"] != m.Attributes["context_organization_id"] {
		t.Errorf("body eventType %v, orgId %v disagree with attributes %v", body["eventType"], body["orgId"], m.Attributes)
	}
}

// checkHostNetworkOnly: every container of the project runs on the host's network, and the
// project made no network of its own (no bridge, traffic on loopback only).
func checkHostNetworkOnly(t *testing.T) {
	t.Helper()
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	label := "label=com.docker.compose.project=" + composeProject
	if nets := docker("network", "ls", "-q", "--filter", label); nets != "" {
		t.Errorf("the compose project made networks %s; every service must use the host's network", nets)
	}
	ids := strings.Fields(docker("ps", "-aq", "--filter", label))
	if len(ids) == 0 {
		t.Fatal("no container of the compose project")
	}
	for _, line := range strings.Split(docker(append([]string{"inspect", "--format", "{{.Name}} {{.HostConfig.NetworkMode}}"}, ids...)...), "\n") {
		if !strings.HasSuffix(line, " host") {
			t.Errorf("container %s: want network mode host", line)
		}
	}
}

// poll calls check every half second until it succeeds, failing the test with check's last error
// after timeout.
func poll(t *testing.T, timeout time.Duration, what string, check func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		err := check(cctx)
		ccancel()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %s for %s: %v", timeout, what, err)
		case <-tick.C:
		}
	}
}

// firstDeadLetter reads topic from the start until a record arrives, or fails after 3 minutes.
func firstDeadLetter(t *testing.T, brokers, topic string) deadletter.DeadLetter {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		fetches := cl.PollFetches(ctx)
		if recs := fetches.Records(); len(recs) > 0 {
			return deadletter.Parse(recs[0])
		}
		if ctx.Err() != nil {
			t.Fatalf("no dead letter on %s within 3 minutes", topic)
		}
	}
}

// promQuery evaluates an instant query whose result is one number.
func promQuery(ctx context.Context, base, query string) (float64, error) {
	type result struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	r, err := getJSON[result](ctx, base+"/api/v1/query?query="+url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	if r.Status != "success" || len(r.Data.Result) == 0 {
		return 0, fmt.Errorf("query %s: status %q, %d results", query, r.Status, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

func getJSON[T any](ctx context.Context, u string) (T, error) {
	var v T
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return v, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return v, err
	}
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET %s: %s: %.200s", u, resp.Status, body)
	}
	return v, json.Unmarshal(body, &v)
}
