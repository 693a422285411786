package avro_test

import (
	"context"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// BenchmarkDecodeTicketUpdated decodes a typical 2 KiB ticket:updated from
// wire bytes to an Event (header and rendered fields), the decode share of
// the bridge's 10 µs per event budget.
func BenchmarkDecodeTicketUpdated(b *testing.B) {
	g, d := generatorAndDecoder(b, 1)
	r := g.TicketUpdated(2048)
	ctx := context.Background()
	if _, err := d.Decode(ctx, r.Value); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(r.Value)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(ctx, r.Value); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMixed decodes the generator's realistic mix of all event
// types (300 B to 4 KiB each).
func BenchmarkDecodeMixed(b *testing.B) {
	g, d := generatorAndDecoder(b, 2)
	recs := g.Mixed(1000)
	ctx := context.Background()
	total := 0
	for _, r := range recs {
		total += len(r.Value)
	}
	b.SetBytes(int64(total / len(recs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := d.Decode(ctx, recs[i%len(recs)].Value); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// generatorAndDecoder returns an event generator of seed and a decoder of
// its schemas.
func generatorAndDecoder(b *testing.B, seed int64) (*eventgen.Generator, *avro.Decoder) {
	b.Helper()
	g, err := eventgen.New(seed, eventgen.Options{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := avro.NewDecoder(g.Source(), avro.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	return g, d
}
