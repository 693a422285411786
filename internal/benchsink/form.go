// Reading a Publish or PublishBatch request body (application/x-www-form-
// urlencoded, as the SDK's Query serializer and the bridge's direct encoder
// write it) in one pass, without building url.Values: values are kept as
// slices of the body and percent-decoded only where the sink needs the
// text (the topic ARN, entry ids, attribute names, event_timestamp); for
// sizes it counts the decoded length without decoding.

package benchsink

import (
	"bytes"
	"errors"
)

// MaxBatchEntries and MaxAttributes are SNS's limits: entries per
// PublishBatch, message attributes per message.
const (
	MaxBatchEntries = 10
	MaxAttributes   = 10
)

// attr is one message attribute as sent: its name decoded, its value raw.
type attr struct {
	name     []byte // decoded
	typ      []byte // decoded DataType
	value    []byte // raw (still percent-encoded)
	valueLen int    // decoded length of the string or binary value
	binary   bool   // the value came as Value.BinaryValue
	set      bool
}

// entry is one message: a PublishBatch entry or a Publish's message.
type entry struct {
	set     bool
	id      []byte // decoded; batch entries only
	body    []byte // Message, raw
	bodyLen int    // decoded length of Message
	group   bool   // MessageGroupId given and not empty
	dedup   bool   // MessageDeduplicationId given and not empty
	attrs   [MaxAttributes]attr
	// tooManyAttrs: an attribute numbered above MaxAttributes was sent.
	tooManyAttrs bool
}

// request is a parsed call. Its slices alias the body and its scratch
// buffer; it is reused across calls (reset).
type request struct {
	action  []byte
	topic   []byte // decoded TopicArn (or TargetArn)
	single  entry  // Publish
	entries [MaxBatchEntries]entry
	// maxMember is the highest member number seen, tooMany whether one was
	// above MaxBatchEntries (or not a number SNS would number from 1).
	maxMember int
	tooMany   bool
	scratch   []byte // decoded text lives here
}

var errMalformed = errors.New("malformed form body")

func (r *request) reset() {
	scratch := r.scratch[:0]
	*r = request{scratch: scratch}
}

// parse reads body into r.
func (r *request) parse(body []byte) error {
	r.reset()
	// The decoded texts never outgrow the body, so slices of scratch stay
	// valid while it is filled.
	if cap(r.scratch) < len(body) {
		r.scratch = make([]byte, 0, len(body))
	}
	for len(body) > 0 {
		var pair []byte
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			pair, body = body, nil
		}
		if len(pair) == 0 {
			continue
		}
		key, value, _ := bytes.Cut(pair, []byte{'='})
		if err := r.field(key, value); err != nil {
			return err
		}
	}
	return nil
}

const memberPrefix = "PublishBatchRequestEntries.member."

func (r *request) field(key, value []byte) error {
	switch string(key) {
	case "Action":
		r.action = value // action names need no escaping
		return nil
	case "TopicArn", "TargetArn":
		t, err := r.decode(value)
		r.topic = t
		return err
	case "Version":
		return nil
	}
	e := &r.single
	if rest, ok := bytes.CutPrefix(key, []byte(memberPrefix)); ok {
		n, tail, ok := number(rest)
		if !ok {
			return errMalformed
		}
		r.maxMember = max(r.maxMember, n)
		if n < 1 || n > MaxBatchEntries {
			r.tooMany = true
			return nil
		}
		e, key = &r.entries[n-1], tail
	}
	return r.entryField(e, key, value)
}

const attrPrefix = "MessageAttributes.entry."

func (r *request) entryField(e *entry, key, value []byte) error {
	e.set = true
	switch string(key) {
	case "Id":
		id, err := r.decode(value)
		e.id = id
		return err
	case "Message":
		n, err := decodedLen(value)
		e.body, e.bodyLen = value, n
		return err
	case "MessageGroupId":
		e.group = len(value) > 0
		return nil
	case "MessageDeduplicationId":
		e.dedup = len(value) > 0
		return nil
	}
	rest, ok := bytes.CutPrefix(key, []byte(attrPrefix))
	if !ok {
		return nil // Subject, MessageStructure: nothing the counters need
	}
	n, tail, ok := number(rest)
	if !ok {
		return errMalformed
	}
	if n < 1 || n > MaxAttributes {
		e.tooManyAttrs = true
		return nil
	}
	a := &e.attrs[n-1]
	a.set = true
	var err error
	switch string(tail) {
	case "Name":
		a.name, err = r.decode(value)
	case "Value.DataType":
		a.typ, err = r.decode(value)
	case "Value.StringValue":
		a.value = value
		a.valueLen, err = decodedLen(value)
	case "Value.BinaryValue":
		a.value, a.binary = value, true
		var n int
		n, err = decodedLen(value)
		a.valueLen = base64Len(value, n)
	}
	return err
}

// number reads "N." off the front of b: a decimal member or entry number.
func number(b []byte) (n int, rest []byte, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i >= 6 {
			return 0, nil, false
		}
		n = n*10 + int(b[i]-'0')
		i++
	}
	if i == 0 || i >= len(b) || b[i] != '.' {
		return 0, nil, false
	}
	return n, b[i+1:], true
}

// decode percent-decodes v ('+' is a space) into r.scratch and returns the
// text, or v itself when it holds no escape.
func (r *request) decode(v []byte) ([]byte, error) {
	if bytes.IndexByte(v, '%') < 0 && bytes.IndexByte(v, '+') < 0 {
		return v, nil
	}
	start := len(r.scratch)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '+':
			r.scratch = append(r.scratch, ' ')
		case '%':
			if i+2 >= len(v) {
				return nil, errMalformed
			}
			h, l := unhex(v[i+1]), unhex(v[i+2])
			if h < 0 || l < 0 {
				return nil, errMalformed
			}
			r.scratch = append(r.scratch, byte(h<<4|l))
			i += 2
		default:
			r.scratch = append(r.scratch, c)
		}
	}
	return r.scratch[start:], nil
}

// decodedLen is the length v has once percent-decoded.
func decodedLen(v []byte) (int, error) {
	escapes := bytes.Count(v, []byte{'%'})
	if len(v) < 3*escapes {
		return 0, errMalformed
	}
	return len(v) - 2*escapes, nil
}

// base64Len is the decoded length of a standard base64 text of n decoded
// characters whose raw (percent-encoded) form is raw.
func base64Len(raw []byte, n int) int {
	pad := 0
	switch {
	case bytes.HasSuffix(raw, []byte("%3D%3D")) || bytes.HasSuffix(raw, []byte("==")):
		pad = 2
	case bytes.HasSuffix(raw, []byte("%3D")) || bytes.HasSuffix(raw, []byte("=")):
		pad = 1
	}
	return max(0, n/4*3-pad)
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
