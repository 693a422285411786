// The form body of Publish and PublishBatch, as the SDK's awsQuery
// serializer writes it: every parameter escaped with url.QueryEscape, keys in
// sorted order (so member 10 comes between members 1 and 2), message
// attributes sorted by name and numbered in that order.

package wire

import (
	"slices"
	"strconv"
)

// apiVersion is SNS's Query API version, sent with every call.
const apiVersion = "2010-03-31"

// escapes holds what url.QueryEscape writes for each byte, packed for
// appendEscaped: the output's length (1 or 3) in the low byte, then its
// bytes, lowest first. A byte is kept (letters, digits, "-_.~"), written as
// '+' (the space) or written as %XX.
var escapes = func() (t [256]uint32) {
	const upperHex = "0123456789ABCDEF"
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			t[c] = uint32(c)<<8 | 1
		case c == ' ':
			t[c] = '+'<<8 | 1
		default:
			t[c] = uint32(upperHex[c&15])<<24 | uint32(upperHex[c>>4])<<16 | '%'<<8 | 3
		}
	}
	return t
}()

// appendEscaped appends url.QueryEscape(s) to dst. It writes each byte's
// three output bytes unconditionally and moves on by their length, so that
// the loop has no branch on the byte; room for the worst case (every byte
// escaped) is made once.
func appendEscaped(dst []byte, s string) []byte {
	j := len(dst)
	dst = slices.Grow(dst, 3*len(s))
	b := dst[:cap(dst)]
	for i := 0; i < len(s); i++ {
		e := escapes[s[i]]
		_ = b[j+2]
		b[j] = byte(e >> 8)
		b[j+1] = byte(e >> 16)
		b[j+2] = byte(e >> 24)
		j += int(e & 0xff)
	}
	return dst[:j]
}

// nextLexical returns the number after k among 1..n in the order of their
// decimal strings (1, 10, 11, 2, 3, ... for n = 11), or 0 after the last.
// Walking 1..n this way visits keys in the order sort.Strings puts them.
func nextLexical(k, n int) int {
	if k*10 <= n {
		return k * 10
	}
	for k%10 == 9 || k+1 > n {
		k /= 10
		if k == 0 {
			return 0
		}
	}
	return k + 1
}

// AppendPublishBatch appends the form body of a PublishBatch call to dst.
// Entries are numbered from 1 in the order given.
func AppendPublishBatch(dst []byte, topicARN string, entries []Entry) []byte {
	dst = append(dst, "Action=PublishBatch"...)
	if len(entries) == 0 {
		// The SDK marks an empty list with an empty value; SNS answers
		// EmptyBatchRequest.
		dst = append(dst, "&PublishBatchRequestEntries="...)
	}
	var prefix [64]byte
	for k := min(len(entries), 1); k != 0; k = nextLexical(k, len(entries)) {
		p := append(prefix[:0], "&PublishBatchRequestEntries.member."...)
		p = strconv.AppendInt(p, int64(k), 10)
		p = append(p, '.')
		e := &entries[k-1]
		dst = append(dst, p...)
		dst = append(dst, "Id="...)
		dst = appendEscaped(dst, e.ID)
		dst = appendMessage(dst, p, e)
	}
	dst = append(dst, "&TopicArn="...)
	dst = appendEscaped(dst, topicARN)
	return append(dst, "&Version="+apiVersion...)
}

// AppendPublish appends the form body of a Publish call of e to dst; e.ID
// is not sent.
func AppendPublish(dst []byte, topicARN string, e *Entry) []byte {
	dst = append(dst, "Action=Publish"...)
	dst = appendMessage(dst, []byte("&"), e)
	dst = append(dst, "&TopicArn="...)
	dst = appendEscaped(dst, topicARN)
	return append(dst, "&Version="+apiVersion...)
}

// appendMessage appends the fields of e after its Id, each key starting
// with p: Message, the attributes, MessageDeduplicationId, MessageGroupId.
func appendMessage(dst, p []byte, e *Entry) []byte {
	dst = append(dst, p...)
	dst = append(dst, "Message="...)
	dst = appendEscaped(dst, e.Body)
	if len(e.Attributes) > 0 {
		var inline [16]int
		order := attributeOrder(e.Attributes, inline[:0])
		for k := 1; k != 0; k = nextLexical(k, len(order)) {
			a := &e.Attributes[order[k-1]]
			var num [24]byte
			n := strconv.AppendInt(num[:0], int64(k), 10)
			dst = appendAttrKey(dst, p, n, "Name=")
			dst = appendEscaped(dst, a.Name)
			if a.Number {
				dst = appendAttrKey(dst, p, n, "Value.DataType="+NumberType)
			} else {
				dst = appendAttrKey(dst, p, n, "Value.DataType="+AttributeType)
			}
			dst = appendAttrKey(dst, p, n, "Value.StringValue=")
			dst = appendEscaped(dst, a.Value)
		}
	}
	if e.DedupID != "" {
		dst = append(dst, p...)
		dst = append(dst, "MessageDeduplicationId="...)
		dst = appendEscaped(dst, e.DedupID)
	}
	if e.GroupID != "" {
		dst = append(dst, p...)
		dst = append(dst, "MessageGroupId="...)
		dst = appendEscaped(dst, e.GroupID)
	}
	return dst
}

func appendAttrKey(dst, p, n []byte, field string) []byte {
	dst = append(dst, p...)
	dst = append(dst, "MessageAttributes.entry."...)
	dst = append(dst, n...)
	dst = append(dst, '.')
	return append(dst, field...)
}

// attributeOrder returns the indexes of attrs in the order the SDK numbers
// them: by name, and for a name given more than once only its last
// occurrence, as the SDK's map of attributes keeps it. It appends to buf.
func attributeOrder(attrs []Attribute, buf []int) []int {
	order := buf[:0]
	for i := range attrs {
		// Insertion sort by name, a repeated name after its earlier ones:
		// ten attributes at most in practice.
		j := len(order)
		order = append(order, i)
		for j > 0 && attrs[order[j-1]].Name > attrs[i].Name {
			order[j] = order[j-1]
			j--
		}
		order[j] = i
	}
	// Keep the last of each run of equal names.
	out := order[:0]
	for j, i := range order {
		if j+1 < len(order) && attrs[order[j+1]].Name == attrs[i].Name {
			continue
		}
		out = append(out, i)
	}
	return out
}
