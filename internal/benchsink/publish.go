// Publish and PublishBatch on the lean path. The rules, in the order SNS
// (and the snstest double, publish_batch.go) applies them: for a batch the
// entry count (EmptyBatchRequest, TooManyEntriesInBatchRequest), each
// entry's Id (InvalidBatchEntryId, BatchEntryIdsNotDistinct), the topic
// (NotFound) and the total size (BatchRequestTooLong) fail the whole call;
// then each message on its own (a body, its attributes, FIFO ids, its
// size), the storm and the quota, each entry listed under Successful or
// Failed. A Publish fails as a whole on any of them.

package benchsink

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// apiError is an SNS error answer.
type apiError struct {
	status  int
	code    string
	message string
	sender  bool
}

func invalid(code, message string) *apiError {
	return &apiError{http.StatusBadRequest, code, message, true}
}

var (
	errNotFound  = &apiError{http.StatusNotFound, "NotFound", "Topic does not exist", true}
	errThrottled = &apiError{http.StatusTooManyRequests, "Throttled", "Rate exceeded", false}
)

func (s *Server) lookup(arn []byte) *topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.topics[string(arn)]
}

// size is the message's size as SNS counts it (sns.MessageSize): the body
// and each attribute's name, type and value.
func (e *entry) size() int {
	n := e.bodyLen
	for i := range e.attrs {
		if a := &e.attrs[i]; a.set {
			n += len(a.name) + len(a.typ) + a.valueLen
		}
	}
	return n
}

