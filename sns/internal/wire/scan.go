// The scanner: a reader of the XML that SNS answers with, for the subset of
// XML those answers use (elements, an xmlns attribute, ASCII text and the
// five named entities). Whatever lies outside that subset (comments, CDATA,
// processing instructions, numeric character references, namespace
// prefixes, non-ASCII text, and anything malformed) makes it decline, and
// the answer is read again by the encoding/xml reader of decode.go, which
// reads as the SDK reads. So the scanner never has to be right about an
// answer it does not fully understand; FuzzScanMatchesDecode holds it to
// giving decode.go's result on every answer it accepts.

package wire

import (
	"strconv"
	"strings"
)

// scanner reads s from i. Its methods return ok == false to decline.
type scanner struct {
	s string
	i int
}

// tag kinds next returns.
const (
	tagStart = iota // <name ...>
	tagEmpty        // <name .../>
	tagEnd          // </name>
)

// maxDepth bounds the nesting the scanner follows; deeper answers are left
// to decode.go.
const maxDepth = 32

// next skips text up to the next tag and reads the tag.
func (sc *scanner) next() (name string, kind int, ok bool) {
	lt := strings.IndexByte(sc.s[sc.i:], '<')
	if lt < 0 || !validText(sc.s[sc.i:sc.i+lt], false) {
		return "", 0, false
	}
	sc.i += lt + 1
	if sc.i < len(sc.s) && sc.s[sc.i] == '/' {
		sc.i++
		name, ok = sc.name()
		if !ok {
			return "", 0, false
		}
		sc.space()
		if !sc.consume('>') {
			return "", 0, false
		}
		return name, tagEnd, true
	}
	name, ok = sc.name()
	if !ok {
		return "", 0, false
	}
	for {
		spaced := sc.space()
		if sc.consume('>') {
			return name, tagStart, true
		}
		if sc.consume('/') {
			if !sc.consume('>') {
				return "", 0, false
			}
			return name, tagEmpty, true
		}
		if !spaced || !sc.attribute() {
			return "", 0, false
		}
	}
}

// name reads an element or attribute name: ASCII, no namespace prefix.
func (sc *scanner) name() (string, bool) {
	start := sc.i
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' ||
			sc.i > start && ('0' <= c && c <= '9' || c == '-' || c == '.') {
			sc.i++
			continue
		}
		break
	}
	if sc.i == start || sc.i < len(sc.s) && (sc.s[sc.i] == ':' || sc.s[sc.i] >= 0x80) {
		return "", false
	}
	return sc.s[start:sc.i], true
}

// attribute reads name="value" (or single quotes); the value is checked, not
// kept: no member of an SNS answer is an attribute.
func (sc *scanner) attribute() bool {
	if _, ok := sc.name(); !ok {
		return false
	}
	sc.space()
	if !sc.consume('=') {
		return false
	}
	sc.space()
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' && sc.s[sc.i] != '\'' {
		return false
	}
	q := sc.s[sc.i]
	sc.i++
	end := strings.IndexByte(sc.s[sc.i:], q)
	if end < 0 || !validText(sc.s[sc.i:sc.i+end], true) {
		return false
	}
	sc.i += end + 1
	return true
}

// space skips XML white space and reports whether there was any.
func (sc *scanner) space() bool {
	start := sc.i
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
			continue
		}
		break
	}
	return sc.i > start
}

func (sc *scanner) consume(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// validText reports whether t is text the scanner reads exactly as
// encoding/xml does: printable ASCII, tab and newline, and the five named
// entities. A carriage return (which encoding/xml rewrites), "]]>" outside
// an attribute and '<' inside one are declined.
func validText(t string, attr bool) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '&':
			n := entityLen(t[i:])
			if n == 0 {
				return false
			}
			i += n - 1
		case c == '>' && !attr && i >= 2 && t[i-1] == ']' && t[i-2] == ']':
			return false
		case c == '<':
			return false
		case c >= 0x20 && c < 0x80, c == '\t', c == '\n':
		default:
			return false
		}
	}
	return true
}

// entityLen returns the length of the named entity t starts with, or 0.
func entityLen(t string) int {
	for _, e := range [...]string{"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"} {
		if strings.HasPrefix(t, e) {
			return len(e)
		}
	}
	return 0
}

var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'")

// text reads the content of the element name (opened by a tag of kind) as
// a string member: text only, up to the element's end tag.
func (sc *scanner) text(name string, kind int) (string, bool) {
	if kind == tagEmpty {
		return "", true
	}
	lt := strings.IndexByte(sc.s[sc.i:], '<')
	if lt < 0 {
		return "", false
	}
	raw := sc.s[sc.i : sc.i+lt]
	if !validText(raw, false) {
		return "", false
	}
	sc.i += lt
	end, kind, ok := sc.next()
	if !ok || kind != tagEnd || end != name {
		return "", false
	}
	if strings.IndexByte(raw, '&') >= 0 {
		raw = unescaper.Replace(raw)
	}
	return raw, true
}

