package avro

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// safeASCII marks the ASCII bytes that appear in a JSON string unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainWord reports whether the eight bytes of x are all printable ASCII other
// than '"' and '\\', that is, need no escaping or UTF-8 checking.
func plainWord(x uint64) bool {
	q := x ^ (lsb * '"')               // zero bytes where x has '"'
	b := x ^ (lsb * '\\')              // zero bytes where x has '\\'
	special := ((x - lsb*0x20) &^ x) | // a byte < 0x20
		((q - lsb) &^ q) | // a '"'
		((b - lsb) &^ b) | // a '\\'
		x // a byte >= 0x80
	return special&msb == 0
}

// appendString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD; U+2028 and U+2029 are escaped so the output is also valid
// JavaScript.
func appendString(dst, s []byte) []byte {
	dst, _ = appendStringChecked(dst, s)
	return dst
}

// appendStringChecked is appendString that also reports whether s held
// invalid UTF-8, which the decoder counts (Event.Sanitized).
func appendStringChecked(dst, s []byte) (_ []byte, replaced bool) {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain ASCII bytes at a time: no control byte, quote,
		// backslash or byte >= 0x80 among them.
		for i+8 <= len(s) && plainWord(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			replaced = true
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), replaced
}

// appendFloat appends f as a JSON number the way encoding/json does; NaN and
// infinities, which JSON cannot express, become null.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const (
	msPerDay = 86_400_000
	// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
	epochShift = 719_468
)

// civil returns the proleptic Gregorian date of days since 1970-01-01
// (Howard Hinnant's days_from_civil inverse).
func civil(days int64) (year, month, day int64) {
	z := days + epochShift
	era := z / 146_097
	if z < 0 && z%146_097 != 0 {
		era--
	}
	doe := z - era*146_097
	yoe := (doe - doe/1460 + doe/36_524 - doe/146_096) / 365
	year = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	if month <= 2 {
		year++
	}
	return year, month, day
}

func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

func append2(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// appendDate appends days since the Unix epoch as a quoted "2006-01-02".
func appendDate(dst []byte, days int64) []byte {
	y, mo, d := civil(days)
	if y < 0 || y > 9999 {
		return append(append(dst, '"'), append(time.Unix(days*86400, 0).UTC().AppendFormat(nil, "2006-01-02"), '"')...)
	}
	return append(appendYMD(append(dst, '"'), y, mo, d), '"')
}

// appendYMD appends a date of year 0 to 9999 as 2006-01-02.
func appendYMD(dst []byte, y, mo, d int64) []byte {
	dst = append2(dst, y/100)
	dst = append2(dst, y%100)
	dst = append(dst, '-')
	dst = append2(dst, mo)
	dst = append(dst, '-')
	return append2(dst, d)
}

// appendTimestamp appends ms since the Unix epoch as a quoted ISO-8601 string
// with exactly three fractional digits, "2026-11-27T05:08:30.123Z"; zone is
// "Z" for UTC instants and "" for local timestamps.
func appendTimestamp(dst []byte, ms int64, zone string) []byte {
	days, rem := floorDiv(ms, msPerDay)
	y, mo, d := civil(days)
	if y < 0 || y > 9999 {
		dst = append(dst, '"')
		dst = time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000")
		return append(append(dst, zone...), '"')
	}
	dst = append(appendYMD(append(dst, '"'), y, mo, d), 'T')
	return append(append(appendClock(dst, rem), zone...), '"')
}

// appendClock appends ms since midnight as 15:04:05.000.
func appendClock(dst []byte, ms int64) []byte {
	h, ms := ms/3_600_000, ms%3_600_000
	m, ms := ms/60_000, ms%60_000
	s, ms := ms/1000, ms%1000
	dst = append2(dst, h%100)
	dst = append(dst, ':')
	dst = append2(dst, m)
	dst = append(dst, ':')
	dst = append2(dst, s)
	dst = append(dst, '.')
	return append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// appendDecimal appends the two's-complement big-endian unscaled value b at
// scale as a JSON number with its exact digits.
func appendDecimal(dst, b []byte, scale int) []byte {
	var n big.Int
	n.SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		var full big.Int
		full.Lsh(big.NewInt(1), uint(8*len(b)))
		n.Sub(&n, &full)
	}
	neg := n.Sign() < 0
	digits := n.Abs(&n).Text(10)
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		return append(dst, digits...)
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for i := len(digits); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

func appendIntSlow(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }
