// Package sns is the last stage of the bridge's pipeline: it publishes mapped
// entries to Amazon SNS.
//
//	consumer -> avro -> mapping -> sns
//
// A Publisher collects entries per topic ARN into PublishBatch calls (up to
// ten entries and the topic's maximum message size), keeps a bounded number
// of calls in flight per topic, retries transient and systemic failures with
// exponential backoff and full jitter behind one circuit breaker per topic,
// and reports each entry's terminal outcome (published, or rejected for good)
// exactly once through a callback. Classify is the package's one classifier
// of SNS errors into the classes of internal/failure.
//
// NewClient builds the SDK client with a single attempt per call, so that the
// Publisher's retry loop is the only one. Topics validates the configured
// topics at start-up.
//
// Package snstest holds an in-process SNS double that speaks the same wire
// protocol as the real service, for unit tests and benchmarks.
package sns
