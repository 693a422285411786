//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// TestMain removes, after the tests, the bridge binary testenv builds for them (and any
// containers testenv started).
func TestMain(m *testing.M) { testenv.Main(m) }

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
	client := testenv.RegistryClient(t)
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
	dlq = deadletter.Topic(deadletter.DefaultTopic, topic)
	testenv.CreateTopic(t, dlq, 1, nil)
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

// baseConfig is the configuration every test starts from: the real Kafka
// and registry, a group of its own, a short commit interval, an HTTP port
// the kernel picks.
func baseConfig(t *testing.T, topic, snsEndpoint string, routes ...[2]string) bridgeproc.Config {
	t.Helper()
	var rs []mapping.Route
	for _, r := range routes {
		rs = append(rs, mapping.Route{Pattern: r[0], TopicARN: r[1]})
	}
	cfg := bridgeproc.NewConfig(bridgeproc.Base{
		Brokers: testenv.Kafka(t), GroupID: testenv.Name(t, "grp", 200), Topics: []string{topic},
		RegistryURL: testenv.Registry(t), SNSEndpoint: snsEndpoint, Routes: rs,
	})
	for k, v := range map[string]string{
		"dead_letter_topic": deadletter.DefaultTopic,
		"commit_interval":   "250ms",
		"session_timeout":   "10s",
		"rebalance_timeout": "30s",
		"drain_timeout":     "5s",
		"commit_timeout":    "5s",
	} {
		cfg.Set("kafka."+k, v)
	}
	return cfg.Set("http.listen", "127.0.0.1:0").Set("log.level", "info").Set("shutdown_timeout", "15s")
}

// hotKeys reads the bridge's /debug/keys?n=n: its hottest ordering keys as
// consumer.Engine.HotKeys reports them. (Not in internal/bridgeproc: the
// consumer's own integration tests import that, through testenv.)
func hotKeys(b *testenv.Bridge, n int) ([]consumer.KeyStats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.Addr()+"/debug/keys?n="+strconv.Itoa(n), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /debug/keys: %s", resp.Status)
	}
	var page struct {
		Keys []consumer.KeyStats `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("GET /debug/keys: %w", err)
	}
	return page.Keys, nil
}

// checkNothingDeadLettered fails the test when the dead-letter topic dlq
// holds records or the bridge counted dead letters, and returns the scrape
// of the bridge's /metrics it read.
func checkNothingDeadLettered(t *testing.T, b *testenv.Bridge, dlq string) bridgeproc.Metrics {
	t.Helper()
	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d events dead-lettered", len(dead))
	}
	m, err := b.Scrape()
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Sum("bridge_dead_letters_total"); n != 0 {
		t.Errorf("bridge_dead_letters_total = %v", n)
	}
	return m
}

// logPauses logs how often the bridge paused a partition, by reason
// (bridge_partition_pauses_total).
func logPauses(t *testing.T, m bridgeproc.Metrics) {
	t.Helper()
	t.Logf("partition pauses: topic_blocked %v, hot_key %v, buffer %v", m.Sum("bridge_partition_pauses_total", `reason="topic_blocked"`),
		m.Sum("bridge_partition_pauses_total", `reason="hot_key"`), m.Sum("bridge_partition_pauses_total", `reason="buffer"`))
}

// halter is a goroutine a test stops: halt closes stop, once, and waits
// until the goroutine has closed done.
type halter struct {
	stop chan struct{}
	done chan struct{}
}

func newHalter() halter { return halter{stop: make(chan struct{}), done: make(chan struct{})} }

func (h halter) halt() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
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
// service is down (connection reset by peer). Or, hung, it resets the open
// connections and accepts new ones that never answer: requests that never
// complete.
type faultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	hung   bool
	conns  map[net.Conn]struct{}
	// held are the connections accepted while hung, open and unanswered
	// until the proxy closes.
	held []net.Conn
	wg   sync.WaitGroup
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
		p.mu.Lock()
		for _, c := range p.held {
			reset(c)
		}
		p.mu.Unlock()
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
		down, hung := p.down, p.hung
		if hung {
			p.held = append(p.held, c)
		}
		p.mu.Unlock()
		if down {
			reset(c)
			continue
		}
		if hung {
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

// hang makes the service accept connections and never answer on them;
// open connections are reset.
func (p *faultProxy) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = true
	for c := range p.conns {
		reset(c)
	}
}

// restore forwards new connections again; connections accepted while hung
// stay unanswered, as a hung server's would.
func (p *faultProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.hung = false, false
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
