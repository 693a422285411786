//go:build integration

package sns_test

import (
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// TestContractMoto runs the contract suite against the local stack's SNS
// (moto), reading what topics delivered through subscribed SQS queues.
//
//	scripts/stack.sh up && eval "$(scripts/stack.sh env)"
//	go test -tags integration -run TestContractMoto ./sns/
func TestContractMoto(t *testing.T) {
	runContract(t, contractStack{
		Endpoint:        testenv.SNSEndpoint(t),
		MissingTopicARN: "arn:aws:sns:" + testenv.Region + ":123456789012:bridge-contract-no-such-topic",
		// moto (checked against the local stack's image) is laxer than SNS
		// on sizes: it checks each body alone, never a batch's total and
		// never attributes. It also accepts empty bodies and batch entry ids
		// with characters SNS refuses; the double keeps SNS's rules.
		Divergences: map[string]string{
			"oversize batch is refused, permanent": "moto does not limit a PublishBatch's total size (no BatchRequestTooLong)",
			"message size counts attributes":       "moto counts only the body against the 256 KiB limit",
		},
		NewTopic: func(t *testing.T, fifo bool) (string, func(*testing.T, int, time.Duration) []received) {
			arn := testenv.SNSTopic(t, fifo, nil)
			q := testenv.SubscribeQueue(t, arn, "")
			return arn, func(t *testing.T, n int, wait time.Duration) []received {
				var out []received
				for _, m := range testenv.Receive(t, q.URL, n, wait) {
					out = append(out, received{Body: m.Body, Attributes: m.Attributes, GroupID: m.MessageGroupID})
				}
				return out
			}
		},
	})
}
