package avro

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	havro "github.com/hamba/avro/v2"
	"golang.org/x/sync/singleflight"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// SchemaSource resolves a writer schema by its wire-format schema id.
//
// Schema may block (a registry source does network I/O with retries) and
// gives up when ctx is done. Its errors are *failure.Error: unknown_schema
// (Permanent) when the id does not exist, registry (Transient) when the source
// could not answer, schema_invalid (Permanent) when the schema does not parse.
// Implementations are safe for concurrent use.
type SchemaSource interface {
	Schema(ctx context.Context, id int) (havro.Schema, error)
}

// Config bounds what a Decoder accepts from outside bytes. Every limit is
// explicit here rather than left to a library default. Start from
// DefaultConfig.
type Config struct {
	// MaxRecordBytes is the largest record value (wire prefix and body)
	// decoded; a larger one is undecodable.
	MaxRecordBytes int
	// MaxStringBytes is the longest single string, bytes or map key.
	MaxStringBytes int
	// MaxItems is the most items in one array or entries in one map.
	MaxItems int
	// MaxDepth is the deepest nesting of records, arrays and maps below the
	// top-level record (a JsonValue wrapper does not count, the objects and
	// arrays inside it do). It is what bounds free-form values, whose
	// JsonValue schema is recursive. AppendNatural refuses values deeper
	// than the default.
	MaxDepth int
	// MaxJSONBytes is the largest rendered JSON of one event. It bounds the
	// work and memory of values that are small in Avro but large in JSON,
	// such as long arrays of nulls.
	MaxJSONBytes int
	// MaxSchemas is how many compiled writer schemas the Decoder keeps.
	MaxSchemas int
}

// defaultMaxDepth is DefaultConfig's MaxDepth, which AppendNatural enforces
// too.
const defaultMaxDepth = 64

// DefaultConfig returns limits that fit Thena events: a 400 KiB comment
// decodes, a record of more than 4 MiB does not.
func DefaultConfig() Config {
	return Config{
		MaxRecordBytes: 4 << 20,
		MaxStringBytes: 2 << 20,
		MaxItems:       100_000,
		MaxDepth:       defaultMaxDepth,
		MaxJSONBytes:   16 << 20,
		MaxSchemas:     1024,
	}
}

// Validate reports the first field that is out of range, by name.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxRecordBytes", c.MaxRecordBytes},
		{"MaxStringBytes", c.MaxStringBytes},
		{"MaxItems", c.MaxItems},
		{"MaxDepth", c.MaxDepth},
		{"MaxJSONBytes", c.MaxJSONBytes},
		{"MaxSchemas", c.MaxSchemas},
	} {
		if f.v < 1 {
			return fmt.Errorf("avro: Config.%s is %d, want at least 1", f.name, f.v)
		}
	}
	if c.MaxJSONBytes < c.MaxRecordBytes {
		return fmt.Errorf("avro: Config.MaxJSONBytes (%d) is less than MaxRecordBytes (%d); rendered JSON is never smaller than about the Avro bytes", c.MaxJSONBytes, c.MaxRecordBytes)
	}
	return nil
}

// Decoder turns record values in Confluent wire format into Events. Each
// writer schema is fetched once from the SchemaSource and compiled into a
// transcoder, kept up to Config.MaxSchemas. A Decoder is safe for concurrent
// use.
type Decoder struct {
	src SchemaSource
	cfg Config
	lim limits

	mu       sync.RWMutex
	programs map[int]*program
	fetch    singleflight.Group
	machines sync.Pool
}

