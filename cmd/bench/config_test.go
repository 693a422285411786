package main

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// oldConfig is a config.yaml of the previous release's shape: record-count
// buffers (kafka.max_in_flight), no ordering section.
const oldConfig = `kafka:
  brokers: ["127.0.0.1:9092"]
  group_id: thena-sns-bridge
  topics: ["thena.events"]
  reset_offset: earliest
  client_id: kafka-sns-bridge
  max_buffered_per_partition: 1000
  max_in_flight: 10000
schemas:
  registry_url: ""
  local_dir: schemas
sns:
  region: "${AWS_REGION:-us-east-1}"
  endpoint: "${SNS_ENDPOINT:-http://127.0.0.1:4566}"
  max_inflight_batches: 64
routing:
  routes:
    - pattern: "*"
      topic_arn: "arn:aws:sns:us-east-1:123456789012:thena-events"
  default_topic_arn: ""
http:
  listen: "127.0.0.1:9090"
log:
  level: info
`

func testSink(t *testing.T, fifo bool) *sink {
	t.Helper()
	h := &harness{opts: testOptions()}
	c := contender{kind: cBridge}
	if fifo {
		c.order = vFIFO
	}
	sk, err := h.newSink(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sk.Close)
	return sk
}

// TestBaseConfig: the base revision runs with its own config.yaml, given
// the harness's addresses, group and schemas only for keys it has: its
// record-count buffers stay, no key it would refuse is added.
func TestBaseConfig(t *testing.T) {
	cfg, err := parseConfig([]byte(oldConfig))
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions()
	o.brokers, o.registry, o.schemas, o.inflight = "127.0.0.1:9999", "http://127.0.0.1:8081/apis/ccompat/v7", "/abs/schemas", 32
	h := &harness{opts: o, base: &baseRevision{config: cfg}}
	sk := testSink(t, false)
	got, err := h.bridgeConfig(contender{kind: cBase, slow: true}, sk, "bench.events.x", "g1", "127.0.0.1:1234", framingRegistry)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"kafka.group_id": "g1", "kafka.reset_offset": "earliest", "kafka.client_id": "bench-bridge",
		"kafka.max_in_flight": 10000, "kafka.max_buffered_per_partition": 1000,
		"sns.endpoint": sk.URL(), "sns.region": bridgeproc.Region, "sns.max_inflight_batches": 32,
		"schemas.registry_url": o.registry, "schemas.local_dir": "",
		"http.listen": "127.0.0.1:1234", "log.level": "warn",
	} {
		if v := got.Get(path); v != want {
			t.Errorf("%s = %v, want %v", path, v, want)
		}
	}
	if v := got.Get("kafka.topics"); len(v.([]string)) != 1 || v.([]string)[0] != "bench.events.x" {
		t.Errorf("kafka.topics = %v", v)
	}
	if got.Get("kafka.max_buffered_bytes") != nil || got.Get("ordering") != nil {
		t.Errorf("keys the old revision does not know were added: %v", got)
	}
	if cfg.Get("kafka.group_id") != "thena-sns-bridge" {
		t.Error("the template was modified")
	}
	routes := got.Get("routing.routes").([]map[string]any)
	if len(routes) != 2 || routes[0]["topic_arn"] != sk.arnCustom || routes[1]["topic_arn"] != sk.arnEvents || routes[0]["ordering"] != nil {
		t.Errorf("routes %v", routes)
	}

	// A revision without a key the harness cannot do without is refused.
	broken, _ := parseConfig([]byte(strings.Replace(oldConfig, "  endpoint:", "  endpoint_url:", 1)))
	h.base.config = broken
	if _, err := h.bridgeConfig(contender{kind: cBase}, sk, "t", "g", "a", framingLocal); err == nil || !strings.Contains(err.Error(), "sns.endpoint") {
		t.Errorf("config without sns.endpoint: %v", err)
	}
}

// TestCurrentConfig: the current bridge's configuration is config.yaml with
// the overrides, local schemas for a local backlog, the relaxed routes'
// key for -relaxed contenders, and the FIFO sink's topics for -fifo.
func TestCurrentConfig(t *testing.T) {
	cur, err := readCurrentConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions()
	o.schemas, o.relaxedRoute = "/abs/schemas", "ordering=relaxed"
	h := &harness{opts: o, currentConfig: cur}
	sk := testSink(t, true)
	got, err := h.bridgeConfig(contender{kind: cBridge, order: vRelaxed}, sk, "t", "g", "127.0.0.1:1", framingLocal)
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("schemas.local_dir") != "/abs/schemas" || got.Get("schemas.registry_url") != "" {
		t.Errorf("schemas %v", got.Get("schemas"))
	}
	routes := got.Get("routing.routes").([]map[string]any)
	for _, r := range routes {
		if r["ordering"] != "relaxed" || !strings.HasSuffix(r["topic_arn"].(string), ".fifo") {
			t.Errorf("route %v: want ordering relaxed and the sink's .fifo topics", r)
		}
	}
	if got.Get("ordering.max_run_per_key") == nil {
		t.Error("config.yaml's own keys were lost")
	}
	h.opts.relaxedRoute = "relaxed"
	if _, err := h.routes(sk, true); err == nil {
		t.Error("-relaxed-route without '=': no error")
	}
}

