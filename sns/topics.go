package sns

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// TopicInfo is what the publisher needs to know about a topic.
type TopicInfo struct {
	// FIFO topics need MessageGroupId and de-duplicate on
	// MessageDeduplicationId.
	FIFO bool
	// MaxMessageSize is the topic's limit on one message and on one batch
	// (body plus attributes), in bytes. Zero means DefaultMaxMessageSize.
	MaxMessageSize int
}

// IsFIFO reports whether a topic ARN (or topic name) is a FIFO topic's: SNS
// requires FIFO topic names to end in ".fifo" and refuses the suffix on
// standard topics, so the name alone decides.
func IsFIFO(arn string) bool { return strings.HasSuffix(arn, ".fifo") }

// ErrTopicUnusable is wrapped by Topics' errors for a topic that is missing
// or that the bridge may not use; the bridge must refuse to start.
var ErrTopicUnusable = errors.New("sns topic unusable")

// Topics reads every topic ARN with GetTopicAttributes, so that a missing or
// forbidden topic stops the bridge at start-up with a message naming it. It
// returns each topic's FIFO-ness (FifoTopic attribute, else the ".fifo"
// suffix) and size limit (MaximumMessageSize, else DefaultMaxMessageSize). All ARNs are
// checked; the error joins one error per unusable topic. Topics blocks for up
// to one call per ARN.
func Topics(ctx context.Context, client API, arns []string) (map[string]TopicInfo, error) {
	infos := make(map[string]TopicInfo, len(arns))
	var errs []error
	for _, arn := range arns {
		if _, seen := infos[arn]; seen {
			continue
		}
		out, err := client.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
		if err != nil {
			errs = append(errs, topicError(arn, err))
			continue
		}
		ti := TopicInfo{
			FIFO:           out.Attributes["FifoTopic"] == "true" || IsFIFO(arn),
			MaxMessageSize: DefaultMaxMessageSize,
		}
		if s, ok := out.Attributes["MaximumMessageSize"]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%w: topic %s has MaximumMessageSize %q, not a positive integer", ErrTopicUnusable, arn, s))
				continue
			}
			ti.MaxMessageSize = n
		}
		infos[arn] = ti
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return infos, nil
}

func topicError(arn string, err error) error {
	fe := Classify(err)
	switch fe.Reason {
	case failure.ReasonTopicMissing:
		return fmt.Errorf("%w: topic %s does not exist (%s): %w", ErrTopicUnusable, arn, fe.Code, err)
	case failure.ReasonForbidden:
		return fmt.Errorf("%w: the bridge's credentials may not use topic %s (%s): %w", ErrTopicUnusable, arn, fe.Code, err)
	}
	return fmt.Errorf("reading attributes of topic %s: %w", arn, fe)
}
