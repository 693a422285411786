package avro_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

func TestConfigValidate(t *testing.T) {
	if err := avro.DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	for field, mutate := range map[string]func(*avro.Config){
		"MaxRecordBytes": func(c *avro.Config) { c.MaxRecordBytes = 0 },
		"MaxStringBytes": func(c *avro.Config) { c.MaxStringBytes = -1 },
		"MaxItems":       func(c *avro.Config) { c.MaxItems = 0 },
		"MaxDepth":       func(c *avro.Config) { c.MaxDepth = 0 },
		"MaxJSONBytes":   func(c *avro.Config) { c.MaxJSONBytes = c.MaxRecordBytes - 1 },
		"MaxSchemas":     func(c *avro.Config) { c.MaxSchemas = 0 },
	} {
		c := avro.DefaultConfig()
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: Validate() = %v, want an error naming the field", field, err)
		}
		if _, err := avro.NewDecoder(sinkSource(t), c); err == nil {
			t.Errorf("%s: NewDecoder accepted an invalid config", field)
		}
	}
}

func TestParseWire(t *testing.T) {
	id, body, err := avro.ParseWire([]byte{0, 0, 0, 1, 2, 9, 8})
	if err != nil || id != 258 || string(body) != "\x09\x08" {
		t.Fatalf("ParseWire = %d %v %v", id, body, err)
	}
	if b := avro.AppendWireHeader(nil, 258); string(b) != "\x00\x00\x00\x01\x02" {
		t.Errorf("AppendWireHeader = %q", b)
	}
	for _, in := range [][]byte{nil, {0}, {0, 0, 0, 1}, {1, 0, 0, 0, 1, 5}, {'{', '"', 'a', '"', ':', '1', '}'}} {
		_, _, err := avro.ParseWire(in)
		if !failure.IsPermanent(err) || failure.ReasonOf(err) != failure.ReasonBadMagic {
			t.Errorf("ParseWire(%q) error = %v, want permanent bad_magic", in, err)
		}
	}
}

// wire builds a record value from a schema id and raw body bytes.
func wire(id int, body ...byte) []byte { return append(avro.AppendWireHeader(nil, id), body...) }

