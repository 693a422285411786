package eventgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

func newGen(t *testing.T, seed int64) (*eventgen.Generator, *avro.Decoder) {
	t.Helper()
	g, err := eventgen.New(seed, eventgen.Options{Orgs: 20})
	if err != nil {
		t.Fatal(err)
	}
	d, err := avro.NewDecoder(g.Source(), avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return g, d
}

// eventJSON reassembles a decoded event's fields into one JSON object.
func eventJSON(ev *avro.Event) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range ev.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(f.Value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func normalize(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

// checkRoundTrip asserts that the bridge renders exactly the event the
// generator says an integrator receives, and that the header matches.
func checkRoundTrip(t *testing.T, d *avro.Decoder, r eventgen.Record) *avro.Event {
	t.Helper()
	ev, err := d.Decode(context.Background(), r.Value)
	if err != nil {
		t.Fatalf("%s: %v", r.EventType, err)
	}
	want, _ := json.Marshal(r.Natural)
	got := eventJSON(ev)
	if !reflect.DeepEqual(normalize(t, got), normalize(t, want)) {
		t.Fatalf("%s: decoded JSON differs from natural form\n got: %s\nwant: %s", r.EventType, got, want)
	}
	if ev.Header.EventType != r.EventType || ev.Header.OrgID != string(r.Key) {
		t.Fatalf("%s: header %+v, key %s", r.EventType, ev.Header, r.Key)
	}
	if id, _ := r.Natural["eventId"].(string); ev.Header.EventID != id {
		t.Fatalf("%s: header event id %q, want %q", r.EventType, ev.Header.EventID, id)
	}
	if !ev.Header.HasTimestamp || ev.Header.Actor.ID == "" || ev.Header.Actor.Type == "" || ev.Header.Actor.Email == "" {
		t.Fatalf("%s: incomplete header %+v", r.EventType, ev.Header)
	}
	return ev
}

func TestEveryTypeRoundTrips(t *testing.T) {
	g, d := newGen(t, 1)
	types := eventgen.AllTypes()
	if len(types) != 66 {
		t.Errorf("AllTypes has %d types, want 66 (25 ticket, 17 account, 4 organization, 10 more comment, 4 user, 6 custom object)", len(types))
	}
	for _, typ := range types {
		t.Run(typ, func(t *testing.T) {
			for range 20 { // both the full and the sparse shapes, many orgs
				r, err := g.Record(typ)
				if err != nil {
					t.Fatal(err)
				}
				checkRoundTrip(t, d, r)
			}
		})
	}
}

func TestAnyCustomObjectType(t *testing.T) {
	g, d := newGen(t, 2)
	r, err := g.Record("custom-object:subscription:updated")
	if err != nil {
		t.Fatal(err)
	}
	ev := checkRoundTrip(t, d, r)
	if !bytes.Contains(ev.Field("eventData"), []byte(`"id":"subscription-`)) {
		t.Errorf("eventData = %s", ev.Field("eventData"))
	}
	for _, bad := range []string{"custom-object:deal", "custom-object::created", "custom-object:deal:archived", "ticket:flew"} {
		if _, err := g.Record(bad); err == nil {
			t.Errorf("Record(%q) succeeded", bad)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := newGen(t, 42)
	b, _ := newGen(t, 42)
	c, _ := newGen(t, 43)
	ra, rb, rc := a.Mixed(50), b.Mixed(50), c.Mixed(50)
	same := 0
	for i := range ra {
		if !bytes.Equal(ra[i].Value, rb[i].Value) || !bytes.Equal(ra[i].Key, rb[i].Key) {
			t.Fatalf("record %d differs for the same seed", i)
		}
		if bytes.Equal(ra[i].Value, rc[i].Value) {
			same++
		}
	}
	if same == len(ra) {
		t.Fatal("different seeds give the same records")
	}
}

// Sample is the same record for the same seed and type, and an error for a
// type the catalog does not have.
func TestSample(t *testing.T) {
	a, err := eventgen.Sample(5, "ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := eventgen.Sample(5, "ticket:created")
	if a.EventType != "ticket:created" || !bytes.Equal(a.Value, b.Value) || !bytes.Equal(a.Key, b.Key) {
		t.Errorf("two samples of seed 5 differ, or are not ticket:created (%s)", a.EventType)
	}
	if _, err := eventgen.Sample(5, "ticket:exploded"); err == nil {
		t.Error("a sample of an unknown type")
	}
}

var idPattern = regexp.MustCompile(`^[0-9A-Z]{25,29}$`)

func TestMixedIsRealistic(t *testing.T) {
	g, d := newGen(t, 3)
	recs := g.Mixed(2000)
	orgs, types := map[string]bool{}, map[string]int{}
	for _, r := range recs {
		if n := len(r.Value); n < 300 || n > 4096 {
			t.Fatalf("%s is %d bytes, want 300..4096", r.EventType, n)
		}
		ev := checkRoundTrip(t, d, r)
		orgs[ev.Header.OrgID] = true
		types[r.EventType]++
		for _, id := range []string{ev.Header.OrgID, ev.Header.Actor.ID} {
			if !idPattern.MatchString(id) {
				t.Fatalf("id %q is not Thena-style", id)
			}
		}
	}
	if len(orgs) < 15 {
		t.Errorf("events from %d organizations, want most of 20", len(orgs))
	}
	if len(types) < 50 {
		t.Errorf("%d distinct event types in 2000 events, want nearly all", len(types))
	}
	if types["ticket:updated"] < types["organization:created"] {
		t.Errorf("mix is not realistic: %d ticket:updated, %d organization:created", types["ticket:updated"], types["organization:created"])
	}
}

func TestTicketUpdatedSize(t *testing.T) {
	g, d := newGen(t, 4)
	r := g.TicketUpdated(2048)
	if n := len(r.Value); n < 2048 || n > 2600 {
		t.Errorf("TicketUpdated(2048) is %d bytes", n)
	}
	checkRoundTrip(t, d, r)
}

func TestEdgeCases(t *testing.T) {
	g, d := newGen(t, 5)

	t.Run("non-ASCII", func(t *testing.T) {
		ev := checkRoundTrip(t, d, g.NonASCII())
		if !bytes.Contains(ev.Field("payload"), []byte("überfällig")) {
			t.Errorf("payload lost non-ASCII text: %s", ev.Field("payload"))
		}
	})
	t.Run("null assignedAgent", func(t *testing.T) {
		ev := checkRoundTrip(t, d, g.NullAssignedAgent())
		if !bytes.Contains(ev.Field("payload"), []byte(`"assignedTo":null,"assignedAgent":null`)) {
			t.Errorf("null assignee not rendered as null: %s", ev.Field("payload"))
		}
	})
	t.Run("absent optionals", func(t *testing.T) {
		ev := checkRoundTrip(t, d, g.AbsentOptionals())
		for _, k := range []string{"subTeamId", "tags", "customFields", "aiGeneratedTitle", "lastVendorComment", "isProactive"} {
			if bytes.Contains(ev.Field("payload"), []byte(`"`+k+`"`)) {
				t.Errorf("absent optional %s rendered: %s", k, ev.Field("payload"))
			}
		}
		if ev.Field("metadata") != nil {
			t.Errorf("absent metadata rendered")
		}
	})
	t.Run("huge comment", func(t *testing.T) {
		r := g.HugeComment()
		ev := checkRoundTrip(t, d, r)
		var p struct {
			Comment struct{ Content string }
		}
		if err := json.Unmarshal(ev.Field("payload"), &p); err != nil || len(p.Comment.Content) != eventgen.HugeCommentBytes {
			t.Errorf("comment content is %d bytes (%v)", len(p.Comment.Content), err)
		}
		if n := len(r.Value); n > 1<<20-1024 {
			t.Errorf("record is %d bytes, over Kafka's default message size", n)
		}
	})
	t.Run("too large", func(t *testing.T) {
		r := g.TooLarge()
		ev := checkRoundTrip(t, d, r)
		// Without any large text field the event is still over 256 KiB.
		var p struct{ Ticket, PreviousTicket map[string]any }
		if err := json.Unmarshal(ev.Field("payload"), &p); err != nil {
			t.Fatal(err)
		}
		for _, tk := range []map[string]any{p.Ticket, p.PreviousTicket} {
			delete(tk, "description")
			delete(tk, "aiGeneratedSummary")
		}
		rest, _ := json.Marshal(p)
		if len(rest) <= 256<<10 {
			t.Errorf("non-truncatable content is only %d bytes", len(rest))
		}
		if n := len(r.Value); n > 1<<20-1024 {
			t.Errorf("record is %d bytes, over Kafka's default message size", n)
		}
	})
	t.Run("poison", func(t *testing.T) {
		want := map[eventgen.Poison]string{
			eventgen.PoisonBadMagic:      failure.ReasonBadMagic,
			eventgen.PoisonUnknownSchema: failure.ReasonUnknownSchema,
			eventgen.PoisonTruncated:     failure.ReasonUndecodable,
		}
		for _, kind := range eventgen.PoisonKinds() {
			r := g.Poison(kind)
			ev, err := d.Decode(context.Background(), r.Value)
			if kind == eventgen.PoisonUnroutable {
				if err != nil || ev.Header.EventType != eventgen.UnroutableEventType || !strings.Contains(string(ev.Field("eventType")), "billing") {
					t.Errorf("unroutable: %v %+v", err, ev)
				}
				continue
			}
			if !failure.IsPermanent(err) || failure.ReasonOf(err) != want[kind] {
				t.Errorf("%s: got %v, want permanent %s", kind, err, want[kind])
			}
		}
	})
}

// TestSchemasReadmeMatchesCatalog keeps schemas/README.md's event table and
// the generator's catalog the same list.
func TestSchemasReadmeMatchesCatalog(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "schemas", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| (\\w+) \\| `(\\w+|\\(eventData\\))` \\|")
	var listed []string
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		kind, ok := eventgen.KindOf(m[1])
		if !ok {
			t.Errorf("README lists %s, which the generator does not know", m[1])
			continue
		}
		payload := kind.Payload
		if payload == "" {
			payload = "(eventData)"
		}
		if "com.thena.events."+m[2] != kind.Schema || m[3] != payload {
			t.Errorf("README: %s uses %s %s; generator: %s %s", m[1], m[2], m[3], kind.Schema, payload)
		}
		listed = append(listed, m[1])
	}
	if !slices.Equal(listed, eventgen.AllTypes()) {
		t.Errorf("README lists %d types, generator %d; they must be the same list in the same order", len(listed), len(eventgen.AllTypes()))
	}
}

// A template restamped with another time decodes to the same event at that
// time, for every kind of event the mix holds.
func TestTemplateSetsTheEventTime(t *testing.T) {
	g, dec := newGen(t, 11)
	at := time.Date(2027, 3, 1, 12, 30, 15, 250e6, time.UTC)
	for _, r := range g.Mixed(300) {
		tpl, err := eventgen.NewTemplate(r)
		if err != nil {
			t.Fatalf("%s: %v", r.EventType, err)
		}
		before, err := dec.Decode(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := dec.Decode(context.Background(), tpl.At(at.UnixMilli()))
		if err != nil {
			t.Fatalf("%s restamped does not decode: %v", r.EventType, err)
		}
		if !ev.Header.Timestamp.Equal(at) || ev.Header.EventID != before.Header.EventID || ev.Header.EventType != r.EventType || string(tpl.Key()) != string(r.Key) {
			t.Fatalf("%s restamped to %v decodes as %+v", r.EventType, at, ev.Header)
		}
	}
}

// TestZipf: with Options.Zipf the busiest organization gets the share
// TopOrgShare predicts and the next ones clearly less; an exponent at or
// below 1 (math/rand's Zipf needs s > 1) is refused.
func TestZipf(t *testing.T) {
	opts := eventgen.Options{Orgs: 1000, Zipf: 1.1}
	g, err := eventgen.New(7, opts)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	const n = 20000
	for _, r := range g.Mixed(n) {
		counts[string(r.Key)]++
	}
	shares := make([]float64, 0, len(counts))
	for _, c := range counts {
		shares = append(shares, float64(c)/n)
	}
	slices.Sort(shares)
	slices.Reverse(shares)
	want := opts.TopOrgShare()
	if want < 0.15 || want > 0.2 {
		t.Errorf("TopOrgShare of Zipf(1.1) over 1000 organizations = %.3f, want about 0.17", want)
	}
	if got := shares[0]; got < want-0.02 || got > want+0.02 {
		t.Errorf("busiest organization has %.3f of the events, want %.3f ± 0.02", got, want)
	}
	if shares[1] > shares[0]*0.7 {
		t.Errorf("second busiest has %.3f against %.3f: not skewed", shares[1], shares[0])
	}
	if u := (eventgen.Options{Orgs: 1000}).TopOrgShare(); u != 0.001 {
		t.Errorf("uniform TopOrgShare = %v, want 0.001", u)
	}
	for _, bad := range []float64{0.5, 1, -2} {
		if _, err := eventgen.New(1, eventgen.Options{Orgs: 10, Zipf: bad}); err == nil {
			t.Errorf("Zipf %v: no error", bad)
		}
	}
}
