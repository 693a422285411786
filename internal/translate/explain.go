package translate

import (
	"context"
	"encoding/json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// Explanation is what one record becomes on SNS, or why it cannot become
// anything: the JSON `bridge translate` prints and `bridge dlq show` embeds.
type Explanation struct {
	OK             bool            `json:"ok"`
	SchemaID       int             `json:"schemaId,omitempty"`
	EventID        string          `json:"eventId,omitempty"`
	EventType      string          `json:"eventType,omitempty"`
	OrgID          string          `json:"orgId,omitempty"`
	TopicARN       string          `json:"topicArn,omitempty"`
	FIFO           bool            `json:"fifo,omitempty"`
	GroupID        string          `json:"messageGroupId,omitempty"`
	DedupID        string          `json:"messageDeduplicationId,omitempty"`
	Size           int             `json:"size,omitempty"`
	MaxMessageSize int             `json:"maxMessageSize,omitempty"`
	Truncated      []string        `json:"truncatedFields,omitempty"`
	Offload        *Offload        `json:"offload,omitempty"`
	Attributes     []Attribute     `json:"attributes,omitempty"`
	Body           json.RawMessage `json:"body,omitempty"`
	Error          *Failure        `json:"error,omitempty"`
}

// Offload is where an offloaded event would be stored: Body is then the
// pointer message, and the stored object the event's whole JSON body, Size
// bytes (the ExtendedPayloadSize attribute).
type Offload struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int    `json:"size"`
	SSE    string `json:"sse,omitempty"`
}

// Attribute is one SNS message attribute as the SNS API shows it.
type Attribute struct {
	Name     string `json:"name"`
	DataType string `json:"dataType"`
	Value    string `json:"value"`
}

// Failure is why a record cannot be published: its class, reason and SNS
// code as internal/failure classifies the error, and the error's text.
type Failure struct {
	Class   string `json:"class"`
	Reason  string `json:"reason"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// Explain translates rec and reports the outcome; it stores nothing (an
// offloaded event shows the pointer it would publish). maxSize is the topic size
// limit the Translator was built with, reported as MaxMessageSize of a
// record that translates.
func (t *Translator) Explain(ctx context.Context, rec *kgo.Record, maxSize int) Explanation {
	var out Explanation
	if id, _, err := avro.ParseWire(rec.Value); err == nil {
		out.SchemaID = id
	}
	msg, ev, err := t.Message(ctx, rec)
	if ev != nil {
		out.EventID, out.EventType, out.OrgID = ev.Header.EventID, ev.Header.EventType, ev.Header.OrgID
	}
	if err != nil {
		out.Error = &Failure{
			Class:   failure.ClassOf(err).String(),
			Reason:  failure.ReasonOf(err),
			Code:    failure.CodeOf(err),
			Message: err.Error(),
		}
		return out
	}
	out.OK = true
	out.EventID, out.EventType, out.OrgID = msg.EventID, msg.EventType, msg.OrgID
	out.TopicARN = msg.Entry.TopicARN
	out.FIFO = sns.IsFIFO(msg.Entry.TopicARN) // a fair_group route sets GroupID on a standard topic too
	out.GroupID, out.DedupID = msg.Entry.GroupID, msg.Entry.DedupID
	out.Size, out.MaxMessageSize = msg.Entry.Size, maxSize
	out.Truncated = msg.Truncated
	if o := msg.Offload; o != nil {
		out.Offload = &Offload{Bucket: o.Bucket, Key: o.Key, Size: len(o.Body), SSE: o.SSE}
	}
	for _, a := range msg.Entry.Attributes {
		out.Attributes = append(out.Attributes, Attribute{Name: a.Name, DataType: a.DataType(), Value: a.Value})
	}
	out.Body = json.RawMessage(msg.Entry.Body)
	return out
}
