package mapping

import (
	"context"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// BenchmarkMapTicketUpdated maps a generated ticket:updated event of 2 KiB
// on the wire, the common case, decoded once by the real decoder. The
// pipeline's budget is 10 µs per event per core for decode, map and size
// together; mapping's share is meant to stay under 3 µs.
func BenchmarkMapTicketUpdated(b *testing.B) {
	ev, _, _ := ticketUpdated2KiB(b)
	m := newTestMapper(b, standardConfig(), nil)
	msg, err := m.Map(ev, testSource)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg.Entry.Body)))
	benchMap(b, m, ev)
}

// BenchmarkDecodeMapTicketUpdated is the same event through decode and map,
// the whole per-event budget of 10 µs.
func BenchmarkDecodeMapTicketUpdated(b *testing.B) {
	_, value, dec := ticketUpdated2KiB(b)
	m := newTestMapper(b, standardConfig(), nil)
	ctx := context.Background()
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := dec.Decode(ctx, value)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Map(ev, testSource); err != nil {
			b.Fatal(err)
		}
	}
}

// benchMap times m.Map of ev.
func benchMap(b *testing.B, m *Mapper, ev *avro.Event) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(ev, testSource); err != nil {
			b.Fatal(err)
		}
	}
}

func ticketUpdated2KiB(b *testing.B) (*avro.Event, []byte, *avro.Decoder) {
	b.Helper()
	g, dec := newGenerator(b, 1, eventgen.Options{})
	rec := g.TicketUpdated(2 << 10)
	ev, err := dec.Decode(context.Background(), rec.Value)
	if err != nil {
		b.Fatal(err)
	}
	return ev, rec.Value, dec
}

// BenchmarkMapCustomObjectGeneratedID maps a custom object event without an
// eventId: the path that hashes the record's position.
func BenchmarkMapCustomObjectGeneratedID(b *testing.B) {
	m := newTestMapper(b, Config{Routes: []Route{{Pattern: "custom-object:*", TopicARN: ticketFIFOARN}}}, nil)
	fields := replaceField(envelopeFields("custom-object:deal:updated", map[string]any{
		"deal": map[string]any{"id": "deal-123", "name": "Enterprise Software License", "value": 50000, "stage": "proposal"},
	}), "eventId", nil)
	benchMap(b, m, fromFields(fields...))
}

// BenchmarkMapTruncate400KiB maps a 400 KiB comment that must be truncated:
// the rare path, for scale.
func BenchmarkMapTruncate400KiB(b *testing.B) {
	m := newTestMapper(b, standardConfig(), nil)
	benchMap(b, m, fromFields(envelopeFields("ticket:comment:added", bigComment(400<<10))...))
}

// BenchmarkCleanBytes checks the character rule over a generated body.
func BenchmarkCleanBytes(b *testing.B) {
	ev, _, _ := ticketUpdated2KiB(b)
	m := newTestMapper(b, standardConfig(), nil)
	msg, err := m.Map(ev, testSource)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(msg.Entry.Body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !cleanBytes(body) {
			b.Fatal("not clean")
		}
	}
}

// BenchmarkCleanBytesScripts checks the character rule over text in several
// scripts; non-ASCII text is the slow path of the check.
func BenchmarkCleanBytesScripts(b *testing.B) {
	for _, tc := range []struct{ name, text string }{
		{"ascii", `{"title":"Cannot log in after the password reset","n":1},`},
		{"latin", "Ünïcödé comment text. "},
		{"cyrillic", "Ошибка входа в систему "},
		{"cjk", "ログインできません。パスワード"},
	} {
		text := []byte(strings.Repeat(tc.text, 4096/len(tc.text)))
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if !cleanBytes(text) {
					b.Fatal("not clean")
				}
			}
		})
	}
}
