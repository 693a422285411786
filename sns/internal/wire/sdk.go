package wire

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SDKAPI is the part of the SDK's SNS client that SDK uses; *awssns.Client
// implements it.
type SDKAPI interface {
	PublishBatch(ctx context.Context, in *awssns.PublishBatchInput, opts ...func(*awssns.Options)) (*awssns.PublishBatchOutput, error)
}

// SDK publishes through the SDK's own PublishBatch, with Client's method
// and the same request and result: the fallback for an operator who wants
// the SDK's serializer back (sns.encoder: sdk). Safe for concurrent use
// when API is.
type SDK struct{ API SDKAPI }

// PublishBatch is Client.PublishBatch through the SDK.
func (s SDK) PublishBatch(ctx context.Context, topicARN string, entries []Entry, res *BatchResult) error {
	res.reset()
	in := &awssns.PublishBatchInput{
		TopicArn:                   aws.String(topicARN),
		PublishBatchRequestEntries: make([]types.PublishBatchRequestEntry, len(entries)),
	}
	for i := range entries {
		in.PublishBatchRequestEntries[i] = sdkEntry(&entries[i])
	}
	out, err := s.API.PublishBatch(ctx, in)
	if err != nil {
		return err
	}
	res.RequestID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	for _, e := range out.Successful {
		res.Successful = append(res.Successful, Success{ID: aws.ToString(e.Id), MessageID: aws.ToString(e.MessageId),
			SequenceNumber: aws.ToString(e.SequenceNumber)})
	}
	for _, e := range out.Failed {
		res.Failed = append(res.Failed, Failure{ID: aws.ToString(e.Id), Code: aws.ToString(e.Code),
			Message: aws.ToString(e.Message), SenderFault: e.SenderFault})
	}
	return nil
}

// sdkEntry is e as the SDK's input: what sns/send.go built before this
// package, with GroupID and DedupID sent when not empty.
func sdkEntry(e *Entry) types.PublishBatchRequestEntry {
	re := types.PublishBatchRequestEntry{Id: aws.String(e.ID), Message: aws.String(e.Body)}
	if len(e.Attributes) > 0 {
		re.MessageAttributes = make(map[string]types.MessageAttributeValue, len(e.Attributes))
		for _, a := range e.Attributes {
			re.MessageAttributes[a.Name] = types.MessageAttributeValue{
				DataType: aws.String(a.DataType()), StringValue: aws.String(a.Value)}
		}
	}
	if e.GroupID != "" {
		re.MessageGroupId = aws.String(e.GroupID)
	}
	if e.DedupID != "" {
		re.MessageDeduplicationId = aws.String(e.DedupID)
	}
	return re
}
