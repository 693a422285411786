package avro_test

import (
	"testing"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/avro"
)

// The Avro project's cross-implementation test vectors for Parsing Canonical
// Form and CRC-64-AVRO (share/test/data/schema-tests.txt in apache/avro,
// checked there against Java's direct implementation of the algorithm): the
// input schema, its canonical form and, where the file gives one, the
// fingerprint as a signed 64-bit integer (Java's long). Case 029's input
// with a quoted, zero-padded size is left out there too.
var specVectors = []struct {
	input, canonical string
	fingerprint      int64 // 0: none given
}{
	{`"null"`, `"null"`, 7195948357588979594},
	{`{"type":"null"}`, `"null"`, 0},
	{`"boolean"`, `"boolean"`, -6970731678124411036},
	{`{"type":"boolean"}`, `"boolean"`, 0},
	{`"int"`, `"int"`, 8247732601305521295},
	{`{"type":"int"}`, `"int"`, 0},
	{`"long"`, `"long"`, -3434872931120570953},
	{`{"type":"long"}`, `"long"`, 0},
	{`"float"`, `"float"`, 5583340709985441680},
	{`{"type":"float"}`, `"float"`, 0},
	{`"double"`, `"double"`, -8181574048448539266},
	{`{"type":"double"}`, `"double"`, 0},
	{`"bytes"`, `"bytes"`, 5746618253357095269},
	{`{"type":"bytes"}`, `"bytes"`, 0},
	{`"string"`, `"string"`, -8142146995180207161},
	{`{"type":"string"}`, `"string"`, 0},
	{`[  ]`, `[]`, -1241056759729112623},
	{`[ "int"  ]`, `["int"]`, -5232228896498058493},
	{`[ "int" , {"type":"boolean"} ]`, `["int","boolean"]`, 5392556393470105090},
	{`{"fields":[], "type":"record", "name":"foo"}`, `{"name":"foo","type":"record","fields":[]}`, -4824392279771201922},
	{`{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}`, `{"name":"x.y.foo","type":"record","fields":[]}`, 5916914534497305771},
	{`{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}`, `{"name":"a.b.foo","type":"record","fields":[]}`, -4616218487480524110},
	{`{"fields":[], "type":"record", "name":"foo", "doc":"Useful info"}`, `{"name":"foo","type":"record","fields":[]}`, -4824392279771201922},
	{`{"fields":[], "type":"record", "name":"foo", "aliases":["foo","bar"]}`, `{"name":"foo","type":"record","fields":[]}`, -4824392279771201922},
	{`{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}`, `{"name":"foo","type":"record","fields":[]}`, -4824392279771201922},
	{`{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}`, `{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}`, 7843277075252814651},
	{`{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":true},
	            {"order":"descending","name":"f2","doc":"Hello","type":"int"}],
	  "type":"record", "name":"foo"
	}`, `{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}`, -4860222112080293046},
	{`{"type":"enum", "name":"foo", "symbols":["A1"]}`, `{"name":"foo","type":"enum","symbols":["A1"]}`, -6342190197741309591},
	{`{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}`, `{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}`, -4448647247586288245},
	{`{"name":"foo","type":"fixed","size":15}`, `{"name":"foo","type":"fixed","size":15}`, 1756455273707447556},
	{`{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}`, `{"name":"x.y.z.foo","type":"fixed","size":32}`, -3064184465700546786},
	{`{ "items":{"type":"null"}, "type":"array"}`, `{"type":"array","items":"null"}`, -589620603366471059},
	{`{ "values":"string", "type":"map"}`, `{"type":"map","values":"string"}`, -8732877298790414990},
	{`{"name":"PigValue","type":"record",
	   "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}`,
		`{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}`, -1759257747318642341},
}

// TestCanonicalFormSpecVectors: CanonicalForm and Fingerprint agree with the
// Avro project's test vectors, which every implementation is checked against.
func TestCanonicalFormSpecVectors(t *testing.T) {
	for _, v := range specVectors {
		s, err := havro.ParseWithCache(v.input, "", &havro.SchemaCache{})
		if err != nil {
			t.Fatalf("%s: %v", v.input, err)
		}
		if got := avro.CanonicalForm(s); got != v.canonical {
			t.Errorf("CanonicalForm(%s)\n got %s\nwant %s", v.input, got, v.canonical)
		}
		if v.fingerprint != 0 {
			if got := avro.Fingerprint(s); got != uint64(v.fingerprint) {
				t.Errorf("Fingerprint(%s) = %#x, want %#x", v.input, got, uint64(v.fingerprint))
			}
		}
	}
}

