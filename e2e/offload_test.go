//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

// extendedMessage is one line of testdata/extended_read.py: a message as
// AWS's SQS extended client returns it.
type extendedMessage struct {
	Body       string
	Attributes map[string]string
	Offloaded  bool
}

// extendedPython is the stack's Python (BRIDGE_TEST_PYTHON) when it has
// AWS's extended clients, which scripts/stack.sh installs beside moto.
func extendedPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("BRIDGE_TEST_PYTHON")
	if py == "" {
		t.Fatal("BRIDGE_TEST_PYTHON is not set: eval \"$(scripts/stack.sh env)\" names the stack's Python")
	}
	out, err := exec.Command(py, "-c", "import sqs_extended_client, sns_extended_client").CombinedOutput()
	if err != nil {
		t.Fatalf("%s lacks AWS's extended clients (%v: %s): scripts/stack.sh up installs amazon-sqs-extended-client and "+
			"amazon-sns-extended-client into moto's virtualenv (a stack started before they were added needs a restart)", py, err, bytes.TrimSpace(out))
	}
	return py
}

// readExtended reads n messages from the queue with the extended client.
func readExtended(t *testing.T, py, queueURL string, n int, raw bool) []extendedMessage {
	t.Helper()
	mode := "envelope"
	if raw {
		mode = "raw"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "extended_read.py"), queueURL, fmt.Sprint(n), mode, "60")
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+testenv.SNSEndpoint(t), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_SESSION_TOKEN=", "AWS_REGION="+testenv.Region, "AWS_DEFAULT_REGION="+testenv.Region,
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("extended_read.py %s: %v\n%s", mode, err, stderr.String())
	}
	var msgs []extendedMessage
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			BodyB64    string            `json:"body_b64"`
			Attributes map[string]string `json:"attributes"`
			Offloaded  bool              `json:"offloaded"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("extended_read.py printed %.200q: %v", sc.Bytes(), err)
		}
		body, err := base64.StdEncoding.DecodeString(line.BodyB64)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, extendedMessage{Body: string(body), Attributes: line.Attributes, Offloaded: line.Offloaded})
	}
	return msgs
}

// wholeBodies maps recs with the bridge's own mapping on a topic too big to
// need truncation: the bodies subscribers must get back from S3, by event
// type.
func wholeBodies(t *testing.T, recs []eventgen.Record) map[string]string {
	t.Helper()
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:sns:us-east-1:123456789012:whole"
	m, err := mapping.NewMapper(mapping.Config{DefaultTopicARN: arn}, translate.AssumedTopics([]string{arn}, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := translate.New(dec, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range recs {
		msg, _, err := tr.Message(context.Background(), &kgo.Record{Value: r.Value})
		if err != nil {
			t.Fatal(err)
		}
		out[msg.EventType] = msg.Entry.Body
	}
	return out
}

// TestOffloadedEventsReadBackWithAWSExtendedClient: on a route with
// truncate_then_offload, an event truncation cannot fit is stored in S3
// (moto) and published as the extended clients' pointer; AWS's own Python
// SQS extended client, reading queues subscribed with raw message delivery
// on and off, returns its whole body byte for byte, with the six
// attributes; an event truncation can fit arrives truncated, a small one as
// it is; the object's key is the configured prefix and the event id, and
// the offload is counted.
func TestOffloadedEventsReadBackWithAWSExtendedClient(t *testing.T) {
	py := extendedPython(t)
	topic, dlq := sourceTopic(t, 1)
	arn := testenv.SNSTopic(t, false, nil)
	rawQ, envQ := testenv.SubscribeQueue(t, arn, ""), testenv.SubscribeEnvelopeQueue(t, arn)
	bucket := testenv.S3Bucket(t)

	g, err := eventgen.New(1414, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tooLarge, huge, small := g.TooLarge(), g.HugeComment(), must(g.Record("ticket:created"))
	recs := []eventgen.Record{tooLarge, huge, small}
	want := wholeBodies(t, recs)
	produce(t, testenv.KafkaClient(t, kgo.ProducerBatchMaxBytes(4<<20)), topic, recs)

	cfg := baseConfig(t, topic, testenv.SNSEndpoint(t))
	cfg.Set("routing.routes", []mapping.Route{{Pattern: "*", TopicARN: arn, LargeEvents: mapping.LargeTruncateThenOffload,
		Offload: mapping.Offload{Bucket: bucket, KeyPrefix: "e2e/", SSE: mapping.SSEAES256}}})
	cfg.Set("s3.endpoint", testenv.SNSEndpoint(t))
	b := testenv.StartBridge(t, "offload", cfg)

	for _, raw := range []bool{true, false} {
		q := envQ
		if raw {
			q = rawQ
		}
		t.Run(fmt.Sprintf("raw delivery %v", raw), func(t *testing.T) {
			got := map[string]extendedMessage{}
			for _, m := range readExtended(t, py, q.URL, len(recs), raw) {
				got[m.Attributes["event_name"]] = m
			}
			big := got["ticket:tag:updated"]
			if !big.Offloaded || big.Body != want["ticket:tag:updated"] {
				t.Errorf("too-large event: offloaded %v, body of %d bytes equal to the whole event (%d bytes): %v",
					big.Offloaded, len(big.Body), len(want["ticket:tag:updated"]), big.Body == want["ticket:tag:updated"])
			}
			for _, name := range []string{"event_id", "event_timestamp", "context_user_id", "context_user_type", "context_organization_id"} {
				if big.Attributes[name] == "" {
					t.Errorf("offloaded event lost attribute %s: %v", name, big.Attributes)
				}
			}
			if c := got["ticket:comment:added"]; c.Offloaded || !strings.Contains(c.Body, mapping.DefaultPlaceholder) {
				t.Errorf("truncatable event: offloaded %v, truncated %v", c.Offloaded, strings.Contains(c.Body, mapping.DefaultPlaceholder))
			}
			if s := got["ticket:created"]; s.Offloaded || s.Body != want["ticket:created"] {
				t.Errorf("small event: offloaded %v, body as mapped %v", s.Offloaded, s.Body == want["ticket:created"])
			}
		})
	}

	var id struct {
		EventID string `json:"eventId"`
	}
	if err := json.Unmarshal([]byte(want["ticket:tag:updated"]), &id); err != nil {
		t.Fatal(err)
	}
	head, err := testenv.S3Client(t).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("e2e/" + id.EventID + ".json")})
	if err != nil {
		t.Fatalf("object e2e/%s.json: %v", id.EventID, err)
	}
	if string(head.ServerSideEncryption) != "AES256" || aws.ToString(head.ContentType) != "application/json" {
		t.Errorf("object e2e/%s.json: sse %q, type %q; want AES256, application/json", id.EventID, head.ServerSideEncryption, aws.ToString(head.ContentType))
	}
	m := checkNothingDeadLettered(t, b, dlq)
	if n := m.Sum("bridge_offloads_total"); n != 1 {
		t.Errorf("bridge_offloads_total = %v, want 1", n)
	}
}