// TestBentoConfig: the pipeline reads the backlog topic as its own group
// from the start, decodes with the registry, sets the six attributes as the
// only metadata and publishes custom objects to their topic and everything
// else to the other, 64 calls in flight each.
func TestBentoConfig(t *testing.T) {
	b, err := bentoConfig(bentoParams{brokers: []string{"127.0.0.1:9092"}, topic: "bench.t", group: "g",
		registry: "http://r/apis/ccompat/v7", endpoint: "http://127.0.0.1:5", arnEvents: "arn:e", arnCustom: "arn:c", inflight: 64})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Input struct {
			Kafka struct {
				Brokers []string `yaml:"seed_brokers"`
				Topics  []string `yaml:"topics"`
				Group   string   `yaml:"consumer_group"`
				Oldest  bool     `yaml:"start_from_oldest"`
			} `yaml:"kafka_franz"`
		} `yaml:"input"`
		Pipeline struct {
			Processors []map[string]any `yaml:"processors"`
		} `yaml:"pipeline"`
		Output struct {
			Switch struct {
				Cases []struct {
					Check  string `yaml:"check"`
					Output struct {
						SNS struct {
							ARN      string `yaml:"topic_arn"`
							Endpoint string `yaml:"endpoint"`
							Inflight int    `yaml:"max_in_flight"`
						} `yaml:"aws_sns"`
					} `yaml:"output"`
				} `yaml:"cases"`
			} `yaml:"switch"`
		} `yaml:"output"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	k := cfg.Input.Kafka
	if k.Topics[0] != "bench.t" || k.Group != "g" || !k.Oldest || k.Brokers[0] != "127.0.0.1:9092" {
		t.Errorf("input %+v", k)
	}
	dec, ok := cfg.Pipeline.Processors[0]["schema_registry_decode"].(map[string]any)
	if !ok || dec["url"] != "http://r/apis/ccompat/v7" {
		t.Errorf("first processor %v", cfg.Pipeline.Processors[0])
	}
	blobl, _ := cfg.Pipeline.Processors[1]["mapping"].(string)
	if !strings.HasPrefix(blobl, "meta = deleted()") {
		t.Errorf("the mapping does not drop Kafka's metadata first:\n%s", blobl)
	}
	for _, a := range []string{mapping.AttrEventName, mapping.AttrEventID, mapping.AttrEventTimestamp, mapping.AttrUserID, mapping.AttrUserType, mapping.AttrOrganizationID} {
		if !strings.Contains(blobl, "meta "+a+" = ") {
			t.Errorf("the mapping does not set %s", a)
		}
	}
	cases := cfg.Output.Switch.Cases
	if len(cases) != 2 || !strings.Contains(cases[0].Check, `has_prefix("custom-object:")`) || cases[0].Output.SNS.ARN != "arn:c" ||
		cases[1].Check != "" || cases[1].Output.SNS.ARN != "arn:e" {
		t.Fatalf("outputs %+v", cases)
	}
	for _, c := range cases {
		if c.Output.SNS.Inflight != 64 || c.Output.SNS.Endpoint != "http://127.0.0.1:5" {
			t.Errorf("output %+v", c.Output.SNS)
		}
	}
}

// TestUntar: the base revision's tree is unpacked as it is; a path that
// leaves the directory is refused.
func TestUntar(t *testing.T) {
	archive := func(files map[string]string) []byte {
		var b bytes.Buffer
		w := tar.NewWriter(&b)
		for name, body := range files {
			w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
			w.Write([]byte(body))
		}
		w.Close()
		return b.Bytes()
	}
	dir := t.TempDir()
	if err := untar(archive(map[string]string{"go.mod": "module x\n", "cmd/bridge/main.go": "package main\n"}), dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cmd/bridge/main.go")); err != nil || string(b) != "package main\n" {
		t.Fatalf("%q, %v", b, err)
	}
	if err := untar(archive(map[string]string{"../evil": "x"}), dir); err == nil {
		t.Fatal("a path out of the directory was written")
	}
}

// TestReportShapes: a report of several backlog shapes has one table per
// shape, the skew table, and the busiest organization's share; a report of
// one shape has no skew table.
func TestReportShapes(t *testing.T) {
	u, z := shapeOf(10000, 0), shapeOf(10000, 1.1)
	one := &report{opts: testOptions(), runs: []runResult{drained("bridge", u, 1000, 80)}}
	if g := one.generated(); strings.Contains(g, "Skew:") || !strings.Contains(g, "10000 organizations, uniform") {
		t.Errorf("one shape:\n%s", g)
	}
	th := drained("bridge-throttle-slow-sink", u, 900, 90)
	th.Storm = &stormResult{Before: 1000, During: 200, Recovery: 1.2}
	th.Refused = map[string]int64{"BatchRequestTooLong": 2}
	dbl := drained("bridge", u, 10, 800)
	dbl.Sink = sinkDouble
	r := &report{opts: testOptions(), runs: []runResult{drained("bridge-slow-sink", u, 1000, 80), drained("base-slow-sink", u, 900, 85),
		drained("bridge-slow-sink", z, 700, 80), th, dbl, drained("bridge", u, 2000, 70)}, baseLabel: "3cea5e4"}
	g := r.generated()
	for _, want := range []string{"Skew:", "15.14 %", "Zipf(1.1) over 10000 organizations", "base revision 3cea5e4", "| 1.2 |",
		"refused, as SNS would", "BatchRequestTooLong 2", "sink answers at once, **count-only SNS double** as the sink | 10 |", "sink answers at once | 2000 |"} {
		if !strings.Contains(g, want) {
			t.Errorf("report lacks %q:\n%s", want, g)
		}
	}
	if x, ok := find(r.summaries(), "bridge", uniform(10000)); !ok || x.rate.med != 2000 {
		t.Errorf("find took the double-sink run: %+v", x)
	}
	doc := "# B\n\nhand\n\n" + beginMarker + "\nold\n" + endMarker + "\n\n## After\n"
	if got := replaceGenerated(doc, "NEW"); got != "# B\n\nhand\n\nNEW\n## After\n" {
		t.Errorf("replaceGenerated: %q", got)
	}
}
