package eventgen

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
)

// NonASCII returns a ticket:created whose names, title, description and
// comment mix scripts, accents, emoji, quotes, backslashes and control
// characters.
func (g *Generator) NonASCII() Record {
	o := g.pick()
	t := g.ticket(o, 200, true)
	first, last := g.one(intlFirstNames), g.one(intlLastNames)
	t["customerContactFirstName"], t["customerContactLastName"] = first, last
	t["customer"] = map[string]any{"id": g.id(), "email": "kunde@example.de", "name": first + " " + last}
	t["title"] = g.one(intlPhrases)
	t["description"] = strings.Join(intlPhrases, "\n")
	t["tags"] = []any{"überfällig", "緊急", "clé"}
	body := g.one(intlPhrases) + " — " + first
	nat := g.envelope(o, "ticket:created", map[string]any{"ticket": t, "comment": map[string]any{
		"id": g.id(), "content": body, "contentHtml": "<p>" + body + "</p>", "contentJson": `{"text":"` + body + `"}`,
		"customerContactId": g.id(), "createdAt": g.past(1),
	}}, true)
	return g.must(TicketEvent, nat)
}

// NullAssignedAgent returns a ticket:updated of an unassigned ticket:
// assignedTo and assignedAgent are null (rendered as null, not omitted).
func (g *Generator) NullAssignedAgent() Record {
	o := g.pick()
	t := g.ticket(o, 200, true)
	t["assignedTo"], t["assignedAgent"] = nil, nil
	p := g.derivePrevious(o, t, "ticket:updated")
	return g.must(TicketEvent, g.envelope(o, "ticket:updated", map[string]any{"ticket": t, "previousTicket": p}, false))
}

// AbsentOptionals returns a ticket:updated in which every optional field of
// the tickets and the envelope's metadata are absent.
func (g *Generator) AbsentOptionals() Record {
	o := g.pick()
	t := g.ticket(o, 200, false)
	p := g.derivePrevious(o, t, "ticket:updated")
	return g.must(TicketEvent, g.envelope(o, "ticket:updated", map[string]any{"ticket": t, "previousTicket": p}, false))
}

// HugeCommentBytes is the size of the comment content HugeComment makes.
const HugeCommentBytes = 400 << 10

// HugeComment returns a ticket:comment:added whose content is 400 KiB: over
// the 256 KiB SNS limit until mapping replaces the content, then well under
// it. The HTML, markdown and JSON bodies are left out, so the record (about
// 401 KiB) stays under Kafka's default 1 MiB message size.
func (g *Generator) HugeComment() Record {
	o := g.pick()
	c := g.comment(o, "ticket", 100, true)
	c["content"] = g.text(HugeCommentBytes)[:HugeCommentBytes]
	delete(c, "contentHtml")
	delete(c, "contentMarkdown")
	delete(c, "contentJson")
	return g.must(CommentEvent, g.envelope(o, "ticket:comment:added", map[string]any{"comment": c}, false))
}

// TooLarge returns a ticket:tag:updated that stays over 256 KiB even after
// the large text fields are replaced: each of its two tickets carries about
// 300 KiB of tags and custom field values, which are not truncated. The record
// is about 700 KiB, under Kafka's default 1 MiB message size.
func (g *Generator) TooLarge() Record {
	o := g.pick()
	t := g.ticket(o, 200, true)
	tags := make([]any, 0, 2000)
	cf := map[string]any{}
	for i := range 2000 {
		tags = append(tags, fmt.Sprintf("tag-%04d-%s", i, g.id()))
		cf[fmt.Sprintf("field-%04d-%s", i, g.id())] = g.one(sentences)
	}
	t["tags"], t["customFields"] = tags, cf
	p := g.derivePrevious(o, t, "ticket:tag:updated")
	return g.must(TicketEvent, g.envelope(o, "ticket:tag:updated", map[string]any{"ticket": t, "previousTicket": p}, false))
}

// Poison names a kind of record the bridge must dead-letter.
type Poison int

const (
	// PoisonBadMagic is a valid event whose first byte is 1, not the magic 0.
	PoisonBadMagic Poison = iota
	// PoisonUnknownSchema is a valid body behind schema id UnknownSchemaID.
	PoisonUnknownSchema
	// PoisonTruncated is a valid event cut in the middle of its body.
	PoisonTruncated
	// PoisonUnroutable is a well-formed TicketEvent with the event type
	// UnroutableEventType, which no route matches.
	PoisonUnroutable
)

// UnknownSchemaID is the schema id of PoisonUnknownSchema records; Poison
// panics if the generator's source happens to hold a schema with this id.
const UnknownSchemaID = 424242

// UnroutableEventType is the event type of PoisonUnroutable records.
const UnroutableEventType = "billing:invoice:paid"

// String names the poison kind.
func (p Poison) String() string {
	switch p {
	case PoisonBadMagic:
		return "bad_magic"
	case PoisonUnknownSchema:
		return "unknown_schema"
	case PoisonTruncated:
		return "truncated"
	case PoisonUnroutable:
		return "unroutable"
	}
	return fmt.Sprintf("Poison(%d)", int(p))
}

// PoisonKinds lists every Poison.
func PoisonKinds() []Poison {
	return []Poison{PoisonBadMagic, PoisonUnknownSchema, PoisonTruncated, PoisonUnroutable}
}

// Poison returns a record of the given kind. Natural is the event as it was
// before it was spoiled (nil fields are not promised).
func (g *Generator) Poison(kind Poison) Record {
	base, err := g.Record("ticket:status:changed")
	if err != nil {
		panic(err)
	}
	v := append([]byte(nil), base.Value...)
	switch kind {
	case PoisonBadMagic:
		v[0] = 1
	case PoisonUnknownSchema:
		if _, err := g.src.Schema(context.Background(), UnknownSchemaID); err == nil {
			panic("eventgen: UnknownSchemaID is a known local schema id")
		}
		binary.BigEndian.PutUint32(v[1:5], UnknownSchemaID)
	case PoisonTruncated:
		v = v[:len(v)/2]
	case PoisonUnroutable:
		base.Natural["eventType"] = UnroutableEventType
		r := g.must(TicketEvent, base.Natural)
		r.EventType = UnroutableEventType
		return r
	default:
		panic(fmt.Sprintf("eventgen: unknown poison kind %d", int(kind)))
	}
	base.Value = v
	return base
}

// must encodes nat; the edge-case builders only make encodable events.
func (g *Generator) must(schema string, nat map[string]any) Record {
	r, err := g.encode(schema, nat["eventType"].(string), nat["orgId"].(string), nat)
	if err != nil {
		panic(err)
	}
	return r
}
