//go:build integration

package wire_test

import (
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// TestContractMoto runs the contract against the local stack's SNS (moto),
// reading what topics delivered through subscribed SQS queues. moto does
// not check signatures; TestContractDouble does.
//
//	eval "$(scripts/stack.sh env)"
//	go test -tags integration -run TestContractMoto ./sns/internal/wire/
func TestContractMoto(t *testing.T) {
	cfg := testenv.AWSConfig(t)
	runContract(t, contractStack{
		Endpoint:        testenv.SNSEndpoint(t),
		HTTP:            cfg.HTTPClient,
		MissingTopicARN: "arn:aws:sns:" + testenv.Region + ":123456789012:wire-contract-no-such-topic",
		// As in the sns package's contract: moto checks each body alone. And
		// it is laxer than SNS on batches and FIFO answers.
		Divergences: map[string]string{
			"an oversize batch is refused":      "moto does not limit a PublishBatch's total size (no BatchRequestTooLong)",
			"an empty batch is refused":         "moto answers an empty PublishBatch with an empty result (no EmptyBatchRequest)",
			"FIFO entries get sequence numbers": "moto's PublishBatch answer has no SequenceNumber for FIFO topics",
		},
		NewTopic: func(t *testing.T, fifo bool) (string, func(*testing.T, int, time.Duration) []received) {
			arn := testenv.SNSTopic(t, fifo, nil)
			q := testenv.SubscribeQueue(t, arn, "")
			return arn, func(t *testing.T, n int, wait time.Duration) []received {
				var out []received
				for _, m := range testenv.Receive(t, q.URL, n, wait) {
					out = append(out, received{Body: m.Body, Attributes: m.Attributes, GroupID: m.MessageGroupID,
						DedupID: m.MessageDeduplicationID})
				}
				return out
			}
		},
	})
}
