package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

var uniformShape = shape{Seed: 1, Events: 1000000, Orgs: 10000, Partitions: 12}

// TestBacklogTopicNamesTheShape: a backlog made for one shape is never
// taken for another's: every field of the shape, and the fingerprint,
// changes the topic's name.
func TestBacklogTopicNamesTheShape(t *testing.T) {
	if got, want := uniformShape.topic("bench.events", "0123abcd"), "bench.events.s1.n1000000.o10000.p12.g0123abcd"; got != want {
		t.Errorf("uniform topic %q, want %q", got, want)
	}
	variants := map[string]shape{"uniform": uniformShape}
	vary := func(name string, f func(*shape)) {
		s := uniformShape
		f(&s)
		variants[name] = s
	}
	vary("10 orgs", func(s *shape) { s.Orgs = 10 })
	vary("zipf 1.1", func(s *shape) { s.Zipf = 1.1 })
	vary("zipf 1.2", func(s *shape) { s.Zipf = 1.2 })
	vary("seed", func(s *shape) { s.Seed = 2 })
	vary("events", func(s *shape) { s.Events = 20000 })
	vary("partitions", func(s *shape) { s.Partitions = 6 })
	vary("registry", func(s *shape) { s.Framing = framingRegistry })
	seen := map[string]string{}
	for name, s := range variants {
		topic := s.topic("bench.events", "0123abcd")
		if other, dup := seen[topic]; dup {
			t.Errorf("%s and %s share the backlog topic %s", name, other, topic)
		}
		seen[topic] = name
	}
	if uniformShape.topic("p", "aaaaaaaa") == uniformShape.topic("p", "bbbbbbbb") {
		t.Error("the fingerprint does not change the name")
	}
}

// TestFingerprint: the fingerprint follows what is in the records (the
// organizations' distribution, the schema ids) and is stable otherwise.
func TestFingerprint(t *testing.T) {
	small := shape{Seed: 1, Events: 100, Orgs: 50, Partitions: 12}
	a, err := fingerprint(small, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := fingerprint(small, nil); again != a || len(a) != 8 {
		t.Errorf("fingerprint %q then %q, want the same 8 hex digits", a, again)
	}
	skewed := small
	skewed.Zipf = 1.5
	if z, _ := fingerprint(skewed, nil); z == a {
		t.Error("a Zipf backlog has the uniform one's fingerprint")
	}
	shift := func(v []byte) ([]byte, error) {
		out := bytes.Clone(v)
		binary.BigEndian.PutUint32(out[1:5], binary.BigEndian.Uint32(out[1:5])+1)
		return out, nil
	}
	if r, _ := fingerprint(small, shift); r == a {
		t.Error("other schema ids give the same fingerprint")
	}
}

// TestTopShare: the share the report prints for Zipf(1.1) over 10,000
// organizations (the skewed tenant mix) and the uniform ones.
func TestTopShare(t *testing.T) {
	z := uniformShape
	z.Zipf = 1.1
	if got := z.topShare(); math.Abs(got-0.151) > 0.002 {
		t.Errorf("Zipf(1.1) over 10000: busiest share %.4f, want about 0.151", got)
	}
	if got := (shape{Orgs: 10}).topShare(); got != 0.1 {
		t.Errorf("10 uniform: %v", got)
	}
	if got, want := z.distribution(), "Zipf(1.1) over 10000 organizations, the busiest 15.1 %"; got != want {
		t.Errorf("distribution %q, want %q", got, want)
	}
}

// TestReframer: a registry-framed value is the local one with only the
// schema id changed; an id the registry has not got is an error.
func TestReframer(t *testing.T) {
	r, err := eventgen.Sample(1, "ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	local, body, err := avro.ParseWire(r.Value)
	if err != nil {
		t.Fatal(err)
	}
	out, err := reframer(map[int]int{local: 42})(r.Value)
	if err != nil {
		t.Fatal(err)
	}
	id, outBody, err := avro.ParseWire(out)
	if err != nil || id != 42 || !bytes.Equal(outBody, body) {
		t.Fatalf("reframed to id %d (%v), body equal %v", id, err, bytes.Equal(outBody, body))
	}
	if id, _, _ := avro.ParseWire(r.Value); id != local {
		t.Fatal("the input value was modified")
	}
	if _, err := reframer(map[int]int{})(r.Value); err == nil {
		t.Fatal("unknown local id: no error")
	}
}
