package translate

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkTranslate is one generated ticket:updated record through
// Translate: decode, map and the Outbound the engine gets, with the headers
// a record usually carries (none here is trace context). allocs/op is what
// the per-event path costs; trace context must add nothing to it when a
// record has none.
//
//	go test -run '^$' -bench BenchmarkTranslate -benchmem ./internal/translate/
func BenchmarkTranslate(b *testing.B) {
	tr := newTranslator(b, nil)
	r, err := generator(b, 7).Record("ticket:updated")
	if err != nil {
		b.Fatal(err)
	}
	rec := &kgo.Record{Topic: "thena.events", Partition: 1, Offset: 42, Key: r.Key, Value: r.Value,
		Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte("avro/binary")}, {Key: "producer", Value: []byte("tickets-api")}}}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(r.Value)))
	for b.Loop() {
		if _, err := tr.Translate(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
}
