// Package eventgen generates realistic Thena platform events in Confluent
// wire format for tests, benchmarks, the demo and load tools: every
// documented event type, plausible contents across many organizations,
// deterministic for a seed, plus the edge cases and poison records the
// bridge must survive. It encodes with the schemas in schemas/ through
// avro.LocalSource, so record values carry local schema ids.
package eventgen

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

// Options configures a Generator. The zero value is usable.
type Options struct {
	// Orgs is the number of organizations events are spread over (default 50).
	Orgs int
	// Zipf, when above 1, draws each event's organization from a Zipf(Zipf)
	// distribution over the Orgs organizations (the first is the busiest:
	// TopOrgShare of the events) instead of uniformly, the skew of real
	// tenants. Zero is uniform; values in (0, 1] are refused.
	Zipf float64
	// Start is the time of the first event (default 2026-11-27T05:00:00Z).
	// Event times advance from it by a random 10 ms to 3 s per event.
	Start time.Time
	// Now, when set, stamps each event with the time it returns instead of
	// the advancing clock, for live streams whose end-to-end latency is
	// measured (the demo, load tests). Output is then not deterministic.
	Now func() time.Time
	// Source encodes the events (default: the schemas embedded in schemas/).
	Source *avro.LocalSource
}

// withDefaults returns o with its zero Orgs and Start set to their defaults.
func (o Options) withDefaults() Options {
	o.Orgs = cmp.Or(o.Orgs, 50)
	o.Start = cmp.Or(o.Start, time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC))
	return o
}

// Record is one generated Kafka record: key (the organization id), value (the
// Avro event in Confluent wire format) and the event as an integrator sees
// it, the natural JSON the bridge renders (timestamps as ISO-8601 strings,
// optional fields absent when not set).
type Record struct {
	EventType string
	Key       []byte
	Value     []byte
	Natural   map[string]any
}

// Generator produces events. It is deterministic: the same seed and options
// give the same sequence of records. It is not safe for concurrent use.
type Generator struct {
	rng   *rand.Rand
	src   *avro.LocalSource
	orgs  []*org
	zipf  *rand.Zipf // nil: organizations are drawn uniformly
	clock time.Time
	now   func() time.Time
}

type org struct {
	id, name, domain, subdomain, plan, createdAt string
	teams                                        []team
	agents                                       []person
	accounts                                     []account
	contacts                                     []person
	fieldUIDs                                    []string
}

type team struct{ id, name, identifier string }

type person struct {
	id, first, last, email, userType, accountID string
}

func (p person) name() string { return p.first + " " + p.last }

type account struct{ id, name, domain string }

// New returns a Generator for seed.
func New(seed int64, opts Options) (*Generator, error) {
	if opts.Orgs < 0 {
		return nil, fmt.Errorf("eventgen: Options.Orgs is %d, want >= 0", opts.Orgs)
	}
	if opts.Zipf != 0 && !(opts.Zipf > 1) {
		return nil, fmt.Errorf("eventgen: Options.Zipf is %v, want 0 (uniform) or above 1", opts.Zipf)
	}
	opts = opts.withDefaults()
	if opts.Source == nil {
		src, err := avro.NewLocalSource(schemas.FS())
		if err != nil {
			return nil, fmt.Errorf("eventgen: %w", err)
		}
		opts.Source = src
	}
	for _, name := range []string{TicketEvent, AccountEvent, OrganizationEvent, CommentEvent, UserEvent, CustomObjectEvent} {
		if _, ok := opts.Source.ID(name); !ok {
			return nil, fmt.Errorf("eventgen: Options.Source has no schema %s", name)
		}
	}
	g := &Generator{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x7468656e61)),
		src:   opts.Source,
		clock: opts.Start.UTC().Truncate(time.Millisecond),
		now:   opts.Now,
	}
	for range opts.Orgs {
		g.orgs = append(g.orgs, g.newOrg())
	}
	if opts.Zipf > 1 {
		g.zipf = rand.NewZipf(g.rng, opts.Zipf, 1, uint64(len(g.orgs)-1))
	}
	return g, nil
}

