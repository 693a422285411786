package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

const produceTestTopic = "thena.events"

func produceCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, produceTestTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// readTopic reads the topic from the start until it has want records, or
// fails the test after a minute.
func readTopic(t *testing.T, brokers []string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(produceTestTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", len(recs), want, err)
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetching: %v", err) })
		recs = append(recs, fetches.Records()...)
	}
	return recs
}

// summaryCount is the N of the summary line "produced N events ...".
func summaryCount(t *testing.T, stdout string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^produced (\d+) events in `).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no summary line in the output:\n%s", stdout)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Every record is an event the bridge decodes with the local schemas, keyed
// by its organization, except the poison records, one in -poison-every,
// which the bridge must dead-letter.
func TestProduceWritesEventsTheBridgeDecodes(t *testing.T) {
	c := produceCluster(t)
	stdout, stderr, err := runBridge(t, nil, nil, "produce", "-brokers", strings.Join(c.ListenAddrs(), ","),
		"-topic", produceTestTopic, "-count", "400", "-rate", "0", "-orgs", "7", "-poison-every", "100")
	if err != nil {
		t.Fatalf("produce failed: %v\n%s%s", err, stdout, stderr)
	}
	if n := summaryCount(t, stdout); n != 400 {
		t.Errorf("summary says %d events produced, want 400:\n%s", n, stdout)
	}
	recs := readTopic(t, c.ListenAddrs(), 400)
	if len(recs) != 400 {
		t.Fatalf("topic holds %d records, want 400", len(recs))
	}
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	orgs, types, poison := map[string]bool{}, map[string]bool{}, 0
	for _, r := range recs {
		ev, err := dec.Decode(context.Background(), r.Value)
		if err != nil {
			if !failure.IsPermanent(err) {
				t.Errorf("record at %d/%d: %v, want a decodable event or a permanent failure", r.Partition, r.Offset, err)
			}
			poison++
			continue
		}
		if got := string(ev.Field("orgId")); got != strconv.Quote(string(r.Key)) {
			t.Errorf("record keyed %q carries orgId %s", r.Key, got)
		}
		orgs[string(r.Key)] = true
		var et string
		if err := json.Unmarshal(ev.Field("eventType"), &et); err == nil {
			types[et] = true
		}
	}
	// Of the four poison records (bad magic, unknown schema, truncated,
	// unroutable), the unroutable one decodes: mapping refuses it.
	if poison != 3 {
		t.Errorf("%d records do not decode, want the 3 undecodable poison records", poison)
	}
	if len(orgs) < 2 || len(orgs) > 7 {
		t.Errorf("events spread over %d organizations, want 2 to 7 (-orgs 7)", len(orgs))
	}
	if len(types) < 5 {
		t.Errorf("only %d event types in 400 events: %v", len(types), types)
	}
}

// fakeRegistry answers the one call produce makes, POST
// /subjects/{subject}/versions, with ids from 1000 on, and records what was
// registered.
type fakeRegistry struct {
	mu       sync.Mutex
	subjects map[string]string // subject -> schema text
	ids      map[string]int
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	subject, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/subjects/"), "/versions")
	if r.Method != http.MethodPost || !ok {
		http.NotFound(w, r)
		return
	}
	var body struct{ Schema string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subjects[subject] = body.Schema
	f.ids[subject] = 1000 + len(f.ids)
	_ = json.NewEncoder(w).Encode(map[string]int{"id": f.ids[subject]})
}

// With -registry every schema is registered verbatim under
// TOPIC-FULLNAME, and the records carry the registry's ids, not local ones.
func TestProduceRegistersSchemasAndFramesWithTheirIDs(t *testing.T) {
	c := produceCluster(t)
	reg := &fakeRegistry{subjects: map[string]string{}, ids: map[string]int{}}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	stdout, stderr, err := runBridge(t, nil, nil, "produce", "-brokers", strings.Join(c.ListenAddrs(), ","),
		"-topic", produceTestTopic, "-count", "200", "-rate", "0", "-registry", srv.URL)
	if err != nil {
		t.Fatalf("produce failed: %v\n%s%s", err, stdout, stderr)
	}
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	registryIDs := map[int]bool{}
	for _, v := range src.Versions() {
		if !v.Current {
			continue
		}
		subject := produceTestTopic + "-" + v.FullName
		text, ok := reg.subjects[subject]
		if !ok {
			t.Errorf("%s was not registered under %s; registered: %v", v.File, subject, slices.Sorted(maps.Keys(reg.subjects)))
			continue
		}
		file, err := fs.ReadFile(schemas.FS(), v.File)
		if err != nil {
			t.Fatal(err)
		}
		if text != string(file) {
			t.Errorf("%s was not registered as written (the registry would lose its properties)", v.File)
		}
		registryIDs[reg.ids[subject]] = true
	}
	for _, r := range readTopic(t, c.ListenAddrs(), 200) {
		if len(r.Value) < avro.WireHeaderLen || r.Value[0] != 0 {
			t.Fatalf("record at %d/%d is not in wire format", r.Partition, r.Offset)
		}
		if id := int(binary.BigEndian.Uint32(r.Value[1:5])); !registryIDs[id] {
			t.Fatalf("record at %d/%d carries schema id %d, not one of the registry's %v", r.Partition, r.Offset, id, registryIDs)
		}
	}
}

// SIGTERM (the context's end) stops an endless producer cleanly: no error,
// and every event it counts as produced is in the topic.
func TestProduceStopsCleanlyOnSignal(t *testing.T) {
	c := produceCluster(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bridge", "produce", "-brokers", strings.Join(c.ListenAddrs(), ","),
			"-topic", produceTestTopic, "-rate", "2000"}, func(string) string { return "" }, nil, nil, &stdout, &stderr)
	}()
	readTopic(t, c.ListenAddrs(), 50) // it is running
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("produce ended with %v after a stop, want a clean stop\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("produce did not stop within a minute of SIGTERM")
	}
	n := summaryCount(t, stdout.String())
	if got := len(readTopic(t, c.ListenAddrs(), n)); got != n {
		t.Errorf("summary says %d produced, the topic holds %d", n, got)
	}
}

// A producer whose brokers reject the topic stops with the error instead of
// running on.
func TestProduceFailsOnAMissingTopic(t *testing.T) {
	c := produceCluster(t)
	_, _, err := runBridge(t, nil, nil, "produce", "-brokers", strings.Join(c.ListenAddrs(), ","),
		"-topic", "no.such.topic", "-count", "10", "-rate", "0")
	if err == nil || !strings.Contains(err.Error(), "producing to Kafka") {
		t.Fatalf("produce to a missing topic returned %v, want the Kafka error", err)
	}
}

func TestProduceRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-topic", "x"}, "-brokers is required"},
		{[]string{"-brokers", "127.0.0.1:1", "-rate", "-1"}, "must not be negative"},
		{[]string{"-brokers", "127.0.0.1:1", "-orgs", "0"}, "-orgs must be at least 1"},
		{[]string{"-brokers", "127.0.0.1:1", "stray"}, "takes no arguments"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, _, err := runBridge(t, nil, nil, append([]string{"produce"}, tc.args...)...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("produce %v: %v, want a usage error saying %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestPacerSpreadsEventsEvenly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rate  float64
		burst int
		at    []time.Duration
		want  []int
	}{
		{"20 per second", 20, 20, []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 60 * time.Millisecond, time.Second}, []int{0, 1, 0, 19}},
		{"steady after a stall", 100, 100, []time.Duration{10 * time.Millisecond, 5 * time.Second, 5*time.Second + 10*time.Millisecond}, []int{1, 100, 1}},
		{"fractional", 0.5, 1, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}, []int{0, 1, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pacer{rate: tc.rate, burst: tc.burst}
			for i, at := range tc.at {
				if got := p.due(at); got != tc.want[i] {
					t.Errorf("due(%s) = %d, want %d", at, got, tc.want[i])
				}
			}
		})
	}
}
