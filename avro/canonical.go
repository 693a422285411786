package avro

import (
	"errors"
	"strconv"

	havro "github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/pkg/crc64"
)

// CanonicalForm returns the Parsing Canonical Form of s, as the Avro
// specification defines it ("Transforming into Parsing Canonical Form"):
//
//   - PRIMITIVES: a primitive is its bare name ("long", not {"type":"long"});
//   - FULLNAMES: every name is a full name and namespace attributes go;
//   - STRIP: only name, type, fields, symbols, items, values and size are
//     kept, so doc, aliases, defaults, order, logicalType (and its precision
//     and scale) and custom properties such as thena.optional are dropped;
//   - ORDER: an object's attributes appear in the order name, type, fields,
//     symbols, items, values, size;
//   - STRINGS, INTEGERS, WHITESPACE: strings carry their characters
//     unescaped (Avro names never need escaping), sizes are plain integers,
//     and there is no whitespace outside strings.
//
// A named type is written in full where it first appears, depth first in
// field order, and by its full name after that (so a recursive record refers
// to itself by name). Two schemas have the same canonical form exactly when
// they read and write the same bytes.
//
// hamba's Schema.String() is not this form: it keeps logicalType, so ids
// computed from it differ from those of every other Avro implementation for
// any schema with a logical type.
func CanonicalForm(s havro.Schema) string {
	return string(appendCanonical(nil, s, map[string]bool{}))
}

func appendCanonical(b []byte, s havro.Schema, defined map[string]bool) []byte {
	s = deref(s)
	if n, ok := s.(havro.NamedSchema); ok {
		name := n.FullName()
		if defined[name] {
			return appendCanonicalString(b, name)
		}
		defined[name] = true
		b = appendCanonicalString(append(b, `{"name":`...), name)
		b = appendCanonicalString(append(b, `,"type":`...), string(s.Type()))
	}
	switch s := s.(type) {
	case *havro.RecordSchema:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonicalString(append(b, `{"name":`...), f.Name())
			b = append(appendCanonical(append(b, `,"type":`...), f.Type(), defined), '}')
		}
		return append(b, "]}"...)
	case *havro.EnumSchema:
		b = append(b, `,"symbols":[`...)
		for i, sym := range s.Symbols() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonicalString(b, sym)
		}
		return append(b, "]}"...)
	case *havro.FixedSchema:
		return append(strconv.AppendInt(append(b, `,"size":`...), int64(s.Size()), 10), '}')
	case *havro.ArraySchema:
		return append(appendCanonical(append(b, `{"type":"array","items":`...), s.Items(), defined), '}')
	case *havro.MapSchema:
		return append(appendCanonical(append(b, `{"type":"map","values":`...), s.Values(), defined), '}')
	case *havro.UnionSchema:
		b = append(b, '[')
		for i, t := range s.Types() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonical(b, t, defined)
		}
		return append(b, ']')
	default: // primitives and null, logical types stripped
		return appendCanonicalString(b, string(s.Type()))
	}
}

// appendCanonicalString appends s as a JSON string. Only what JSON requires
// is escaped (quote, backslash, control characters); everything else is its
// UTF-8, as the STRINGS rule asks. Avro names and symbols are ASCII letters,
// digits and underscores, so in practice nothing is escaped.
func appendCanonicalString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Fingerprint returns the CRC-64-AVRO (Rabin) fingerprint of s's Parsing
// Canonical Form, the 64-bit value the specification's "Schema Fingerprints"
// section defines (Java's SchemaNormalization.parsingFingerprint64). Its
// bytes, when an implementation prints them, are little-endian in Avro's
// single-object encoding and in Python's fastavro, big-endian in hamba's
// FingerprintUsing(CRC64Avro).
func Fingerprint(s havro.Schema) uint64 {
	return fingerprint64([]byte(CanonicalForm(s)))
}

func fingerprint64(canonical []byte) uint64 {
	h := crc64.New()
	_, _ = h.Write(canonical) // a hash never fails to write
	return h.Sum64()
}

// errZeroID is LocalID's error for the one fingerprint class it cannot use.
var errZeroID = errors.New("schema fingerprint gives id 0, which is reserved")

// LocalID returns the schema id the local source gives s: the upper 32 bits
// of its fingerprint (Fingerprint), masked to a positive int32,
//
//	id = (CRC-64-AVRO(ParsingCanonicalForm(s)) >> 32) & 0x7fffffff
//
// which is also the first four bytes of the fingerprint in big-endian order.
// Canonical form ignores doc strings, defaults, logical types and custom
// properties, so the id changes exactly when the binary encoding can change,
// and any Avro implementation that follows the specification computes the
// same id (schemas/README.md has a worked example, `bridge schemas` prints
// every schema's).
func LocalID(s havro.Schema) (int, error) {
	return localIDOf(Fingerprint(s))
}

func localIDOf(fp uint64) (int, error) {
	id := int(fp>>32) & 0x7fffffff
	if id == 0 {
		return 0, errZeroID
	}
	return id, nil
}