// validate applies SNS's rules for one message on t.
func validate(t *topic, e *entry) *apiError {
	if e.bodyLen == 0 {
		return invalid("InvalidParameter", "Invalid parameter: Empty message")
	}
	if e.tooManyAttrs {
		return invalid("InvalidParameterValue", "Number of message attributes exceeds the allowed maximum [10].")
	}
	for i := range e.attrs {
		a := &e.attrs[i]
		if !a.set {
			continue
		}
		switch {
		case len(a.name) == 0 || len(a.name) > 256:
			return invalid("ParameterValueInvalid", "The message attribute name is invalid")
		case !validType(a.typ):
			return invalid("ParameterValueInvalid", "The type of message attribute '"+string(a.name)+"' is invalid.")
		case a.valueLen == 0 || a.binary != bytes.HasPrefix(a.typ, []byte("Binary")):
			return invalid("ParameterValueInvalid", "The message attribute '"+string(a.name)+"' must contain non-empty message attribute value.")
		}
	}
	switch {
	case t.fifo && !e.group:
		return invalid("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
	case t.fifo && !e.dedup:
		return invalid("InvalidParameter", "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	case !t.fifo && e.dedup:
		return invalid("InvalidParameter", "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	case e.size() > t.maxSize:
		return invalid("InvalidParameter", "Invalid parameter: Message too long")
	}
	return nil
}

func validType(t []byte) bool {
	for _, p := range [...]string{"String", "Number", "Binary"} {
		if rest, ok := bytes.CutPrefix(t, []byte(p)); ok && (len(rest) == 0 || rest[0] == '.') {
			return true
		}
	}
	return false
}

func validID(id []byte) bool {
	if len(id) == 0 || len(id) > 80 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// pushback reports whether a message to t sent at now is throttled, by the
// storm or the quota (which then keeps its token: SNS counts only what it
// accepts).
func (s *Server) pushback(t *topic, now time.Time) bool {
	if s.stormHits(now) || t.quota != nil && !t.quota.AllowN(now, 1) {
		s.throttled.Add(1)
		return true
	}
	return false
}

// attrValue is the raw value of e's attribute named name, if any.
func (e *entry) attrValue(name string) []byte {
	for i := range e.attrs {
		if a := &e.attrs[i]; a.set && string(a.name) == name {
			return a.value
		}
	}
	return nil
}

// identity is what tells e's event from others: its event_id, or its body
// when it has none (a publisher that sends "null").
func (e *entry) identity() []byte {
	if id := e.attrValue("event_id"); len(id) > 0 && string(id) != "null" {
		return id
	}
	return e.body
}

func (s *Server) acceptEntry(r *request, e *entry, now time.Time) {
	s.accept(now, e.identity(), func() (time.Time, bool) {
		ts, err := r.decode(e.attrValue("event_timestamp"))
		if err != nil {
			return time.Time{}, false
		}
		return parseEventTime(string(ts))
	})
}

// publish answers a parsed Publish into wk.out and returns the status.
func (s *Server) publish(wk *work) int {
	r := &wk.req
	e := &r.single
	t := s.lookup(r.topic)
	if t == nil {
		return s.fail(wk, errNotFound)
	}
	if ae := validate(t, e); ae != nil {
		return s.fail(wk, ae)
	}
	now := time.Now()
	if s.pushback(t, now) {
		return s.errorAnswer(wk, errThrottled)
	}
	s.acceptEntry(r, e, now)
	b := append(wk.out[:0], `<PublishResponse xmlns="`+xmlns+`"><PublishResult><MessageId>`...)
	b = s.appendID(b)
	b = append(b, "</MessageId>"...)
	if t.fifo {
		b = appendSeq(b, t)
	}
	b = append(b, "</PublishResult>"...)
	b = s.appendMetadata(b)
	wk.out = append(b, "</PublishResponse>"...)
	return http.StatusOK
}

// publishBatch answers a parsed PublishBatch into wk.out and returns the
// status.
func (s *Server) publishBatch(wk *work) int {
	r := &wk.req
	n := r.maxMember
	switch {
	case r.tooMany:
		return s.fail(wk, invalid("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible"))
	case n == 0:
		return s.fail(wk, invalid("EmptyBatchRequest", "The batch request doesn't contain any entries"))
	}
	entries := r.entries[:n]
	for i := range entries {
		if !validID(entries[i].id) {
			return s.fail(wk, invalid("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification"))
		}
		for j := range i {
			if bytes.Equal(entries[i].id, entries[j].id) {
				return s.fail(wk, invalid("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id"))
			}
		}
	}
	t := s.lookup(r.topic)
	if t == nil {
		return s.fail(wk, errNotFound)
	}
	total := 0
	for i := range entries {
		total += entries[i].size()
	}
	if total > t.maxSize {
		return s.fail(wk, invalid("BatchRequestTooLong", "The length of all the messages put together is more than the limit"))
	}
	var failed [MaxBatchEntries]*apiError
	for i := range entries {
		failed[i] = validate(t, &entries[i])
	}
	now := time.Now()
	b := append(wk.out[:0], `<PublishBatchResponse xmlns="`+xmlns+`"><PublishBatchResult><Successful>`...)
	for i := range entries {
		e := &entries[i]
		if failed[i] != nil {
			s.refuse(failed[i].code, 1)
			continue
		}
		if s.pushback(t, now) {
			failed[i] = errThrottled
			continue
		}
		s.acceptEntry(r, e, now)
		b = append(b, "<member><Id>"...)
		b = append(b, e.id...) // validID: nothing to escape
		b = append(b, "</Id><MessageId>"...)
		b = s.appendID(b)
		b = append(b, "</MessageId>"...)
		if t.fifo {
			b = appendSeq(b, t)
		}
		b = append(b, "</member>"...)
	}
	b = append(b, "</Successful><Failed>"...)
	for i := range entries {
		if f := failed[i]; f != nil {
			b = append(b, "<member><Id>"...)
			b = append(b, entries[i].id...)
			b = append(b, "</Id><Code>"...)
			b = append(b, f.code...)
			b = append(b, "</Code><Message>"...)
			b = appendEscaped(b, f.message)
			b = append(b, "</Message><SenderFault>"...)
			b = strconv.AppendBool(b, f.sender)
			b = append(b, "</SenderFault></member>"...)
		}
	}
	b = append(b, "</Failed></PublishBatchResult>"...)
	b = s.appendMetadata(b)
	wk.out = append(b, "</PublishBatchResponse>"...)
	return http.StatusOK
}

// fail counts a call refused as a whole and answers it.
func (s *Server) fail(wk *work, ae *apiError) int {
	s.refuse(ae.code, 1)
	return s.errorAnswer(wk, ae)
}

const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

// errorAnswer writes SNS's error document for ae into wk.out and returns
// its status.
func (s *Server) errorAnswer(wk *work, ae *apiError) int {
	typ := "Sender"
	if !ae.sender {
		typ = "Receiver"
	}
	b := append(wk.out[:0], `<ErrorResponse xmlns="`+xmlns+`"><Error><Type>`+typ+`</Type><Code>`...)
	b = append(b, ae.code...)
	b = append(b, "</Code><Message>"...)
	b = appendEscaped(b, ae.message)
	b = append(b, "</Message></Error><RequestId>"...)
	b = s.appendID(b)
	wk.out = append(b, "</RequestId></ErrorResponse>"...)
	return ae.status
}

func writeXML(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"text/xml"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away
}

func (s *Server) appendMetadata(b []byte) []byte {
	b = append(b, "<ResponseMetadata><RequestId>"...)
	b = s.appendID(b)
	return append(b, "</RequestId></ResponseMetadata>"...)
}

// appendID appends a fresh UUID-shaped id.
func (s *Server) appendID(b []byte) []byte {
	n := s.nextID.Add(1)
	b = append(b, "00000000-0000-4000-8000-"...)
	const hex = "0123456789abcdef"
	for i := 11; i >= 0; i-- {
		b = append(b, hex[(n>>(4*uint(i)))&15])
	}
	return b
}

func appendSeq(b []byte, t *topic) []byte {
	b = append(b, "<SequenceNumber>"...)
	seq := strconv.AppendUint(nil, t.seq.Add(1), 10)
	for range 20 - len(seq) {
		b = append(b, '0')
	}
	b = append(b, seq...)
	return append(b, "</SequenceNumber>"...)
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '\'':
			b = append(b, "&apos;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// parseEventTime reads an event_timestamp attribute, either form
// (mapping.ParseEventTimestamp).
func parseEventTime(v string) (time.Time, bool) {
	t, err := mapping.ParseEventTimestamp(v)
	return t, err == nil
}
