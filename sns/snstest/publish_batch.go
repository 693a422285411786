// PublishBatch: up to ten entries to one topic in one call. Checked in this
// order: the entry count (EmptyBatchRequest, TooManyEntriesInBatchRequest),
// each entry's Id (InvalidBatchEntryId: 1 to 80 letters, digits, '-' and
// '_'; BatchEntryIdsNotDistinct), that the topic exists (NotFound), and the
// entries' total size against the topic's limit (BatchRequestTooLong); each
// of these fails the whole call, as SNS does. Then each entry is judged on
// its own by the rules of messages.go, injected faults and the topic's quota
// (quota.go), and listed under Successful or Failed of a 200 answer, so one
// bad entry does not stop the others.
//
// Entries of one FIFO message group that partly fail. SNS documents that
// "for FIFO topics, multiple messages within a single batch are published
// in the order they are sent" and that "the result of publishing each
// message is reported individually in the response", the batch "can result
// in a combination of successful and unsuccessful actions" (PublishBatch
// API reference); it documents nothing that fails the later entries of a
// group because an earlier one failed. So the double judges each entry
// alone: a later entry of the group that passes is accepted, with a
// sequence number above those accepted before it in the call, even when an
// earlier entry of its group was refused. moto (checked in its source,
// moto/sns/models.py publish_batch, the local stack's 5.2.5 and its main
// branch, and against the stack) does the same: it publishes entry by entry
// and lists an entry its publish refuses (body too long, a FIFO entry
// without a deduplication id) under Failed, always as InvalidParameter with
// sender fault, without touching the others; it drops an entry that fails
// any other way from both lists (the publisher retries it as NoResult). It
// checks attributes before that, for the whole call: an empty attribute
// value fails the batch with a 400, where the double lists the entry as
// ParameterValueInvalid (the publisher dead-letters only that entry either
// way). The contract suite checks the group behaviour against both ("a
// refused FIFO entry does not hold back its group"). For the bridge this
// means an earlier entry of a key can fail while a later one is delivered:
// the publisher counts that as an order break.

package snstest

import (
	"bytes"
	"cmp"
	"net/url"
	"strconv"
)

// batchFailure is one entry listed under Failed.
type batchFailure struct {
	id      string
	code    string
	message string
	sender  bool
}

func (s *Server) publishBatch(form url.Values) ([]byte, error) {
	arn := form.Get("TopicArn")
	var msgs []Message
	for i := 1; ; i++ {
		p := "PublishBatchRequestEntries.member." + strconv.Itoa(i) + "."
		if _, ok := form[p+"Id"]; !ok {
			if _, ok := form[p+"Message"]; !ok {
				break
			}
		}
		m, err := parseMessage(form, p)
		if err != nil {
			return nil, err
		}
		m.BatchEntryID = form.Get(p + "Id")
		m.TopicARN = arn
		msgs = append(msgs, m)
	}
	switch {
	case len(msgs) == 0:
		return nil, invalid("EmptyBatchRequest", "The batch request doesn't contain any entries")
	case len(msgs) > MaxBatchEntries:
		return nil, invalid("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible")
	}
	ids := make(map[string]struct{}, len(msgs))
	total := 0
	for i := range msgs {
		id := msgs[i].BatchEntryID
		if !validBatchEntryID(id) {
			return nil, invalid("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification")
		}
		if _, dup := ids[id]; dup {
			return nil, invalid("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id")
		}
		ids[id] = struct{}{}
		total += msgs[i].size()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[arn]
	if !ok {
		return nil, invalid("NotFound", "Topic does not exist")
	}
	if total > t.maxSize {
		return nil, invalid("BatchRequestTooLong", "The length of all the messages put together is more than the limit")
	}
	for i := range msgs {
		if f := s.entryFaultLocked("PublishBatch", &msgs[i], wholeFault); f != nil {
			return nil, &apiError{status: cmp.Or(f.Status, errorStatus(f.Code)), code: f.Code,
				message: cmp.Or(f.Message, "injected failure"), sender: f.SenderFault}
		}
	}
	var failed []batchFailure
	for i := range msgs {
		m := &msgs[i]
		if ae := t.validate(m); ae != nil {
			failed = append(failed, batchFailure{m.BatchEntryID, ae.code, ae.message, true})
			continue
		}
		if f := s.entryFaultLocked("PublishBatch", m, perEntryFault); f != nil {
			failed = append(failed, batchFailure{m.BatchEntryID, f.Code, cmp.Or(f.Message, "injected failure"), f.SenderFault})
			m.MessageID = "-"
			continue
		}
		if !t.withinQuota() {
			failed = append(failed, batchFailure{m.BatchEntryID, codeThrottled, messageThrottled, false})
			m.MessageID = "-"
			continue
		}
		s.acceptLocked(t, m)
	}
	return s.respond("PublishBatch", func(b *bytes.Buffer) {
		b.WriteString("<Successful>")
		for i := range msgs {
			m := &msgs[i]
			if m.MessageID == "" || m.MessageID == "-" {
				continue
			}
			b.WriteString("<member>")
			elem(b, "Id", m.BatchEntryID)
			elem(b, "MessageId", m.MessageID)
			if m.SequenceNumber != "" {
				elem(b, "SequenceNumber", m.SequenceNumber)
			}
			b.WriteString("</member>")
		}
		b.WriteString("</Successful><Failed>")
		for _, f := range failed {
			b.WriteString("<member>")
			elem(b, "Id", f.id)
			elem(b, "Code", f.code)
			elem(b, "Message", f.message)
			elem(b, "SenderFault", strconv.FormatBool(f.sender))
			b.WriteString("</member>")
		}
		b.WriteString("</Failed>")
	}), nil
}

func validBatchEntryID(id string) bool {
	if id == "" || len(id) > MaxBatchEntryIDLength {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
