// Package benchsink is the SNS endpoint the benchmark harness (cmd/bench)
// publishes to: an HTTP server on loopback that speaks SNS's Query protocol
// for Publish and PublishBatch and costs the machine as little as it can, so
// that the figures measure the contender and not the sink. The count-only
// SNS double (sns/snstest) spent 45 to 68 µs of CPU per event, as much as
// the bridge itself; this sink reads only what its counters need (entry ids,
// the sizes SNS limits, the event_id attribute for duplicates and, while
// latency is recorded, event_timestamp) and answers with the smallest
// document the SDK accepts.
//
// Cheap must not mean lenient: a bridge that sends what SNS refuses must not
// look fast. Every call is held to SNS's rules that a publisher can get
// wrong: at most ten entries, distinct valid entry ids, the batch and each
// message within the topic's MaximumMessageSize, a body, at most ten
// attributes each with a name, a known type and a value, and on FIFO topics
// a message group id and a deduplication id (none on standard topics).
// Whatever it refuses it counts by code (Stats.Refused).
//
// It can also play an SNS that pushes back: a per-topic quota (a token
// bucket, entries past it Throttled as SNS answers), a storm of random
// throttling for a while (StartStorm), and a latency added to every answer.
// Other actions (GetTopicAttributes, CreateTopic) are answered by an
// in-process snstest.Server holding the same topics; with Options.Double
// every call goes there instead, for comparing the two sinks' cost.
package benchsink