func TestDecodeErrors(t *testing.T) {
	const small = `{"type":"record","name":"Small","namespace":"com.thena.test","fields":[
	  {"name":"s","type":"string"},
	  {"name":"b","type":"boolean"},
	  {"name":"u","type":["null","string"]},
	  {"name":"a","type":{"type":"array","items":"null"}},
	  {"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}]}`
	src := sinkSource(t, small)
	id, _ := src.ID("com.thena.test.Small")
	cfg := avro.DefaultConfig()
	cfg.MaxStringBytes, cfg.MaxItems, cfg.MaxRecordBytes, cfg.MaxJSONBytes = 8, 100, 1000, 1000
	d, err := avro.NewDecoder(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ok := []byte{2, 'x', 1, 2, 2, 'y', 2, 0, 0} // s="x", b=true, u="y", a=[null], e=A
	if ev, err := d.Decode(context.Background(), wire(id, ok...)); err != nil {
		t.Fatalf("valid body: %v", err)
	} else if got := string(ev.Field("a")); got != "[null]" {
		t.Fatalf("a = %s", got)
	}
	tests := []struct {
		name   string
		value  []byte
		reason string
	}{
		{"bad magic", append([]byte{1}, wire(id, ok...)[1:]...), failure.ReasonBadMagic},
		{"short", []byte{0, 0, 0}, failure.ReasonBadMagic},
		{"unknown schema", wire(id+1, ok...), failure.ReasonUnknownSchema},
		{"empty body", wire(id), failure.ReasonUndecodable},
		{"truncated string", wire(id, 20, 'x'), failure.ReasonUndecodable},
		{"negative length", wire(id, 1), failure.ReasonUndecodable},
		{"string over limit", wire(id, append([]byte{20}, make([]byte, 10)...)...), failure.ReasonUndecodable},
		{"bad boolean", wire(id, 2, 'x', 7, 0, 0, 0), failure.ReasonUndecodable},
		{"bad union index", wire(id, 2, 'x', 1, 4, 0, 0), failure.ReasonUndecodable},
		{"bad enum index", wire(id, 2, 'x', 1, 0, 0, 2), failure.ReasonUndecodable},
		{"too many items", wire(id, 2, 'x', 1, 0, 0xca, 0x01, 0, 0), failure.ReasonUndecodable}, // 101 nulls
		{"huge block count", wire(id, 2, 'x', 1, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), failure.ReasonUndecodable},
		{"varint too long", wire(id, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), failure.ReasonUndecodable},
		{"trailing bytes", wire(id, append(ok, 0)...), failure.ReasonUndecodable},
		{"over MaxRecordBytes", wire(id, make([]byte, 1000)...), failure.ReasonUndecodable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := d.Decode(context.Background(), tt.value)
			if ev != nil || !failure.IsPermanent(err) || failure.ReasonOf(err) != tt.reason {
				t.Errorf("Decode = %v, %v; want permanent %s", ev, err, tt.reason)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	src := sinkSource(t)
	schema, _ := src.SchemaByName("com.thena.test.KitchenSink")
	id, _ := src.ID("com.thena.test.KitchenSink")
	encode := func(mutate func(map[string]any)) []byte {
		v := sinkValue()
		mutate(v)
		b, err := avro.AppendNatural(avro.AppendWireHeader(nil, id), schema, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nest := func(n int) any {
		var v any = "leaf"
		for range n {
			v = []any{v}
		}
		return v
	}
	cfg := avro.DefaultConfig()
	cfg.MaxDepth, cfg.MaxItems, cfg.MaxStringBytes = 10, 50, 64
	d, _ := avro.NewDecoder(src, cfg)
	for name, tt := range map[string]struct {
		value []byte
		ok    bool
	}{
		"depth at limit":    {encode(func(v map[string]any) { v["jv"] = map[string]any{"k": nest(9)} }), true},
		"depth over limit":  {encode(func(v map[string]any) { v["jv"] = map[string]any{"k": nest(10)} }), false},
		"items at limit":    {encode(func(v map[string]any) { v["arr"] = make([]int, 50) }), true},
		"items over limit":  {encode(func(v map[string]any) { v["arr"] = make([]int, 51) }), false},
		"string at limit":   {encode(func(v map[string]any) { v["s"] = strings.Repeat("x", 64) }), true},
		"string over limit": {encode(func(v map[string]any) { v["s"] = strings.Repeat("x", 65) }), false},
		"map key over":      {encode(func(v map[string]any) { v["mp"] = map[string]string{strings.Repeat("k", 65): ""} }), false},
	} {
		_, err := d.Decode(context.Background(), tt.value)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v", name, err)
		}
		if err != nil && (!errors.Is(err, avro.ErrLimit) || failure.ReasonOf(err) != failure.ReasonUndecodable) {
			t.Errorf("%s: err = %v, want undecodable wrapping ErrLimit", name, err)
		}
	}
}

// TestDecodeBoundsRenderedSize: an array of nulls costs no Avro bytes per
// item; MaxJSONBytes stops it growing the output without bound.
func TestDecodeBoundsRenderedSize(t *testing.T) {
	const nulls = `{"type":"record","name":"Nulls","fields":[{"name":"a","type":{"type":"array","items":{"type":"array","items":"null"}}}]}`
	src := sinkSource(t, nulls)
	id, _ := src.ID("Nulls")
	cfg := avro.DefaultConfig()
	cfg.MaxItems, cfg.MaxRecordBytes, cfg.MaxJSONBytes = 1_000_000, 1<<10, 1<<20
	d, _ := avro.NewDecoder(src, cfg)
	// 1,000,000 arrays of 1,000,000 nulls would be 5 TB of JSON.
	block := []byte{0x80, 0x89, 0x7a} // zigzag 1,000,000
	body := append(append([]byte{}, block...), append(block, 0)...)
	_, err := d.Decode(context.Background(), wire(id, body...))
	if !errors.Is(err, avro.ErrLimit) {
		t.Fatalf("err = %v, want ErrLimit", err)
	}
}

// countingSource counts schema lookups.
type countingSource struct {
	avro.SchemaSource
	calls atomic.Int64
}

func (c *countingSource) Schema(ctx context.Context, id int) (havro.Schema, error) {
	c.calls.Add(1)
	return c.SchemaSource.Schema(ctx, id)
}

func TestDecoderCachesCompiledSchemas(t *testing.T) {
	g, err := eventgen.New(7, eventgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := &countingSource{SchemaSource: g.Source()}
	d, _ := avro.NewDecoder(src, avro.DefaultConfig())
	recs := g.Mixed(400)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(recs); i += 8 {
				if _, err := d.Decode(context.Background(), recs[i].Value); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := src.calls.Load(); n > 6*8 || n < 6 {
		t.Errorf("%d schema lookups for 6 schemas", n)
	}
	before := src.calls.Load()
	for _, r := range recs[:50] {
		if _, err := d.Decode(context.Background(), r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if src.calls.Load() != before {
		t.Error("a cached schema was fetched again")
	}

	// With room for one compiled schema, alternating schemas refetch but work.
	cfg := avro.DefaultConfig()
	cfg.MaxSchemas = 1
	src2 := &countingSource{SchemaSource: g.Source()}
	d2, _ := avro.NewDecoder(src2, cfg)
	for _, r := range recs[:100] {
		if _, err := d2.Decode(context.Background(), r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if src2.calls.Load() < 2 {
		t.Errorf("MaxSchemas 1 kept more than one schema (%d lookups)", src2.calls.Load())
	}
}

func TestSchemaInvalidAndSourceErrors(t *testing.T) {
	// A schema the transcoder cannot use as an event: a top-level string.
	const notRecord = `{"type":"enum","name":"Loose","symbols":["A"]}`
	src := sinkSource(t, notRecord)
	id, _ := src.ID("Loose")
	d, _ := avro.NewDecoder(src, avro.DefaultConfig())
	_, err := d.Decode(context.Background(), wire(id, 0))
	if !failure.IsPermanent(err) || failure.ReasonOf(err) != failure.ReasonSchemaInvalid {
		t.Errorf("err = %v, want permanent schema_invalid", err)
	}
	// An unclassified source error must never dead-letter the event.
	d2, _ := avro.NewDecoder(errSource{}, avro.DefaultConfig())
	_, err = d2.Decode(context.Background(), wire(5, 0))
	if failure.ClassOf(err) != failure.Transient || failure.ReasonOf(err) != failure.ReasonRegistry {
		t.Errorf("err = %v, want transient registry", err)
	}
}

type errSource struct{}

func (errSource) Schema(context.Context, int) (havro.Schema, error) {
	return nil, errors.New("connection refused")
}

func TestHeader(t *testing.T) {
	g, _ := eventgen.New(8, eventgen.Options{})
	d, _ := avro.NewDecoder(g.Source(), avro.DefaultConfig())
	_, v, nat := g.Event("custom-object:deal:created")
	ev, err := d.Decode(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	// Custom object timestamps are Unix milliseconds, rendered as a number.
	ts := nat["timestamp"].(int64)
	if !ev.Header.HasTimestamp || ev.Header.Timestamp.UnixMilli() != ts || string(ev.Field("timestamp")) != json.Number(strings.TrimSpace(string(mustJSON(ts)))).String() {
		t.Errorf("timestamp header %v, field %s, want %d", ev.Header.Timestamp, ev.Field("timestamp"), ts)
	}
	actor := nat["actor"].(map[string]any)
	if ev.Header.Actor != (avro.Actor{ID: actor["id"].(string), Type: actor["type"].(string), Email: actor["email"].(string)}) {
		t.Errorf("actor %+v, want %v", ev.Header.Actor, actor)
	}
	// A custom object event without an eventId: header empty, field omitted.
	delete(nat, "eventId")
	b, err := g.Source().Encode(eventgen.CustomObjectEvent, nat)
	if err != nil {
		t.Fatal(err)
	}
	ev, err = d.Decode(context.Background(), b)
	if err != nil || ev.Header.EventID != "" || ev.Field("eventId") != nil || ev.Fields[0].Name != "eventType" {
		t.Errorf("event without id: %v %+v", err, ev)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestHeaderInvalidUTF8(t *testing.T) {
	const env = `{"type":"record","name":"Env","fields":[{"name":"eventType","type":"string"},{"name":"orgId","type":"string"},
	  {"name":"actor","type":{"type":"record","name":"A","fields":[{"name":"id","type":"string"},{"name":"email","type":["null","string"]}]}}]}`
	src := sinkSource(t, env)
	ev, err := decodeNatural(t, src, "Env", map[string]any{"eventType": "ticket:\xffcreated", "orgId": "O", "actor": map[string]any{"id": "I", "email": nil}})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Header.EventType != "ticket:\uFFFDcreated" || ev.Header.Actor != (avro.Actor{ID: "I"}) || ev.Header.HasTimestamp {
		t.Errorf("header %+v", ev.Header)
	}
}

func TestLocalSource(t *testing.T) {
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"com.thena.events.AccountEvent", "com.thena.events.CommentEvent", "com.thena.events.CustomObjectEvent",
		"com.thena.events.OrganizationEvent", "com.thena.events.TicketEvent", "com.thena.events.UserEvent"}
	if got := src.Names(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Names() = %v", got)
	}
	for _, name := range want {
		id, ok := src.ID(name)
		s, _ := src.SchemaByName(name)
		if lid, err := avro.LocalID(s); !ok || err != nil || lid != id || id <= 0 {
			t.Errorf("%s: id %d, LocalID %d %v", name, id, lid, err)
		}
		got, err := src.Schema(context.Background(), id)
		if err != nil || got != s {
			t.Errorf("%s: Schema(%d) = %v", name, id, err)
		}
	}
	if _, ok := src.ID("com.thena.events.Nope"); ok {
		t.Error("ID of an unknown name")
	}

	for name, fsys := range map[string]fstest.MapFS{
		"empty":       {},
		"not JSON":    {"x.avsc": {Data: []byte("{")}},
		"unnamed":     {"x.avsc": {Data: []byte(`"string"`)}},
		"same schema": {"a.avsc": {Data: []byte(`{"type":"fixed","name":"F","size":1}`)}, "b.avsc": {Data: []byte(`{"type":"fixed","name":"F","size":1,"doc":"x"}`)}},
	} {
		if _, err := avro.NewLocalSource(fsys); err == nil {
			t.Errorf("%s: NewLocalSource succeeded", name)
		}
	}
	// Files in subdirectories load; other files are ignored.
	src2, err := avro.NewLocalSource(fstest.MapFS{"v1/a.avsc": {Data: []byte(`{"type":"fixed","name":"F","size":1}`)}, "README.md": {Data: []byte("#")}})
	if err != nil || len(src2.Names()) != 1 {
		t.Errorf("subdirectory: %v", err)
	}
}

// TestRecursiveJsonValueDepth: the event schemas' JsonValue is recursive, so
// free-form values nest as deep as Config.MaxDepth allows (the unrolled
// schemas stopped at seven levels), counted as the Decoder counts: the
// metadata map is level 1, each array or object inside it one more. The
// encoder refuses what the default Decoder would; deeper bytes from elsewhere
// are refused by the Decoder with a classified error.
func TestRecursiveJsonValueDepth(t *testing.T) {
	g, _ := eventgen.New(12, eventgen.Options{})
	src := g.Source()
	_, _, nat := g.Event("custom-object:deal:created")
	// nest wraps leaf in n arrays and objects, alternating.
	nest := func(n int, leaf any) any {
		v := leaf
		for i := range n {
			if i%2 == 0 {
				v = []any{v}
			} else {
				v = map[string]any{"k": v}
			}
		}
		return v
	}
	encode := func(deep any) ([]byte, error) {
		nat["metadata"] = map[string]any{"deep": deep, "flat": "x"}
		return src.Encode(eventgen.CustomObjectEvent, nat)
	}
	roundTrip := func(d *avro.Decoder, deep any) error {
		b, err := encode(deep)
		if err != nil {
			return fmt.Errorf("encoding: %w", err)
		}
		ev, err := d.Decode(context.Background(), b)
		if err != nil {
			return err
		}
		if want := mustJSON(map[string]any{"deep": deep, "flat": "x"}); string(ev.Field("metadata")) != string(want) {
			return fmt.Errorf("metadata = %s, want %s", ev.Field("metadata"), want)
		}
		return nil
	}
	max := avro.DefaultConfig().MaxDepth
	d, _ := avro.NewDecoder(src, avro.DefaultConfig())
	for _, n := range []int{0, 1, 7, 8, 9, 20, max - 1} {
		if err := roundTrip(d, nest(n, true)); err != nil {
			t.Errorf("%d levels (depth %d): %v", n, n+1, err)
		}
	}

	// The encoder stops where the default Decoder does, with ErrLimit, and
	// ends on a cyclic value.
	if _, err := encode(nest(max, true)); !errors.Is(err, avro.ErrLimit) {
		t.Errorf("%d levels (depth %d) encoded: %v, want ErrLimit", max, max+1, err)
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	if _, err := encode(cyclic); !errors.Is(err, avro.ErrLimit) {
		t.Errorf("cyclic value: %v, want ErrLimit", err)
	}

	// Bytes one level deeper than the default MaxDepth: wrap the leaf of a
	// value at the limit in one more array (JsonValue union branch 5, one
	// item, end of array).
	const leaf = "the-deepest-leaf"
	atLimit, err := encode(nest(max-1, leaf))
	if err != nil {
		t.Fatal(err)
	}
	enc := append([]byte{8, byte(2 * len(leaf))}, leaf...) // branch 4 (string), length, bytes
	i := bytes.Index(atLimit, enc)
	if i < 0 || bytes.Count(atLimit, enc) != 1 {
		t.Fatalf("leaf encoding %x not found once", enc)
	}
	over := slices.Concat(atLimit[:i], []byte{10, 2}, enc, []byte{0}, atLimit[i+len(enc):])
	if _, err := d.Decode(context.Background(), atLimit); err != nil {
		t.Errorf("depth %d: %v", max, err)
	}
	_, err = d.Decode(context.Background(), over)
	if !failure.IsPermanent(err) || failure.ReasonOf(err) != failure.ReasonUndecodable || !errors.Is(err, avro.ErrLimit) {
		t.Errorf("depth %d: %v, want permanent undecodable wrapping ErrLimit", max+1, err)
	}

	// A smaller MaxDepth moves the bound.
	cfg := avro.DefaultConfig()
	cfg.MaxDepth = 12
	small, _ := avro.NewDecoder(src, cfg)
	if err := roundTrip(small, nest(11, 1.5)); err != nil {
		t.Errorf("MaxDepth 12, depth 12: %v", err)
	}
	err = roundTrip(small, nest(12, 1.5))
	if !failure.IsPermanent(err) || failure.ReasonOf(err) != failure.ReasonUndecodable || !errors.Is(err, avro.ErrLimit) {
		t.Errorf("MaxDepth 12, depth 13: %v, want permanent undecodable wrapping ErrLimit", err)
	}
}
