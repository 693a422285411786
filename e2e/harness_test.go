//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	havro "github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// bridgeBin is the bridge binary TestMain builds from this module.
var bridgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bridge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		bridgeBin = filepath.Join(dir, "bridge")
		build := exec.Command("go", "build", "-o", bridgeBin, "./cmd/bridge")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: building the bridge: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// ---- schemas in the real registry ----

var registered struct {
	sync.Mutex
	ids map[int]int // local schema id -> registry id
}

// registryIDs registers every schema in schemas/ with the real registry (once
// per test binary, under subjects of this suite; registering the same schema
// again returns the same id) and maps eventgen's local ids to the registry's.
func registryIDs(t *testing.T) map[int]int {
	t.Helper()
	registered.Lock()
	defer registered.Unlock()
	if registered.ids != nil {
		return registered.ids
	}
	g, err := eventgen.New(1, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := g.Source()
	hc := &http.Client{Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	client, err := registry.NewClient(testenv.Registry(t), registry.WithHTTPClient(hc))
	if err != nil {
		t.Fatalf("registry client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The files as written, not a parsed schema's String(): its canonical
	// form drops the properties (thena.optional) the decoder renders by.
	files, err := filepath.Glob(filepath.Join("..", "schemas", "*.avsc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in ../schemas: %v", err)
	}
	ids := map[int]int{}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		schema, err := havro.ParseBytes(text)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		named, ok := schema.(havro.NamedSchema)
		if !ok {
			t.Fatalf("%s is not a named schema", f)
		}
		local, ok := src.ID(named.FullName())
		if !ok {
			t.Fatalf("eventgen does not know %s", named.FullName())
		}
		id, _, err := client.CreateSchema(ctx, "kafka-sns-bridge-e2e-"+named.FullName()+"-value", string(text))
		if err != nil {
			t.Fatalf("registering %s with %s: %v", f, testenv.Registry(t), err)
		}
		ids[local] = id
	}
	if len(ids) != len(src.Names()) {
		t.Fatalf("registered %d schemas, eventgen encodes with %d", len(ids), len(src.Names()))
	}
	registered.ids = ids
	return ids
}

// reframe puts the registry's schema id in front of an eventgen record value
// (which carries a local id). Values that are not in wire format (bad magic)
// or carry an id no schema has (unknown-schema poison) are left as they are.
func reframe(t *testing.T, value []byte) []byte {
	t.Helper()
	return reframeWith(registryIDs(t), value)
}

// reframeWith is reframe with the id map given, for goroutines that must not
// fail a test.
func reframeWith(ids map[int]int, value []byte) []byte {
	local, body, err := avro.ParseWire(value)
	if err != nil {
		return value
	}
	id, ok := ids[local]
	if !ok {
		return value
	}
	return append(avro.AppendWireHeader(make([]byte, 0, len(body)+avro.WireHeaderLen), id), body...)
}

// ---- Kafka ----

// sourceTopic creates a Kafka topic and its dead-letter topic, named by the
// bridge's default template "{topic}.dlq", both deleted in t.Cleanup.
func sourceTopic(t *testing.T, partitions int32) (topic, dlq string) {
	t.Helper()
	topic = testenv.Topic(t, partitions, nil)
	dlq = topic + ".dlq"
	adm := kadm.NewClient(testenv.KafkaClient(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, dlq); err != nil {
		t.Fatalf("creating dead-letter topic %s: %v", dlq, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adm.DeleteTopics(ctx, dlq); err != nil {
			t.Errorf("deleting %s: %v", dlq, err)
		}
	})
	return topic, dlq
}

// produce writes recs (values re-framed for the registry) to topic and
// returns the produced records, with partition and offset.
func produce(t *testing.T, cl *kgo.Client, topic string, recs []eventgen.Record) []*kgo.Record {
	t.Helper()
	out := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		out[i] = &kgo.Record{Topic: topic, Key: r.Key, Value: reframe(t, r.Value)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, out...).FirstErr(); err != nil {
		t.Fatalf("producing %d records to %s: %v", len(out), topic, err)
	}
	return out
}

// committed returns the group's committed offsets of topic by partition.
func committed(ctx context.Context, adm *kadm.Client, group, topic string) (map[int32]int64, error) {
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	if err := resp.Error(); err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	for p, o := range resp[topic] {
		out[p] = o.At
	}
	return out, nil
}

// readAll reads every record of topic from the start to its current end.
func readAll(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := kadm.NewClient(testenv.KafkaClient(t))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := int64(0)
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	if want == 0 {
		return nil
	}
	cl := testenv.KafkaClient(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s before the deadline", len(out), want, topic)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("reading %s: %v", topic, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// ---- the bridge process ----

// config is a bridge configuration file as nested maps, marshalled to YAML.
type config map[string]any

// baseConfig is the configuration every test starts from: the real Kafka
// and registry, a group of its own, a short commit interval, an HTTP port
// the kernel picks.
func baseConfig(t *testing.T, topic, snsEndpoint string, routes ...[2]string) config {
	t.Helper()
	var rs []map[string]string
	for _, r := range routes {
		rs = append(rs, map[string]string{"pattern": r[0], "topic_arn": r[1]})
	}
	return config{
		"kafka": map[string]any{
			"brokers":           testenv.Kafka(t),
			"group_id":          testenv.Name(t, "grp", 200),
			"topics":            []string{topic},
			"dead_letter_topic": "{topic}.dlq",
			"commit_interval":   "250ms",
			"session_timeout":   "10s",
			"rebalance_timeout": "30s",
			"drain_timeout":     "5s",
			"commit_timeout":    "5s",
		},
		"schemas": map[string]any{"registry_url": testenv.Registry(t), "local_dir": ""},
		"sns": map[string]any{
			"region":   testenv.Region,
			"endpoint": snsEndpoint,
		},
		"routing":          map[string]any{"routes": rs},
		"http":             map[string]any{"listen": "127.0.0.1:0"},
		"log":              map[string]any{"level": "info"},
		"shutdown_timeout": "15s",
	}
}

// set sets the key at a dotted path ("kafka.max_in_flight").
func (c config) set(path string, v any) {
	keys := strings.Split(path, ".")
	m := map[string]any(c)
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	m[keys[len(keys)-1]] = v
}

func (c config) get(path string) any {
	keys := strings.Split(path, ".")
	m := map[string]any(c)
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	return m[keys[len(keys)-1]]
}

func (c config) write(t *testing.T) string {
	t.Helper()
	b, err := yaml.Marshal(map[string]any(c))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// bridgeEnv is the child's environment: this process's minus BRIDGE_* (which
// would override the config file) and AWS_* (a developer's real profile must
// never be used), plus dummy credentials, plus extra.
func bridgeEnv(t *testing.T, extra ...string) []string {
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BRIDGE_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION="+testenv.Region,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED=true")
	return append(env, extra...)
}

// bridge is a running `bridge run` child process.
type bridge struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stderr string // path of the captured stderr
	addr   string // host:port of /metrics, /readyz
	done   chan struct{}
	err    error // set when done is closed
}

// startBridge starts `bridge run -config <cfg>` and waits until /readyz
// answers 200. It fails the test, with the bridge's stderr, when the process
// exits or is not ready within a minute. The process is killed in t.Cleanup
// if the test did not stop it.
func startBridge(t *testing.T, name string, cfg config) *bridge {
	t.Helper()
	b := launch(t, name, cfg, bridgeEnv(t))
	b.awaitReady(time.Minute)
	return b
}

// launch starts the process without waiting for it to be ready.
func launch(t *testing.T, name string, cfg config, env []string) *bridge {
	t.Helper()
	path := cfg.write(t)
	logPath := filepath.Join(t.TempDir(), name+".stderr")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bridgeBin, "run", "-config", path)
	cmd.Env = env
	cmd.Stdout = io.Discard
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting the bridge: %v", err)
	}
	b := &bridge{t: t, name: name, cmd: cmd, stderr: logPath, done: make(chan struct{})}
	go func() {
		b.err = cmd.Wait()
		f.Close()
		close(b.done)
	}()
	t.Cleanup(func() {
		b.kill()
		if t.Failed() {
			t.Logf("bridge %s stderr (last 40 lines):\n%s", name, b.tail(40))
		}
	})
	return b
}

func (b *bridge) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func (b *bridge) awaitReady(wait time.Duration) {
	t := b.t
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if b.exited() {
			t.Fatalf("bridge %s exited before it was ready: %v\n%s", b.name, b.err, b.tail(20))
		}
		if b.addr == "" {
			b.addr = b.logField("bridge started", "http")
		}
		if b.addr != "" {
			resp, err := http.Get("http://" + b.addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("bridge %s not ready after %v:\n%s", b.name, wait, b.tail(20))
}

// logLines returns the bridge's JSON log lines, decoded.
func (b *bridge) logLines() []map[string]any {
	f, err := os.Open(b.stderr)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// logField returns field of the first log line whose msg is msg.
func (b *bridge) logField(msg, field string) string {
	for _, l := range b.logLines() {
		if l["msg"] == msg {
			s, _ := l[field].(string)
			return s
		}
	}
	return ""
}

func (b *bridge) tail(n int) string {
	raw, _ := os.ReadFile(b.stderr)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stop sends SIGTERM and waits up to wait for a clean exit.
func (b *bridge) stop(wait time.Duration) error {
	b.t.Helper()
	if b.exited() {
		return b.err
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
		return b.err
	case <-time.After(wait):
		b.kill()
		return fmt.Errorf("bridge %s did not stop within %v of SIGTERM", b.name, wait)
	}
}

// kill sends SIGKILL (a crash) and waits for the process to be gone.
func (b *bridge) kill() {
	if b.exited() {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.done
}

// metrics scrapes /metrics: series ("name{labels}") to value.
func (b *bridge) metrics() (metrics, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + b.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	m := metrics{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, nil
}

type metrics map[string]float64

// sum adds the values of the series of metric name whose labels contain
// every one of labels (`reason="too_large"`).
func (m metrics) sum(name string, labels ...string) float64 {
	total := 0.0
	for series, v := range m {
		n, rest, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(rest, l)
		}
		if ok {
			total += v
		}
	}
	return total
}

// max is the largest value among the series of metric name.
func (m metrics) max(name string) float64 {
	out := 0.0
	for series, v := range m {
		if n, _, _ := strings.Cut(series, "{"); n == name && v > out {
			out = v
		}
	}
	return out
}

// ---- SQS, read the way integrators read it ----

// sqsReader drains a queue in the background into a list, for tests that
// watch arrivals while something else happens.
type sqsReader struct {
	mu     sync.Mutex
	msgs   []testenv.Message
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

func readQueue(t *testing.T, queueURL string) *sqsReader {
	t.Helper()
	client := sqs.NewFromConfig(testenv.AWSConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	r := &sqsReader{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ctx.Err() == nil {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl:                    &queueURL,
				MaxNumberOfMessages:         10,
				WaitTimeSeconds:             1,
				MessageAttributeNames:       []string{"All"},
				MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			})
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				r.mu.Lock()
				r.err = err
				r.mu.Unlock()
				time.Sleep(500 * time.Millisecond)
				continue
			}
			if len(out.Messages) == 0 {
				continue
			}
			entries := make([]sqstypes.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
			r.mu.Lock()
			for i, m := range out.Messages {
				msg := testenv.Message{Body: aws.ToString(m.Body), Attributes: map[string]string{}}
				for k, v := range m.MessageAttributes {
					msg.Attributes[k] = aws.ToString(v.StringValue)
				}
				msg.MessageGroupID = m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]
				r.msgs = append(r.msgs, msg)
				entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
			}
			r.mu.Unlock()
			_, _ = client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &queueURL, Entries: entries})
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *sqsReader) close() {
	r.cancel()
	<-r.done
}

// ids returns how many times each event id arrived.
func (r *sqsReader) ids() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.msgs))
	for _, m := range r.msgs {
		out[m.Attributes["event_id"]]++
	}
	return out
}

func (r *sqsReader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// waitFor polls cond every 100ms until it holds or wait passes.
func waitFor(wait time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(wait)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---- a TCP fault proxy in front of a service ----

// faultProxy forwards 127.0.0.1 connections to target until cut, then resets
// every open connection and every new one until restored: to the bridge, the
// service is down (connection reset by peer).
type faultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *faultProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			reset(c)
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			reset(c)
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			reset(dst)
			reset(src)
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// cut makes the service unreachable: open connections are reset, new ones
// are accepted and reset at once.
func (p *faultProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		reset(c)
	}
}

func (p *faultProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// hostPort is the host:port of a URL like http://127.0.0.1:4566.
func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	s := strings.TrimPrefix(strings.TrimPrefix(rawURL, "http://"), "https://")
	s, _, _ = strings.Cut(s, "/")
	return s
}

// jsonCompact is b without insignificant white space.
func jsonCompact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compacting JSON: %v", err)
	}
	return buf.String()
}
