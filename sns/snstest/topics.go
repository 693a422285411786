// CreateTopic, DeleteTopic and GetTopicAttributes, for what the bridge and
// its tests use of them. CreateTopic checks the name's length (1 to 256) and
// that it ends in ".fifo" exactly when FifoTopic is "true" (not the name's
// characters), takes ContentBasedDeduplication and MaximumMessageSize (1,024
// to 1,048,576 bytes; default sns.DefaultMaxMessageSize), and returns the
// existing topic for a repeated name. DeleteTopic of a missing topic
// succeeds, as SNS's does. GetTopicAttributes answers NotFound for a missing
// topic, else the attributes SNS always returns (no subscriptions, a fixed
// delivery policy) and those given at creation. Not emulated: tags, policies,
// data protection, SetTopicAttributes.

package snstest

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"

	"golang.org/x/time/rate"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// topic is one topic's settings and what it accepted.
type topic struct {
	arn        string
	attrs      map[string]string
	fifo       bool
	contentDup bool
	maxSize    int
	messages   []Message
	count      int
	dedup      map[string]dedupEntry
	dedupOrder []dedupKey
	seq        uint64
	quota      *rate.Limiter // nil: none
}

// CreateTopic creates (or returns) a topic as the CreateTopic action would.
// attrs are SNS topic attributes; FifoTopic "true" needs a ".fifo" name;
// MaximumMessageSize overrides the sns.DefaultMaxMessageSize limit.
func (s *Server) CreateTopic(name string, attrs map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.createTopicLocked(name, attrs)
	if err != nil {
		return "", err
	}
	return t.arn, nil
}

// DeleteTopic deletes a topic and what it recorded.
func (s *Server) DeleteTopic(arn string) {
	s.mu.Lock()
	delete(s.topics, arn)
	s.mu.Unlock()
}

func (s *Server) createTopicLocked(name string, attrs map[string]string) (*topic, error) {
	if name == "" || len(name) > 256 {
		return nil, invalid("InvalidParameter", "Invalid parameter: Topic Name")
	}
	fifo := attrs["FifoTopic"] == "true"
	if fifo != sns.IsFIFO(name) {
		return nil, invalid("InvalidParameter", "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
	}
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.opts.Region, s.opts.AccountID, name)
	if t, ok := s.topics[arn]; ok {
		return t, nil
	}
	t := &topic{arn: arn, attrs: map[string]string{}, fifo: fifo, maxSize: sns.DefaultMaxMessageSize, dedup: map[string]dedupEntry{},
		quota: s.opts.Quota.limiter()}
	for k, v := range attrs {
		t.attrs[k] = v
	}
	t.contentDup = attrs["ContentBasedDeduplication"] == "true"
	if v, ok := attrs["MaximumMessageSize"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > 1<<20 {
			return nil, invalid("InvalidParameter", "Invalid parameter: MaximumMessageSize")
		}
		t.maxSize = n
	}
	s.topics[arn] = t
	return t, nil
}

func (s *Server) createTopic(form url.Values) ([]byte, error) {
	attrs := map[string]string{}
	for i := 1; ; i++ {
		k := form.Get("Attributes.entry." + strconv.Itoa(i) + ".key")
		if k == "" {
			break
		}
		attrs[k] = form.Get("Attributes.entry." + strconv.Itoa(i) + ".value")
	}
	arn, err := s.CreateTopic(form.Get("Name"), attrs)
	if err != nil {
		return nil, err
	}
	return s.respond("CreateTopic", func(b *bytes.Buffer) { elem(b, "TopicArn", arn) }), nil
}

func (s *Server) getTopicAttributes(form url.Values) ([]byte, error) {
	arn := form.Get("TopicArn")
	s.mu.Lock()
	t, ok := s.topics[arn]
	var attrs map[string]string
	if ok {
		attrs = map[string]string{
			"TopicArn":                arn,
			"Owner":                   s.opts.AccountID,
			"DisplayName":             "",
			"SubscriptionsConfirmed":  "0",
			"SubscriptionsPending":    "0",
			"SubscriptionsDeleted":    "0",
			"EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3}}}`,
		}
		if t.fifo {
			attrs["FifoTopic"] = "true"
			attrs["ContentBasedDeduplication"] = strconv.FormatBool(t.contentDup)
		}
		for k, v := range t.attrs {
			attrs[k] = v
		}
	}
	s.mu.Unlock()
	if !ok {
		return nil, invalid("NotFound", "Topic does not exist")
	}
	return s.respond("GetTopicAttributes", func(b *bytes.Buffer) {
		b.WriteString("<Attributes>")
		for k, v := range attrs {
			b.WriteString("<entry>")
			elem(b, "key", k)
			elem(b, "value", v)
			b.WriteString("</entry>")
		}
		b.WriteString("</Attributes>")
	}), nil
}