// TestCanonicalFormStrips: what the specification's STRIP, FULLNAMES and
// ORDER rules remove or rewrite in the shapes the event schemas use: logical
// types (timestamp-millis, decimal), custom properties (thena.optional),
// defaults, an enum's default, short names resolved in the enclosing
// namespace, and a named type written in full only where it first appears.
func TestCanonicalFormStrips(t *testing.T) {
	for _, tc := range []struct{ name, input, want string }{
		{"logical types", `{"type":"record","name":"R","fields":[
			{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
			{"name":"day","type":{"logicalType":"date","type":"int"}},
			{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
			{"name":"money","type":{"type":"fixed","name":"Money","size":8,"logicalType":"decimal","precision":18}}]}`,
			`{"name":"R","type":"record","fields":[{"name":"ts","type":"long"},{"name":"day","type":"int"},{"name":"amount","type":"bytes"},{"name":"money","type":{"name":"Money","type":"fixed","size":8}}]}`},
		{"properties and defaults", `{"type":"record","name":"R","namespace":"com.thena.events","thena.note":"x","fields":[
			{"name":"subTeamId","type":["null","string"],"default":null,"thena.optional":true},
			{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"],"default":"A","doc":"d"},"default":"B"}]}`,
			`{"name":"com.thena.events.R","type":"record","fields":[{"name":"subTeamId","type":["null","string"]},{"name":"kind","type":{"name":"com.thena.events.Kind","type":"enum","symbols":["A","B"]}}]}`},
		{"names and references", `{"type":"record","name":"TicketEvent","namespace":"com.thena.events","fields":[
			{"name":"actor","type":{"type":"record","name":"Actor","fields":[{"name":"id","type":"string"}]}},
			{"name":"other","type":{"type":"record","name":"Other","namespace":"x","fields":[{"name":"a","type":"com.thena.events.Actor"}]}},
			{"name":"again","type":["null","Actor"]},
			{"name":"tags","type":{"type":"map","values":{"type":"array","items":"Actor"}}}]}`,
			`{"name":"com.thena.events.TicketEvent","type":"record","fields":[{"name":"actor","type":{"name":"com.thena.events.Actor","type":"record","fields":[{"name":"id","type":"string"}]}},{"name":"other","type":{"name":"x.Other","type":"record","fields":[{"name":"a","type":"com.thena.events.Actor"}]}},{"name":"again","type":["null","com.thena.events.Actor"]},{"name":"tags","type":{"type":"map","values":{"type":"array","items":"com.thena.events.Actor"}}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := havro.ParseWithCache(tc.input, "", &havro.SchemaCache{})
			if err != nil {
				t.Fatal(err)
			}
			if got := avro.CanonicalForm(s); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// workedExample is the schema of the worked example in schemas/README.md and
// the README; the test keeps the numbers printed there true. The same
// numbers come out of Python's fastavro (fingerprint "aad1ad5a3d7e74a5",
// its little-endian hex) and Java's SchemaNormalization.parsingFingerprint64.
const workedExample = `{"type":"record","name":"Ping","namespace":"com.example","doc":"A ping.",
 "fields":[{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
           {"name":"note","type":["null","string"],"default":null,"thena.optional":true}]}`

func TestLocalIDWorkedExample(t *testing.T) {
	s, err := havro.ParseWithCache(workedExample, "", &havro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	const canonical = `{"name":"com.example.Ping","type":"record","fields":[{"name":"at","type":"long"},{"name":"note","type":["null","string"]}]}`
	if got := avro.CanonicalForm(s); got != canonical {
		t.Errorf("canonical form\n got %s\nwant %s", got, canonical)
	}
	if got := avro.Fingerprint(s); got != 0xa5747e3d5aadd1aa {
		t.Errorf("fingerprint %#016x, want 0xa5747e3d5aadd1aa", got)
	}
	if id, err := avro.LocalID(s); err != nil || id != 0x25747e3d {
		t.Errorf("LocalID = %d (%#x), %v; want 628391485 (0x25747e3d)", id, id, err)
	}
}
