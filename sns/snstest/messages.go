// One message as a topic receives it, the part Publish and PublishBatch
// share: its form fields and attributes (String, Number and Binary), SNS's
// rules for one message (a body; attribute names, types and values; on FIFO
// topics a group id and a deduplication id or content-based deduplication;
// no deduplication id on standard topics; the size against the topic's
// limit, counted as sns.MessageSize counts it), and acceptance: message ids,
// FIFO sequence numbers and the five-minute de-duplication window. Codes
// and messages follow SNS's; of a message with several problems, the one the
// double names may not be the one SNS would.

package snstest

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// Attribute is one message attribute as received.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Message is a message a topic accepted, or (in a Fault's Entry predicate) a
// message about to be judged.
type Message struct {
	TopicARN       string
	MessageID      string
	SequenceNumber string // FIFO topics only
	Body           string
	Subject        string
	Attributes     map[string]Attribute
	GroupID        string
	DedupID        string
	// BatchEntryID is the entry's Id in its PublishBatch call; empty for Publish.
	BatchEntryID string
}

// dedupKey is a FIFO topic's de-duplication key in the order it was seen,
// so that keys leave the window oldest first.
type dedupKey struct {
	key string
	at  time.Time
}

// dedupEntry is what a repeat of a de-duplication key gets back.
type dedupEntry struct {
	messageID string
	seq       string
	at        time.Time
}

// parseMessage reads one message's fields under prefix ("" for Publish,
// "PublishBatchRequestEntries.member.N." for a batch entry).
func parseMessage(form url.Values, prefix string) (Message, error) {
	m := Message{
		Body:    form.Get(prefix + "Message"),
		Subject: form.Get(prefix + "Subject"),
		GroupID: form.Get(prefix + "MessageGroupId"),
		DedupID: form.Get(prefix + "MessageDeduplicationId"),
	}
	for i := 1; ; i++ {
		p := prefix + "MessageAttributes.entry." + strconv.Itoa(i) + "."
		name, ok := form[p+"Name"]
		if !ok {
			break
		}
		if m.Attributes == nil {
			m.Attributes = make(map[string]Attribute)
		}
		a := Attribute{DataType: form.Get(p + "Value.DataType"), StringValue: form.Get(p + "Value.StringValue")}
		if bv := form.Get(p + "Value.BinaryValue"); bv != "" {
			b, err := base64.StdEncoding.DecodeString(bv)
			if err != nil {
				return m, invalid("ParameterValueInvalid", "The message attribute '%s' has an invalid binary value", name[0])
			}
			a.BinaryValue = b
		}
		m.Attributes[name[0]] = a
	}
	return m, nil
}

// size is the message size as SNS counts it (sns.MessageSize). The double
// takes attributes of every type, which sns.Attribute (always a String)
// cannot hold: a binary value counts as its bytes, and a type longer than
// "String" (a custom suffix such as "Number.float") counts its extra bytes.
func (m *Message) size() int {
	n := sns.MessageSize(m.Body, nil)
	for name, a := range m.Attributes {
		asString := [1]sns.Attribute{{Name: name, Value: a.StringValue}}
		n += sns.MessageSize("", asString[:]) + len(a.BinaryValue) + len(a.DataType) - len("String")
	}
	return n
}

// validate applies SNS's per-message rules.
func (t *topic) validate(m *Message) *apiError {
	if m.Body == "" {
		return invalid("InvalidParameter", "Invalid parameter: Empty message")
	}
	for name, a := range m.Attributes {
		switch {
		case name == "" || len(name) > 256 || strings.HasPrefix(strings.ToLower(name), "aws.") ||
			strings.HasPrefix(strings.ToLower(name), "amazon.") || strings.Contains(name, ".."):
			return invalid("ParameterValueInvalid", "The message attribute name '%s' is invalid", name)
		case a.DataType == "":
			return invalid("ParameterValueInvalid", "The message attribute '%s' must contain a non-empty message attribute type.", name)
		case !validDataType(a.DataType):
			return invalid("ParameterValueInvalid", "The type of message attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		case strings.HasPrefix(a.DataType, "Binary") && len(a.BinaryValue) == 0,
			!strings.HasPrefix(a.DataType, "Binary") && a.StringValue == "":
			return invalid("ParameterValueInvalid", "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
		}
	}
	if t.fifo {
		if m.GroupID == "" {
			return invalid("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
		}
		if m.DedupID == "" && !t.contentDup {
			return invalid("InvalidParameter", "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
	} else if m.DedupID != "" {
		return invalid("InvalidParameter", "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	if n := m.size(); n > t.maxSize {
		return invalid("InvalidParameter", "Invalid parameter: Message too long")
	}
	return nil
}

func validDataType(dt string) bool {
	for _, p := range []string{"String", "Number", "Binary"} {
		if dt == p || strings.HasPrefix(dt, p+".") {
			return true
		}
	}
	return false
}

// accept records m on t (the caller holds s.mu) and returns its id, keeping
// FIFO de-duplication: a repeat inside the window gets the first id back and
// is not delivered again.
func (s *Server) acceptLocked(t *topic, m *Message) {
	now := time.Now()
	if t.fifo {
		key := m.DedupID
		if key == "" {
			key = contentHash(m.Body)
		}
		if d, ok := t.dedup[key]; ok && now.Sub(d.at) < DedupWindow {
			m.MessageID, m.SequenceNumber = d.messageID, d.seq
			return
		}
		t.seq++
		m.SequenceNumber = fmt.Sprintf("%020d", t.seq)
		m.MessageID = s.newID()
		t.dedup[key] = dedupEntry{m.MessageID, m.SequenceNumber, now}
		t.dedupOrder = append(t.dedupOrder, dedupKey{key, now})
		// Forget ids whose window passed, oldest first: O(1) per message.
		for len(t.dedupOrder) > 0 && now.Sub(t.dedupOrder[0].at) >= DedupWindow {
			k := t.dedupOrder[0]
			if d, ok := t.dedup[k.key]; ok && d.at.Equal(k.at) {
				delete(t.dedup, k.key)
			}
			t.dedupOrder[0] = dedupKey{}
			t.dedupOrder = t.dedupOrder[1:]
		}
	} else {
		m.MessageID = s.newID()
	}
	t.count++
	if s.opts.OnAccept != nil {
		m.TopicARN = t.arn
		s.opts.OnAccept(m)
	}
	if !s.opts.CountOnly {
		m.TopicARN = t.arn
		t.messages = append(t.messages, *m)
	}
}

func contentHash(body string) string { return "content:" + body }

func (s *Server) newID() string {
	n := s.nextID.Add(1)
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", n)
}
