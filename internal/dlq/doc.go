// Package dlq is the operator's side of the bridge's dead-letter topics: it
// reads them, filters and summarises what it read, and replays dead letters
// either back to their source topic or straight to SNS, with a checkpoint so
// that an interrupted replay resumes without sending a record twice.
//
//	consumer (writes dead letters) -> Kafka <name>.dlq -> dlq (bridge dlq list | show | replay)
//
// Reading never joins the bridge's consumer group: a Reader consumes the
// dead-letter partitions directly, from their start offsets (or a checkpoint)
// up to the end offsets it captured when it started, and then stops. Records
// that arrive later, such as a replayed record that fails again, wait for the
// next run.
//
// Replay sends to a Destination: KafkaDestination produces each record back
// to its source topic and partition, SNSDestination publishes it through the
// bridge's translator and SNS publisher. `bridge dlq` only builds them from
// its configuration.
//
// The record layout, the header names and their parsing live in
// internal/deadletter, which the consumer writes with; this package reads
// with it and adds only deadletter.HeaderReplayCount, through
// DeadLetter.ReplayRecord, to the records it sends back to a source topic.
package dlq
