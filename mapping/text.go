package mapping

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/thena-ai/kafka-sns-bridge/avro"
)

// SNS accepts only characters of the XML 1.0 range in message bodies and
// attribute values: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
// #x10000-#x10FFFF, in valid UTF-8. Valid UTF-8 never encodes surrogates, so
// what is left to refuse is the C0 controls other than tab, LF and CR, the
// two non-characters U+FFFE and U+FFFF, and bytes that are not UTF-8. Each is
// replaced with U+FFFD, one replacement per invalid byte sequence as
// utf8.DecodeRune reports it.

const (
	asciiHigh = 0x8080808080808080
	ones      = 0x0101010101010101
)

// cleanBytes reports whether b is valid UTF-8 made only of characters SNS
// accepts. It is the common path over every body, so it skips eight ASCII
// bytes at a time and decodes UTF-8 inline: utf8.DecodeRune made text in
// Cyrillic or CJK scripts two to three times slower.
func cleanBytes(b []byte) bool {
	n := len(b)
	for i := 0; i < n; {
		if i+8 <= n {
			// No byte >= 0x80 and no byte < 0x20 (the "hasless" bit trick: a
			// borrow into a byte's high bit that was not set in w).
			w := binary.LittleEndian.Uint64(b[i:])
			if (w|(w-ones*0x20)&^w)&asciiHigh == 0 {
				i += 8
				continue
			}
		}
		// The ranges are those of RFC 3629's UTF8-octets grammar, which
		// excludes overlong forms and surrogates; EF BF BE/BF are U+FFFE/U+FFFF.
		c := b[i]
		switch {
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
		case c < 0x80:
			i++
		case c < 0xC2:
			return false
		case c < 0xE0:
			if i+1 >= n || b[i+1]&0xC0 != 0x80 {
				return false
			}
			i += 2
		case c < 0xF0:
			if i+2 >= n || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 ||
				c == 0xE0 && b[i+1] < 0xA0 || c == 0xED && b[i+1] > 0x9F ||
				c == 0xEF && b[i+1] == 0xBF && b[i+2] >= 0xBE {
				return false
			}
			i += 3
		case c < 0xF5:
			if i+3 >= n || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 || b[i+3]&0xC0 != 0x80 ||
				c == 0xF0 && b[i+1] < 0x90 || c == 0xF4 && b[i+1] > 0x8F {
				return false
			}
			i += 4
		default:
			return false
		}
	}
	return true
}

func cleanString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

// sanitize returns s with every character SNS refuses replaced by U+FFFD. It
// returns s itself, without allocating, when there is nothing to replace.
func sanitize(s string) string {
	if cleanString(s) {
		return s
	}
	return string(appendSanitized(make([]byte, 0, len(s)+8), []byte(s)))
}

// sanitizeBytes is sanitize for JSON text. Replacing a byte with U+FFFD never
// changes the JSON structure: the replaced bytes are either inside a string
// or already invalid JSON.
func sanitizeBytes(b []byte) []byte {
	if cleanBytes(b) {
		return b
	}
	return appendSanitized(make([]byte, 0, len(b)+8), b)
}

func appendSanitized(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[i:i+size]...)
		}
		i += size
	}
	return dst
}

// snsIDChar reports whether c may appear in a MessageGroupId or
// MessageDeduplicationId: ASCII letters, digits and punctuation (0x21-0x7E).
func snsIDChar(c byte) bool { return c >= 0x21 && c <= 0x7E }

// maxSNSIDLen is the longest MessageGroupId or MessageDeduplicationId SNS accepts.
const maxSNSIDLen = 128

// usableSNSID reports whether s can be sent as a group or deduplication id as is.
func usableSNSID(s string) bool {
	if s == "" || len(s) > maxSNSIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !snsIDChar(s[i]) {
			return false
		}
	}
	return true
}

// sanitizeFields returns a copy of in whose values are sanitized.
func sanitizeFields(in []avro.Field) []avro.Field {
	out := make([]avro.Field, len(in))
	for i, f := range in {
		out[i] = avro.Field{Name: f.Name, Value: sanitizeBytes(f.Value)}
	}
	return out
}