// skip reads past the rest of the element name, checking it is well formed.
func (sc *scanner) skip(name string, kind, depth int) bool {
	if kind == tagEmpty {
		return true
	}
	if depth > maxDepth {
		return false
	}
	for {
		child, kind, ok := sc.next()
		switch {
		case !ok:
			return false
		case kind == tagEnd:
			return child == name
		case !sc.skip(child, kind, depth+1):
			return false
		}
	}
}

// find reads up to the first element called target (in any case), checking
// that what comes before it is well formed, and returns its tag.
func (sc *scanner) find(target string) (name string, kind int, ok bool) {
	var open [maxDepth]string
	depth := 0
	for {
		name, kind, ok := sc.next()
		switch {
		case !ok:
			return "", 0, false
		case kind == tagEnd:
			if depth == 0 || open[depth-1] != name {
				return "", 0, false
			}
			depth--
		case strings.EqualFold(name, target):
			return name, kind, true
		case kind == tagStart:
			if depth == len(open) {
				return "", 0, false
			}
			open[depth] = name
			depth++
		}
	}
}

// members calls member for each child element of the element name (opened
// by a tag of kind) until its end tag. member reads the child, whatever its
// name, or declines.
func (sc *scanner) members(name string, kind int, member func(child string, kind int) bool) bool {
	if kind == tagEmpty {
		return true
	}
	for {
		child, ckind, ok := sc.next()
		switch {
		case !ok:
			return false
		case ckind == tagEnd:
			return child == name
		case !member(child, ckind):
			return false
		}
	}
}

// scanBatch reads a PublishBatch answer into res; see decodeBatch for the
// rules.
func scanBatch(s string, res *BatchResult) bool {
	sc := scanner{s: s}
	name, kind, ok := sc.find("PublishBatchResult")
	if !ok {
		return false
	}
	return sc.members(name, kind, func(list string, kind int) bool {
		switch {
		case strings.EqualFold(list, "Successful"):
			res.Successful = res.Successful[:0]
			return sc.members(list, kind, func(item string, kind int) bool {
				var e Success
				ok := sc.members(item, kind, func(f string, kind int) bool {
					var ok bool
					switch {
					case strings.EqualFold(f, "Id"):
						e.ID, ok = sc.text(f, kind)
					case strings.EqualFold(f, "MessageId"):
						e.MessageID, ok = sc.text(f, kind)
					case strings.EqualFold(f, "SequenceNumber"):
						e.SequenceNumber, ok = sc.text(f, kind)
					default:
						ok = sc.skip(f, kind, 0)
					}
					return ok
				})
				res.Successful = append(res.Successful, e)
				return ok
			})
		case strings.EqualFold(list, "Failed"):
			res.Failed = res.Failed[:0]
			return sc.members(list, kind, func(item string, kind int) bool {
				var e Failure
				ok := sc.members(item, kind, func(f string, kind int) bool {
					var ok bool
					switch {
					case strings.EqualFold(f, "Id"):
						e.ID, ok = sc.text(f, kind)
					case strings.EqualFold(f, "Code"):
						e.Code, ok = sc.text(f, kind)
					case strings.EqualFold(f, "Message"):
						e.Message, ok = sc.text(f, kind)
					case strings.EqualFold(f, "SenderFault"):
						var t string
						if t, ok = sc.text(f, kind); ok {
							var err error
							e.SenderFault, err = strconv.ParseBool(t)
							ok = err == nil
						}
					default:
						ok = sc.skip(f, kind, 0)
					}
					return ok
				})
				res.Failed = append(res.Failed, e)
				return ok
			})
		}
		return sc.skip(list, kind, 0)
	})
}

// scanPublish reads a Publish answer into res; see decodePublish.
func scanPublish(s string, res *PublishResult) bool {
	sc := scanner{s: s}
	name, kind, ok := sc.find("PublishResult")
	if !ok {
		return false
	}
	return sc.members(name, kind, func(f string, kind int) bool {
		var ok bool
		switch {
		case strings.EqualFold(f, "MessageId"):
			res.MessageID, ok = sc.text(f, kind)
		case strings.EqualFold(f, "SequenceNumber"):
			res.SequenceNumber, ok = sc.text(f, kind)
		default:
			ok = sc.skip(f, kind, 0)
		}
		return ok
	})
}
