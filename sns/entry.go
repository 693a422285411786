package sns

import "github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"

// Attribute is one SNS message attribute. The bridge sends String
// attributes, and one Number (Number set: an offloaded event's
// ExtendedPayloadSize), in a fixed order so that sizes and tests are
// deterministic.
// It is the wire encoder's type, so entries go to it without copying.
type Attribute = wire.Attribute

// Entry is one message ready for SNS: the result of mapping one event.
type Entry struct {
	TopicARN   string
	Body       string
	Attributes []Attribute
	// GroupID is the MessageGroupId: required on FIFO topics, and on a
	// standard topic what SQS fair queues subscribed to it group by
	// (mapping sets it for routes with fair_group). DedupID is sent to
	// FIFO topics only.
	GroupID string
	DedupID string
	// Size is MessageSize(Body, Attributes), computed by mapping; zero means
	// the publisher computes it.
	Size int
	// ID identifies the entry inside one PublishBatch call; the publisher sets it.
	ID string
	// EventType is the event's type (e.g. "ticket:created"), used only as a
	// metric label and span attribute; optional.
	EventType string
	// Source is the Kafka record the entry was mapped from, for the span
	// of its publish; optional.
	Source Source
}

// Source is where an entry's event was read from: a Kafka record's
// coordinates.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
}

// MaxMessageAttributes is the most message attributes SNS takes on one
// message.
const MaxMessageAttributes = 10

// Result is the terminal outcome of publishing one Entry. Exactly one of
// MessageID and Err is set. Err is a *failure.Error of class Permanent (the
// event must be dead-lettered) or the context's error when the publish was
// abandoned (partition revoked, shutdown); transient and systemic errors are
// retried by the publisher and never reach a Result.
type Result struct {
	MessageID string
	Err       error
	// Attempts is how many PublishBatch calls carried this entry.
	Attempts int
}

// MessageSize is the size of a message as SNS counts it against a topic's
// MaximumMessageSize, and a PublishBatch call's entries together against the
// same limit: the body's bytes plus, for every attribute, the bytes of its
// name, its type ("String" or "Number", both six bytes) and its value.
func MessageSize(body string, attrs []Attribute) int {
	n := len(body)
	for _, a := range attrs {
		n += len(a.Name) + len(attributeType) + len(a.Value)
	}
	return n
}

// attributeType is the SNS data type of the bridge's attributes; a Number
// one's type is as long (checked below).
const attributeType = wire.AttributeType

var _ [len(wire.AttributeType) - len(wire.NumberType)]struct{}
