// Package testenv hands integration tests the real services the bridge talks to: Kafka, SNS and
// SQS (moto), and a Confluent-compatible Schema Registry, plus the fixtures every such test needs
// (a fresh Kafka topic, an SNS topic with an SQS queue subscribed to it, a way to read that queue,
// a schema registered under a subject of its own), and the bridge binary run as a child process
// (BridgeBinary, StartBridge, WriteConfig: internal/bridgeproc with the test failed and the
// bridge's log attached on error).
//
// Addresses come from, in order:
//
//  1. the environment: BRIDGE_TEST_KAFKA (comma-separated seed brokers), BRIDGE_TEST_SNS_ENDPOINT
//     (SNS and SQS endpoint URL), BRIDGE_TEST_REGISTRY (registry base URL, e.g.
//     http://127.0.0.1:8081/apis/ccompat/v7), as printed by `scripts/stack.sh env`;
//  2. containers started once per test binary when a Docker daemon answers;
//  3. otherwise the test fails, saying how to start the local stack. It never skips: a test that
//     silently does not run cannot catch anything.
//
// Every fixture gets a name made from the test's name plus a random suffix, so tests (and
// several engineers) can share one running stack, and is deleted in t.Cleanup.
//
// A typical integration test (files tagged `//go:build integration`):
//
//	topic := testenv.Topic(t, 6, nil)                        // Kafka topic, 6 partitions
//	producer := testenv.KafkaClient(t, kgo.DefaultProduceTopic(topic))
//	arn := testenv.SNSTopic(t, true, nil)                    // FIFO SNS topic
//	queue := testenv.SubscribeQueue(t, arn, `{"event_name":["ticket:created"]}`)
//	snsClient := awssns.NewFromConfig(testenv.AWSConfig(t))
//	// ... run the code under test ...
//	msgs := testenv.Receive(t, queue.URL, 10, 30*time.Second) // body + attributes as subscribers see them
//
// Run them with the local stack:
//
//	scripts/stack.sh up && eval "$(scripts/stack.sh env)" && go test -tags integration ./...
//
// This package is only for tests; the bridge itself never imports it.
package testenv
