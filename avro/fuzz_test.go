package avro_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

func FuzzParseWire(f *testing.F) {
	for _, seed := range [][]byte{nil, {0}, {0, 0, 0, 0}, {0, 0, 0, 0, 1}, {0, 0xff, 0xff, 0xff, 0xff, 9}, {1, 0, 0, 0, 1}, []byte(`{"eventId":1}`)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, body, err := avro.ParseWire(b)
		if err != nil {
			if failure.ReasonOf(err) != failure.ReasonBadMagic || !failure.IsPermanent(err) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(b) < 5 || b[0] != 0 || len(body) != len(b)-5 || id < 0 {
			t.Fatalf("accepted %x as id %d body %x", b, id, body)
		}
		if got := avro.AppendWireHeader(nil, id); string(got) != string(b[:5]) {
			t.Fatalf("AppendWireHeader(%d) = %x, want %x", id, got, b[:5])
		}
	})
}

// FuzzDecode runs random bodies against the real event schemas and the
// kitchen-sink schema under tight limits: no panic, only classified errors,
// and every success is valid JSON within the limits.
func FuzzDecode(f *testing.F) {
	g, err := eventgen.New(11, eventgen.Options{Orgs: 5})
	if err != nil {
		f.Fatal(err)
	}
	src := g.Source()
	ids := []int{}
	for _, n := range src.Names() {
		id, _ := src.ID(n)
		ids = append(ids, id)
	}
	sink := sinkSource(f)
	sinkID, _ := sink.ID("com.thena.test.KitchenSink")
	cfg := avro.DefaultConfig()
	cfg.MaxRecordBytes, cfg.MaxStringBytes, cfg.MaxItems, cfg.MaxDepth, cfg.MaxJSONBytes = 64<<10, 4<<10, 256, 16, 256<<10
	d, _ := avro.NewDecoder(sources{src, sink}, cfg)
	ids = append(ids, sinkID)

	// Seeds: a valid event of each family, its truncations and corruptions,
	// and edge cases of the encoding.
	for _, typ := range []string{"ticket:updated", "account:created", "organization:member-joined", "ticket:comment:added", "user:mentioned", "custom-object:deal:created"} {
		_, v, _ := g.Event(typ)
		f.Add(v)
		f.Add(v[:len(v)/2])
		c := append([]byte(nil), v...)
		c[len(c)/3] ^= 0xff
		f.Add(c)
	}
	v, err := sink.Encode("com.thena.test.KitchenSink", sinkValue())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add(wire(ids[0]))
	f.Add(wire(ids[0], 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80))
	f.Add(wire(ids[0], 0x01))                                                       // negative length
	f.Add(wire(ids[0], 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)) // huge length
	f.Add(wire(sinkID, 2, 'x', 1))
	f.Add([]byte{1, 2, 3, 4, 5, 6})

	f.Fuzz(func(t *testing.T, b []byte) {
		// Aim most inputs at a known schema: keep the body, pick the id.
		if len(b) >= 5 && b[0] == 0 && b[1] == 0xAA {
			copy(b[1:5], avro.AppendWireHeader(nil, ids[int(b[2])%len(ids)])[1:])
		}
		ev, err := d.Decode(context.Background(), b)
		if err != nil {
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Class != failure.Permanent {
				t.Fatalf("error not classified permanent: %v", err)
			}
			return
		}
		total := 0
		for _, fld := range ev.Fields {
			if !json.Valid(fld.Value) {
				t.Fatalf("field %s is not valid JSON: %q", fld.Name, fld.Value)
			}
			total += len(fld.Value)
		}
		if total > cfg.MaxJSONBytes+cfg.MaxStringBytes*6+64 {
			t.Fatalf("rendered %d bytes, over MaxJSONBytes %d", total, cfg.MaxJSONBytes)
		}
	})
}