// TopOrgShare is the expected share of the events that the busiest
// organization gets: 1/Orgs when uniform, else Zipf's P(0) =
// 1 / sum over k in [0, Orgs) of (1+k)^-Zipf.
func (o Options) TopOrgShare() float64 {
	o = o.withDefaults()
	if o.Zipf <= 1 {
		return 1 / float64(o.Orgs)
	}
	var h float64
	for k := o.Orgs; k >= 1; k-- { // smallest terms first, for precision
		h += math.Pow(float64(k), -o.Zipf)
	}
	return 1 / h
}

// Source returns the schema source the Generator encodes with; a Decoder
// built on it decodes every record the Generator makes.
func (g *Generator) Source() *avro.LocalSource { return g.src }

// Event generates one event of eventType (any of AllTypes, or any
// custom-object:{type}:{created,updated,deleted}) and returns its key, wire
// value and natural form. It panics on an unknown event type, which is a
// programming error; use Record to get an error instead.
func (g *Generator) Event(eventType string) (key, value []byte, natural map[string]any) {
	r, err := g.Record(eventType)
	if err != nil {
		panic(err)
	}
	return r.Key, r.Value, r.Natural
}

// Sample returns the first event of eventType a generator of seed with the
// default options makes: for a test that needs one realistic record.
func Sample(seed int64, eventType string) (Record, error) {
	g, err := New(seed, Options{})
	if err != nil {
		return Record{}, err
	}
	return g.Record(eventType)
}

// Record generates one event of eventType.
func (g *Generator) Record(eventType string) (Record, error) {
	kind, ok := KindOf(eventType)
	if !ok {
		return Record{}, fmt.Errorf("eventgen: unknown event type %q", eventType)
	}
	o := g.pick()
	nat := g.build(o, eventType, kind, g.rng.IntN(2) == 0)
	return g.encode(kind.Schema, eventType, o.id, nat)
}

func (g *Generator) encode(schema, eventType, key string, nat map[string]any) (Record, error) {
	value, err := g.src.Encode(schema, nat)
	if err != nil {
		return Record{}, fmt.Errorf("eventgen: encoding %s: %w", eventType, err)
	}
	return Record{EventType: eventType, Key: []byte(key), Value: value, Natural: nat}, nil
}

// mixWeights is a plausible production mix: ticket updates and comments
// dominate, organization and user events are rare.
var mixWeights = map[string]int{
	"ticket:created": 60, "ticket:updated": 120, "ticket:status:changed": 60, "ticket:assigned": 40,
	"ticket:priority:changed": 20, "ticket:tag:updated": 15, "ticket:comment:added": 50,
	"ticket:comment:created": 50, "ticket:sla:breach_warning": 10, "ticket:csat:received": 8,
	"account:updated": 15, "customer-contact:created": 12, "customer-contact:updated": 10,
	"account-note:comment:created": 10, "user:mentioned": 20, "custom-object:deal:updated": 12,
	"custom-object:invoice:created": 6,
}

// Mixed returns n records drawn from a realistic mix of all event types, each
// between 300 B and 4 KiB on the wire.
func (g *Generator) Mixed(n int) []Record {
	types := AllTypes()
	weights := make([]int, len(types))
	total := 0
	for i, t := range types {
		w := mixWeights[t]
		if w == 0 {
			w = 3
		}
		weights[i] = w
		total += w
	}
	out := make([]Record, 0, n)
	for len(out) < n {
		x := g.rng.IntN(total)
		i := 0
		for x >= weights[i] {
			x -= weights[i]
			i++
		}
		r, err := g.Record(types[i])
		if err != nil {
			panic(err) // every catalog type encodes; a test proves it
		}
		if len(r.Value) < 300 || len(r.Value) > 4096 {
			continue
		}
		out = append(out, r)
	}
	return out
}

