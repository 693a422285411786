// Package sns is the last stage of the bridge's pipeline: it publishes mapped
// entries to Amazon SNS.
//
//	consumer -> avro -> mapping -> sns
//
// # Publishing runs
//
// The consumer hands the Publisher runs (PublishRun): consecutive entries
// of one ordering key for one topic, oldest first, at most what RunLimit
// allows (10 entries and the topic's maximum message size together, what
// one PublishBatch call carries). The publisher collects runs per topic ARN
// into PublishBatch calls and never splits a run: a call carries whole
// runs, in order, packed up to ten entries and the size limit (runs of
// other keys that do not fit wait for the next call). SNS publishes the
// entries of a batch in the order they are sent, so a key's run reaches its
// FIFO topic's subscribers in order, up to ten events per round trip.
// Publish is a run of one. A batch goes when it is full or when its oldest
// run has waited Config.Linger (NoLinger: at once); up to
// Config.MaxInflightBatches calls per topic are on the wire at once, which
// is what keeps throughput up when SNS answers in 15ms. Each entry's
// outcome reaches its done callback exactly once: published, rejected for
// good (Permanent: dead-letter it), or abandoned (its context ended, or the
// publisher closed).
//
// # Results inside a run, and order breaks
//
// SNS judges each entry of a batch on its own, FIFO groups included (see
// snstest's publish_batch.go for what SNS documents and moto does). The
// entries of a run before its first transient or systemic failure are done;
// the failed ones are retried together, in order, as one smaller run, and
// are done only when that settles; the caller sends nothing newer of the key
// meanwhile. A later entry of the run that SNS accepted while an earlier one
// failed is done at once: it cannot be un-sent, and subscribers saw it
// before the earlier one. Each such entry is an order break, counted in
// bridge_order_breaks_total{topic_arn} and logged once per run with the key
// hashed (never raw). A permanently rejected earlier entry is no break: that
// event is never delivered. A caller that must never break order sends runs
// of one.
//
// # Errors and retries
//
// Classify is the package's one classifier of SNS errors into the classes of
// internal/failure (the table is in its doc comment). When SNS refuses a
// whole multi-entry call for a per-event reason (InvalidParameter,
// BatchRequestTooLong, ...), the publisher narrows it down: each run in it
// goes again one entry per call, in order, so that only the guilty entry is
// dead-lettered and the others keep their order.
//
// Transient and systemic failures are retried without an attempt limit while
// the run's context lives: transient ones after a full-jitter exponential
// backoff (after n consecutive failures, uniform in
// [0, min(BackoffMax, BackoffBase*2^(n-1))]), throttled ones the same but
// never longer than 100ms, systemic ones after BackoffMax/2 to BackoffMax;
// internal/backoff is the policy. Runs of a call that failed as a whole
// share one backoff and come back together; for a transient failure of the
// whole call (no connection, no answer, a 5xx) it is capped at one second,
// because the breaker, not the runs' backoff, paces calls to an SNS in that
// state. The publisher is the only retry
// layer: NewClient gives the SDK client a single attempt per call.
//
// # Throttling and the send rate
//
// Throttling (Throttled, Throttling, TooManyRequestsException,
// KMSThrottling, HTTP 429; per entry or for the whole call) is SNS asking
// for a lower rate, not SNS failing. Each topic has a token bucket (tokens
// are entries) in front of its calls, unlimited until SNS first throttles
// it. A throttled answer to a call sent after the last cut cuts the limit
// to 90% of the rate SNS was accepting entries at (at most once per round
// trip); throttle-free answers grow it, doubling back up to the rate of the
// last cut, then probing past it slowly at first and faster the longer it
// stays clean; the limit turns off again once it has neither seen
// throttling nor held a call back for 400ms. Never below 100 entries/s. On
// FIFO topics throttling of a single message group (its own 300 messages/s)
// is left to that run's short retry waits and does not slow the topic.
// Config.MaxRatePerTopic, when set, is the limit's ceiling: calls are paced
// to it from the start, throttling still cuts below it, growth stops at it,
// and the limit never turns off.
// bridge_sns_send_rate_limit{topic_arn} shows the limit (0: unlimited) and
// bridge_sns_throttled_total{topic_arn} the throttled entry attempts.
//
// # Circuit breaker
//
// Each topic has a breaker (circuit.go; its states are sony/gobreaker's
// State, which WithStateChange and BreakerState report). A call counts
// against it when it fails as a whole with a transient or systemic error
// other than throttling, or when every entry in it failed that way. A call
// in which any entry was published, rejected for good or throttled counts
// as a success: SNS is reachable and working. Throttling never counts
// against the breaker, so a throttling storm slows the topic but never
// stops it. Permanent errors never count. BreakerFailures consecutive
// failures open the breaker; a single systemic failure (topic missing,
// access denied, KMS key unusable) opens it at once. While it is open no
// call is made for the topic, its runs wait, and their own retry delays are
// set aside: the breaker's probes pace the calls. After the open period
// (BreakerOpenTimeout, doubled with each consecutive opening up to
// BreakerOpenTimeoutMax, plus up to a quarter at random; after a systemic
// failure BackoffMax/2 to BackoffMax) one probe call goes (half-open) and
// its outcome closes or reopens the breaker. The period counts from the
// start of the call that opened the breaker, so a probe that hung is
// followed by the next one at once. With the defaults a sick SNS gets at
// most one call a second per topic, and once it answers again the first
// entry is published within about a second, the rest right after.
// WithStateChange and BreakerState let the consumer pause the partitions
// feeding an open topic; half-open means a probe may go, so resume only on
// closed.
//
// # Hung and refused connections
//
// NewClient's transport abandons a request SNS has not started answering
// within ClientConfig.ResponseTimeout (3s), inside CallTimeout, and closes
// its connection; when the breaker opens on calls that got no answer or no
// connection, the publisher closes the idle connections too, so that the
// probe dials anew instead of reusing a connection that hangs. While a
// probe is out, another goes every second (two at most), each on a new
// connection when the others are busy: a probe hanging on a dead
// connection does not decide how soon a recovered SNS is found, and a probe
// that is merely slow is still waited for. (A hedging probe needs entries
// of its own to carry: with a single waiting run, recovery waits for the
// probe's ResponseTimeout.)
// The runs of a call that failed that way (or with a 5xx) wait at most a
// second before their next attempt.
//
// # Unusable SNS
//
// TopicUnusable reports a topic whose entries wait while its breaker is
// not closed, or while none of its calls has succeeded for CallTimeout;
// bridge_sns_unusable{topic_arn} shows it, and the log says when it
// changes. Unusable, what the bridge's /readyz asks, is SNS unusable for
// everything the publisher holds: some topic unusable and no call to any
// topic succeeded within CallTimeout. A topic whose partitions all paused
// behind another topic gets no call and keeps its breaker closed; it does
// not keep the replica ready.
//
// # Start-up
//
// NewClient builds the SDK client from the standard AWS chain. Topics checks
// every configured topic with GetTopicAttributes so that a missing or
// forbidden topic stops the bridge with a message naming it, and reports each
// topic's FIFO-ness and size limit for Config.Topics.
//
// # On the wire
//
// PublishBatch requests are written by sns/internal/wire (Config.Encoder
// "direct", the default): the form body in one pass into a pooled buffer,
// signed with the SDK's own SigV4 signer and credentials, sent through the
// SDK client's HTTP client to the endpoint the SDK resolves, the answer read
// without reflection. The SDK client stays in charge of credentials, region,
// endpoint resolution and GetTopicAttributes. Config.Encoder "sdk" sends
// them through the SDK's PublishBatch instead, the fallback for one release;
// errors on both paths classify alike (the wire package's tests hold it to
// the SDK).
//
// # Tracing
//
// With WithTracer, each entry accepted by PublishRun gets a span
// ("publish <topic name>", kind producer) that ends with its done: a child
// of the W3C trace context in the entry's traceparent / tracestate
// attributes when it has them, with the OpenTelemetry messaging attributes
// (messaging.message.id is SNS's message id) and the bridge.* ones of
// trace.go (the Kafka record's coordinates from Entry.Source). The entry's
// traceparent attribute is rewritten to name that span (same length for
// version 00, so Entry.Size stays an upper bound), on a copy of the
// attribute slice. Each PublishBatch call gets a span ("send <topic
// name>", kind client) linked to the spans of the entries it carries.
// Without a tracer nothing of this runs.
//
// Package snstest holds an in-process SNS double that speaks the same wire
// protocol as the real service, for unit tests and benchmarks.
package sns
