package mapping

import (
	"encoding/binary"
	"unicode/utf8"
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
// accepts. It is the common path, so it checks eight ASCII bytes at a time.
func cleanBytes(b []byte) bool {
	for i := 0; i < len(b); {
		if i+8 <= len(b) {
			// Skip eight bytes at a time while they are all printable ASCII:
			// no byte >= 0x80 and no byte < 0x20 (the "hasless" bit trick: a
			// borrow into a byte's high bit that was not set in w). Unrolling
			// further measured no faster.
			w := binary.LittleEndian.Uint64(b[i:])
			if (w|(w-ones*0x20)&^w)&asciiHigh == 0 {
				i += 8
				continue
			}
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
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