// NewDecoder returns a Decoder reading writer schemas from src.
func NewDecoder(src SchemaSource, cfg Config) (*Decoder, error) {
	if src == nil {
		return nil, errors.New("avro: NewDecoder needs a SchemaSource")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Decoder{
		src:      src,
		cfg:      cfg,
		lim:      limits{maxString: cfg.MaxStringBytes, maxItems: cfg.MaxItems, maxDepth: cfg.MaxDepth, maxOut: cfg.MaxJSONBytes},
		programs: make(map[int]*program),
		machines: sync.Pool{New: func() any { return &machine{} }},
	}, nil
}

// Decode decodes one record value. It blocks only when the writer schema is
// not compiled yet and must be fetched. The returned Event does not alias
// value. Errors are *failure.Error (see the package documentation).
func (d *Decoder) Decode(ctx context.Context, value []byte) (*Event, error) {
	if len(value) > d.cfg.MaxRecordBytes {
		return nil, failure.Permanentf(failure.ReasonUndecodable, "record value of %d bytes exceeds MaxRecordBytes %d", len(value), d.cfg.MaxRecordBytes)
	}
	id, body, err := ParseWire(value)
	if err != nil {
		return nil, err
	}
	p, err := d.program(ctx, id)
	if err != nil {
		return nil, err
	}
	m := d.machines.Get().(*machine)
	defer d.release(m)
	m.reset(body, d.lim)
	ev, err := p.run(m)
	if err != nil {
		return nil, failure.Permanentf(failure.ReasonUndecodable, "decoding %s (schema id %d) at body byte %d: %w", p.name, id, m.pos, err)
	}
	ev.SchemaID = id
	return ev, nil
}

// maxPooledBuffer is the largest scratch buffer a pooled machine keeps; the
// rare huge event (a 400 KiB comment) gets a fresh one, so the pool does not
// pin megabytes per P.
const maxPooledBuffer = 256 << 10

func (d *Decoder) release(m *machine) {
	if cap(m.out) > maxPooledBuffer {
		m.out = nil
	}
	if cap(m.hdr) > maxPooledBuffer {
		m.hdr = nil
	}
	m.in = nil
	d.machines.Put(m)
}

func (d *Decoder) program(ctx context.Context, id int) (*program, error) {
	d.mu.RLock()
	p, ok := d.programs[id]
	d.mu.RUnlock()
	if ok {
		return p, nil
	}
	v, err, _ := d.fetch.Do(strconv.Itoa(id), func() (any, error) {
		s, err := d.src.Schema(ctx, id)
		if err != nil {
			if failure.ClassOf(err) == failure.Unknown {
				return nil, failure.New(failure.Transient, failure.ReasonRegistry, fmt.Errorf("fetching schema id %d: %w", id, err))
			}
			return nil, err
		}
		p, err := compile(s)
		if err != nil {
			return nil, failure.Permanentf(failure.ReasonSchemaInvalid, "compiling schema id %d: %w", id, err)
		}
		d.mu.Lock()
		if len(d.programs) >= d.cfg.MaxSchemas {
			for k := range d.programs { // evict an arbitrary entry
				delete(d.programs, k)
				break
			}
		}
		d.programs[id] = p
		d.mu.Unlock()
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*program), nil
}

// eventAlloc puts an Event and its usual number of fields in one allocation.
type eventAlloc struct {
	ev     Event
	fields [8]Field
}

// run decodes a whole body and builds the Event.
func (p *program) run(m *machine) (*Event, error) {
	n := len(p.fields)
	if cap(m.spansTop) < n {
		m.spansTop = make([]span, n)
	}
	spans := m.spansTop[:n]
	present := 0
	for i := range p.fields {
		f := &p.fields[i]
		spans[i] = span{}
		fn, err := f.value(m)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.name, err)
		}
		if fn == nil {
			continue
		}
		start := len(m.out)
		if m.out, err = fn(m, m.out); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.name, err)
		}
		if err := m.checkOut(m.out); err != nil {
			return nil, err
		}
		spans[i] = span{start: start, end: len(m.out), set: true}
		present++
	}
	if m.pos != len(m.in) {
		return nil, fmt.Errorf("%w: %d", ErrTrailingBytes, len(m.in)-m.pos)
	}
	a := &eventAlloc{}
	ev := &a.ev
	ev.SchemaName = p.name
	if present <= len(a.fields) {
		ev.Fields = a.fields[:0:present]
	} else {
		ev.Fields = make([]Field, 0, present)
	}
	buf := make([]byte, len(m.out))
	copy(buf, m.out)
	for i, sp := range spans {
		if sp.set {
			ev.Fields = append(ev.Fields, Field{Name: p.fields[i].name, Value: buf[sp.start:sp.end:sp.end]})
		}
	}
	m.fillHeader(&ev.Header)
	ev.Sanitized = m.sanitized
	return ev, nil
}

// fillHeader converts the captured header strings with one allocation.
func (m *machine) fillHeader(h *Header) {
	all := string(m.hdr)
	get := func(slot int) string {
		sp := m.spans[slot]
		if !sp.set {
			return ""
		}
		s := all[sp.start:sp.end]
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		return s
	}
	h.EventID = get(slotEventID)
	h.EventType = get(slotEventType)
	h.OrgID = get(slotOrgID)
	h.Actor = Actor{ID: get(slotActorID), Type: get(slotActorType), Email: get(slotActorEmail)}
	if m.hasTS {
		if m.tsUnit == 1 {
			h.Timestamp = time.UnixMilli(m.ts).UTC()
		} else {
			h.Timestamp = time.UnixMicro(m.ts).UTC()
		}
		h.HasTimestamp = true
	}
}
