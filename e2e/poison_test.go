//go:build integration

package e2e

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// deadLetterHeaders are the headers delivery.md promises on every dead letter.
var deadLetterHeaders = []string{
	"bridge.error.class", "bridge.error.reason", "bridge.error.message", "bridge.error.sns_code",
	"bridge.source.topic", "bridge.source.partition", "bridge.source.offset", "bridge.source.timestamp",
	"bridge.event.id", "bridge.event.type", "bridge.event.org_id", "bridge.target.topic_arn",
	"bridge.attempts", "bridge.failed_at", "bridge.instance", "bridge.version",
}

// TestPoisonIsDeadLetteredAndThePartitionFlows: on one partition, between
// good events, records with bad bytes, an unknown schema id, a cut body, an
// unroutable type and a body too large even after truncation are each
// written to <topic>.dlq with the original key and value and every
// bridge.* header (class, reason, source position, event id/type/org where
// the event could be read), and the good events after them reach SQS.
func TestPoisonIsDeadLetteredAndThePartitionFlows(t *testing.T) {
	topic, dlq := sourceTopic(t, 1)
	ticketARN := testenv.SNSTopic(t, false, nil)
	queue := testenv.SubscribeQueue(t, ticketARN, "")

	g, err := eventgen.New(7, eventgen.Options{Orgs: 2})
	if err != nil {
		t.Fatal(err)
	}
	type poison struct {
		rec        eventgen.Record
		reason     string
		eventKnown bool   // the event was decoded: id, type and org are known
		target     string // the topic it was routed to, if any
	}
	good := func() eventgen.Record { return must(g.Record("ticket:updated")) }
	var recs []eventgen.Record
	var wantGood []string
	poisons := map[int]*poison{} // by index in recs
	add := func(r eventgen.Record, p *poison) {
		if p != nil {
			p.rec = r
			poisons[len(recs)] = p
		} else {
			wantGood = append(wantGood, r.Natural["eventId"].(string))
		}
		recs = append(recs, r)
	}
	add(good(), nil)
	add(g.Poison(eventgen.PoisonBadMagic), &poison{reason: "bad_magic"})
	add(good(), nil)
	add(g.Poison(eventgen.PoisonUnknownSchema), &poison{reason: "unknown_schema"})
	add(g.Poison(eventgen.PoisonTruncated), &poison{reason: "undecodable"})
	add(good(), nil)
	add(g.Poison(eventgen.PoisonUnroutable), &poison{reason: "unroutable", eventKnown: true})
	add(g.TooLarge(), &poison{reason: "too_large", eventKnown: true, target: ticketARN})
	for range 5 {
		add(good(), nil)
	}
	produced := produce(t, testenv.KafkaClient(t), topic, recs)

	// Only ticket events are routed, so the billing event is unroutable.
	cfg := baseConfig(t, topic, testenv.SNSEndpoint(t), [2]string{"ticket:*", ticketARN})
	cfg.Set("kafka.instance_id", "e2e-poison")
	b := testenv.StartBridge(t, "bridge", cfg)

	got := testenv.Receive(t, queue.URL, len(wantGood), time.Minute)
	// A standard queue does not keep order: compare the sets. The last good
	// events come after every poison record on the one partition.
	got = append(got, testenv.Receive(t, queue.URL, 0, 2*time.Second)...)
	var gotIDs []string
	for _, m := range got {
		gotIDs = append(gotIDs, m.Attributes["event_id"])
	}
	slices.Sort(gotIDs)
	slices.Sort(wantGood)
	if !slices.Equal(gotIDs, wantGood) {
		t.Errorf("good events on SQS:\n%v\nwant:\n%v", gotIDs, wantGood)
	}

	var dead []*kgo.Record
	waitFor(30*time.Second, func() bool { dead = readAll(t, dlq); return len(dead) >= len(poisons) })
	if len(dead) != len(poisons) {
		t.Fatalf("%d dead letters, want %d", len(dead), len(poisons))
	}
	byOffset := map[int64]*kgo.Record{}
	for _, d := range dead {
		off, _ := strconv.ParseInt(header(d, "bridge.source.offset"), 10, 64)
		byOffset[off] = d
	}
	for i, p := range poisons {
		src := produced[i]
		d := byOffset[src.Offset]
		if d == nil {
			t.Errorf("%s poison at offset %d was not dead-lettered", p.reason, src.Offset)
			continue
		}
		t.Run(p.reason, func(t *testing.T) {
			for _, h := range deadLetterHeaders {
				if !hasHeader(d, h) {
					t.Errorf("header %s missing", h)
				}
			}
			if !bytes.Equal(d.Key, src.Key) || !bytes.Equal(d.Value, src.Value) {
				t.Errorf("the dead letter does not keep the original key and value")
			}
			want := map[string]string{
				"bridge.error.class":      "permanent",
				"bridge.error.reason":     p.reason,
				"bridge.error.sns_code":   "",
				"bridge.source.topic":     topic,
				"bridge.source.partition": strconv.Itoa(int(src.Partition)),
				"bridge.source.offset":    strconv.FormatInt(src.Offset, 10),
				"bridge.source.timestamp": src.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
				"bridge.instance":         "e2e-poison",
			}
			if p.eventKnown {
				want["bridge.event.id"] = p.rec.Natural["eventId"].(string)
				want["bridge.event.type"] = p.rec.EventType
				want["bridge.event.org_id"] = p.rec.Natural["orgId"].(string)
			}
			for k, v := range want {
				if got := header(d, k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			// A too_large event was routed before it failed: the header names
			// the topic it was meant for; the others were never routed.
			if got := header(d, "bridge.target.topic_arn"); got != p.target {
				t.Errorf("bridge.target.topic_arn = %q, want %q", got, p.target)
			}
			if header(d, "bridge.error.message") == "" || header(d, "bridge.version") == "" {
				t.Errorf("empty bridge.error.message or bridge.version")
			}
			if n, err := strconv.Atoi(header(d, "bridge.attempts")); err != nil || n < 1 {
				t.Errorf("bridge.attempts = %q", header(d, "bridge.attempts"))
			}
			if at, err := time.Parse(time.RFC3339, header(d, "bridge.failed_at")); err != nil || time.Since(at) > 5*time.Minute || time.Until(at) > time.Minute {
				t.Errorf("bridge.failed_at = %q", header(d, "bridge.failed_at"))
			}
		})
	}

	// Every record, poison included, reached a terminal state, so the
	// group's offset moves past all of them.
	adm := kadm.NewClient(testenv.KafkaClient(t))
	group := cfg.Get("kafka.group_id").(string)
	var offs map[int32]int64
	if !waitFor(15*time.Second, func() bool {
		offs, _ = committed(context.Background(), adm, group, topic)
		return offs[0] == int64(len(recs))
	}) {
		t.Errorf("committed offset %v, want %d", offs, len(recs))
	}

	m, err := b.Scrape()
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"bad_magic", "unknown_schema", "undecodable", "unroutable", "too_large"} {
		if n := m.Sum("bridge_dead_letters_total", `reason="`+reason+`"`); n != 1 {
			t.Errorf("bridge_dead_letters_total{reason=%q} = %v, want 1", reason, n)
		}
	}
	if err := b.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping the bridge: %v", err)
	}
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func hasHeader(r *kgo.Record, key string) bool {
	for _, h := range r.Headers {
		if h.Key == key {
			return true
		}
	}
	return false
}