// TicketUpdated returns a ticket:updated event of about size bytes on the
// wire (within a few hundred bytes), the benchmark's typical event.
func (g *Generator) TicketUpdated(size int) Record {
	o := g.pick()
	var best map[string]any
	for descLen := 40; ; descLen += 40 {
		t := g.ticket(o, descLen, true)
		prev := g.derivePrevious(o, t, "ticket:updated")
		nat := g.envelope(o, "ticket:updated", map[string]any{"ticket": t, "previousTicket": prev}, false)
		v, err := g.src.Encode(TicketEvent, nat)
		if err != nil {
			panic(err)
		}
		best = nat
		if len(v) >= size || descLen > size {
			break
		}
	}
	r, err := g.encode(TicketEvent, "ticket:updated", best["orgId"].(string), best)
	if err != nil {
		panic(err)
	}
	return r
}

func (g *Generator) pick() *org {
	if g.zipf != nil {
		return g.orgs[g.zipf.Uint64()]
	}
	return g.orgs[g.rng.IntN(len(g.orgs))]
}

func (g *Generator) one(list []string) string { return list[g.rng.IntN(len(list))] }

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// id returns a Thena-style id: 25 to 29 upper-case ULID-like characters.
func (g *Generator) id() string {
	n := 25 + g.rng.IntN(5)
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(crockford[g.rng.IntN(len(crockford))])
	}
	return b.String()
}

// eventID returns a 26-character ULID-like id whose first ten characters
// encode the event time, so event ids sort by time like real ULIDs.
func (g *Generator) eventID(t time.Time) string {
	ms := uint64(t.UnixMilli())
	var b [26]byte
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	for i := 10; i < 26; i++ {
		b[i] = crockford[g.rng.IntN(32)]
	}
	return string(b[:])
}

// tick advances the clock and returns the new event time.
func (g *Generator) tick() time.Time {
	if g.now != nil {
		g.clock = g.now().UTC().Truncate(time.Millisecond)
		return g.clock
	}
	g.clock = g.clock.Add(time.Duration(10+g.rng.IntN(3000)) * time.Millisecond)
	return g.clock
}

// iso renders t the way the decoder renders timestamp-millis.
func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// past returns a time up to maxDays before the clock, at millisecond precision.
func (g *Generator) past(maxDays int) string {
	return iso(g.clock.Add(-time.Duration(g.rng.Int64N(int64(maxDays) * 24 * int64(time.Hour)))).Truncate(time.Millisecond))
}

func slug(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "-", ".", "").Replace(s))
}

func (g *Generator) newPerson(domain, userType string) person {
	first, last := g.one(firstNames), g.one(lastNames)
	return person{
		id: g.id(), first: first, last: last, userType: userType,
		email: fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), g.rng.IntN(100), domain),
	}
}

func (g *Generator) newOrg() *org {
	name := g.one(companyWords) + " " + g.one(companySuffixes)
	sub := slug(name) + fmt.Sprint(g.rng.IntN(1000))
	o := &org{
		id: g.id(), name: name, subdomain: sub, domain: sub + ".com", plan: g.one(plans), createdAt: g.past(900),
	}
	for i, n := 0, 2+g.rng.IntN(3); i < n; i++ {
		tn := teamNames[(i+g.rng.IntN(len(teamNames)))%len(teamNames)]
		o.teams = append(o.teams, team{id: g.id(), name: tn, identifier: strings.ToUpper(tn[:3])})
	}
	for range 3 + g.rng.IntN(6) {
		o.agents = append(o.agents, g.newPerson(o.domain, g.one(userTypes[:2])))
	}
	for range 3 + g.rng.IntN(4) {
		an := g.one(companyWords) + " " + g.one(companySuffixes)
		o.accounts = append(o.accounts, account{id: g.id(), name: an, domain: slug(an) + ".io"})
	}
	for range 4 + g.rng.IntN(7) {
		a := o.accounts[g.rng.IntN(len(o.accounts))]
		c := g.newPerson(a.domain, "CUSTOMER")
		c.accountID = a.id
		o.contacts = append(o.contacts, c)
	}
	for range 3 + g.rng.IntN(4) {
		o.fieldUIDs = append(o.fieldUIDs, g.id())
	}
	return o
}

// text returns about n bytes of plausible support prose.
func (g *Generator) text(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.one(sentences))
	}
	return b.String()
}
