// Publish: one message to a topic, named by TopicArn (or TargetArn), with
// the per-message rules of messages.go, the topic's quota (a refused
// message fails the call: 429 Throttled) and FIFO de-duplication; the answer
// carries the MessageId and, on FIFO topics, the SequenceNumber. Entry faults
// fail the whole call. Not emulated: PhoneNumber, MessageStructure "json",
// and delivery to subscriptions.

package snstest

import (
	"bytes"
	"net/url"
)

func (s *Server) publish(form url.Values) ([]byte, error) {
	arn := form.Get("TopicArn")
	if arn == "" {
		arn = form.Get("TargetArn")
	}
	m, err := parseMessage(form, "")
	if err != nil {
		return nil, err
	}
	m.TopicARN = arn
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[arn]
	if !ok {
		return nil, invalid("NotFound", "Topic does not exist")
	}
	if ae := t.validate(&m); ae != nil {
		return nil, ae
	}
	if f := s.entryFaultLocked("Publish", &m, anyFault); f != nil {
		return nil, &apiError{status: errorStatus(f.Code), code: f.Code, message: f.Message, sender: f.SenderFault}
	}
	if !t.withinQuota() {
		return nil, &apiError{status: errorStatus(codeThrottled), code: codeThrottled, message: messageThrottled}
	}
	s.acceptLocked(t, &m)
	return s.respond("Publish", func(b *bytes.Buffer) {
		elem(b, "MessageId", m.MessageID)
		if m.SequenceNumber != "" {
			elem(b, "SequenceNumber", m.SequenceNumber)
		}
	}), nil
}
