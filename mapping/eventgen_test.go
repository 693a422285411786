package mapping

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// TestMapEventgenCatalog decodes one generated event of every documented
// event type through the real decoder and the local schemas, maps it, and
// compares the message with testdata/eventgen_<type>.golden.json. It also
// checks the body against the event as the generator built it: the envelope
// is the event, field for field, apart from the documented custom object
// differences.
func TestMapEventgenCatalog(t *testing.T) {
	g, dec := newGenerator(t, 20261127, eventgen.Options{Orgs: 3})
	m := newTestMapper(t, standardConfig(), nil)
	type generated struct {
		name string
		rec  eventgen.Record
	}
	// Generate everything before running subtests: the generator's output
	// depends on the order of calls, so -run must not change it.
	var recs []generated
	for _, et := range eventgen.AllTypes() {
		rec, err := g.Record(et)
		if err != nil {
			t.Fatalf("generating %s: %v", et, err)
		}
		recs = append(recs, generated{strings.ReplaceAll(et, ":", "_"), rec})
	}
	recs = append(recs,
		generated{"edge_non_ascii", g.NonASCII()},
		generated{"edge_null_assigned_agent", g.NullAssignedAgent()},
		generated{"edge_absent_optionals", g.AbsentOptionals()},
		generated{"edge_huge_comment", g.HugeComment()},
	)
	for i, r := range recs {
		t.Run(r.name, func(t *testing.T) {
			ev, err := dec.Decode(context.Background(), r.rec.Value)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			src := Source{Topic: testSourceTopic, Partition: 0, Offset: int64(i), Key: r.rec.Key}
			msg, err := m.Map(ev, src)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			checkInvariants(t, m, msg)
			if r.name == "edge_huge_comment" {
				if len(msg.Truncated) == 0 {
					t.Error("400 KiB comment not truncated")
				}
			} else {
				if msg.Truncated != nil {
					t.Errorf("truncated %q", msg.Truncated)
				}
				checkAgainstNatural(t, msg, r.rec.Natural)
			}
			checkGolden(t, "eventgen_"+r.name, goldenOf(t, msg))
		})
	}
}

// TestMapEventgenFailures maps the generator's events that must fail.
func TestMapEventgenFailures(t *testing.T) {
	g, dec := newGenerator(t, 20261127, eventgen.Options{Orgs: 3})
	m := newTestMapper(t, standardConfig(), nil)
	for _, tc := range []struct {
		name   string
		rec    eventgen.Record
		reason string
	}{
		{"too large after truncation", g.TooLarge(), failure.ReasonTooLarge},
		{"unroutable", g.Poison(eventgen.PoisonUnroutable), failure.ReasonUnroutable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := dec.Decode(context.Background(), tc.rec.Value)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			msg, err := m.Map(ev, Source{Topic: testSourceTopic, Key: tc.rec.Key})
			if failure.ClassOf(err) != failure.Permanent || failure.ReasonOf(err) != tc.reason {
				t.Fatalf("Map error %v, want permanent %s", err, tc.reason)
			}
			if msg.EventID == "" || msg.EventType != tc.rec.EventType || msg.OrgID == "" {
				t.Errorf("failed Message lacks the dead-letter fields: %+v", msg)
			}
		})
	}
}

// newGenerator returns a generator of seed and opts with a decoder of its
// schemas.
func newGenerator(t testing.TB, seed int64, opts eventgen.Options) (*eventgen.Generator, *avro.Decoder) {
	t.Helper()
	g, err := eventgen.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avro.NewDecoder(g.Source(), avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return g, dec
}

// checkAgainstNatural compares the body with the event as generated. Custom
// object events differ on purpose: timestamp becomes Unix milliseconds and a
// missing eventId is generated.
func checkAgainstNatural(t *testing.T, msg Message, natural map[string]any) {
	t.Helper()
	var want, got map[string]any
	b, err := json.Marshal(natural)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(msg.Entry.Body), &got); err != nil {
		t.Fatal(err)
	}
	if want["metadata"] == nil {
		delete(want, "metadata")
	}
	// The attribute holds the same ISO-8601 text as a non-custom body; the
	// custom object schema carries Unix milliseconds, which the body and the
	// attribute keep.
	if ts, ok := want["timestamp"].(string); ok && ts != msg.Entry.Attributes[2].Value {
		t.Errorf("event_timestamp %q, event timestamp %q", msg.Entry.Attributes[2].Value, ts)
	}
	if strings.HasPrefix(msg.EventType, CustomObjectPrefix) {
		if ms, ok := want["timestamp"].(float64); !ok || strconv.FormatInt(int64(ms), 10) != msg.Entry.Attributes[2].Value {
			t.Errorf("event_timestamp %q, event timestamp %v", msg.Entry.Attributes[2].Value, want["timestamp"])
		}
		want["timestamp"] = float64(msg.EventTime.UnixMilli())
		if id, _ := want["eventId"].(string); id == "" {
			want["eventId"] = msg.EventID
		}
	}
	if !reflect.DeepEqual(got, want) {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Errorf("body differs from the generated event:\n got %s\nwant %s", gb, wb)
	}
}
