// Package sns is the last stage of the bridge's pipeline: it publishes mapped
// entries to Amazon SNS.
//
//	consumer -> avro -> mapping -> sns
//
// # Publishing
//
// A Publisher collects entries per topic ARN into PublishBatch calls of up
// to ten entries whose sizes add up to at most the topic's maximum message
// size. A batch goes when it is full or when its oldest entry has waited
// Config.Linger; up to Config.MaxInflightBatches calls per topic are on the
// wire at once, which is what keeps throughput up when SNS answers in 15ms.
// Each entry's outcome reaches its done callback exactly once: published,
// rejected for good (Permanent: dead-letter it), or abandoned (its context
// ended, or the publisher closed).
//
// # Errors and retries
//
// Classify is the package's one classifier of SNS errors into the classes of
// internal/failure (the table is in its doc comment). A 200 answer to
// PublishBatch is settled entry by entry: successful entries are done,
// permanently failed ones are done with their SNS code, and the others are
// retried alone. When SNS refuses a whole multi-entry batch for a per-event
// reason (InvalidParameter, BatchRequestTooLong, ...), the publisher sends
// each of its entries again on its own, so that only the guilty entry is
// dead-lettered.
//
// Transient and systemic failures are retried without an attempt limit while
// the entry's context lives: transient ones after a full-jitter exponential
// backoff (after n consecutive failures, uniform in
// [0, min(BackoffMax, BackoffBase*2^(n-1))]), systemic ones after
// BackoffMax/2 to BackoffMax; internal/backoff is the policy. Entries of a batch that failed as a whole
// share one backoff and come back as one batch. The publisher is the only
// retry layer: NewClient gives the SDK client a single attempt per call.
//
// # Circuit breaker
//
// Each topic has a breaker (sony/gobreaker). A call counts against it when
// it fails as a whole with a transient or systemic error, or when every entry
// in it failed with a transient or systemic code (throttling included). A
// call in which any entry was published or permanently rejected counts as a
// success: SNS is reachable and working, and a few throttled entries are
// retried on their own. Permanent errors never count. BreakerFailures
// consecutive failures open the breaker; a single systemic failure (topic
// missing, access denied, KMS key unusable) opens it at once. While it is
// open no call is made for the topic and its entries wait; after
// BreakerOpenTimeout one probe call goes (half-open) and its outcome closes
// or reopens the breaker. WithStateChange and BreakerState let the
// consumer pause the partitions feeding an open topic; half-open means a
// probe is on the wire, so resume only on closed.
//
// # Start-up
//
// NewClient builds the SDK client from the standard AWS chain. Topics checks
// every configured topic with GetTopicAttributes so that a missing or
// forbidden topic stops the bridge with a message naming it, and reports each
// topic's FIFO-ness and size limit for Config.Topics.
//
// Package snstest holds an in-process SNS double that speaks the same wire
// protocol as the real service, for unit tests and benchmarks.
package sns
