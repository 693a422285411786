package wire

// AttributeType is the DataType of the message attributes the package
// writes, String, but for those marked Number (NumberType).
const AttributeType = "String"

// NumberType is the DataType of an Attribute with Number set. It is as
// long as AttributeType, so sizes count both alike.
const NumberType = "Number"

// Attribute is one String message attribute, or with Number set one Number
// attribute whose Value is its decimal text (the extended clients'
// ExtendedPayloadSize).
type Attribute struct {
	Name   string
	Value  string
	Number bool `json:",omitempty"` // golden files of String attributes stay as they were
}

// DataType is a's SNS DataType.
func (a *Attribute) DataType() string {
	if a.Number {
		return NumberType
	}
	return AttributeType
}

// Entry is one message to publish.
type Entry struct {
	// ID names the entry inside one PublishBatch call (Publish ignores it).
	ID         string
	Body       string
	Attributes []Attribute
	// GroupID and DedupID are sent when not empty (MessageGroupId,
	// MessageDeduplicationId): DedupID for FIFO topics only; GroupID for
	// FIFO topics and, for SQS fair queues, standard ones.
	GroupID string
	DedupID string
}

// BatchResult is what SNS answered to a PublishBatch call that succeeded as
// a whole. It is reusable: PublishBatch resets it and keeps its slices'
// capacity. The strings of one answer share one allocation (the answer's
// text), so keeping one of them keeps that text alive.
type BatchResult struct {
	Successful []Success
	Failed     []Failure
	// RequestID is the x-amzn-RequestId of the answer, when SNS sent one.
	RequestID string
}

// Success is an entry SNS accepted.
type Success struct {
	ID             string
	MessageID      string
	SequenceNumber string // FIFO topics only
}

// Failure is an entry SNS rejected while accepting the call.
type Failure struct {
	ID          string
	Code        string
	Message     string
	SenderFault bool
}

// PublishResult is what SNS answered to a Publish call.
type PublishResult struct {
	MessageID      string
	SequenceNumber string // FIFO topics only
	RequestID      string
}

func (r *BatchResult) reset() {
	clear(r.Successful)
	clear(r.Failed)
	r.Successful = r.Successful[:0]
	r.Failed = r.Failed[:0]
	r.RequestID = ""
}
