// Package consumer is the bridge's delivery engine, the first and last stage
// of the pipeline. It consumes the source topics as a member of a Kafka
// consumer group (franz-go, cooperative-sticky, manual commits), hands each
// record to a Translator (avro/ then mapping/) and each resulting entry to a
// Publisher (sns/), writes permanent failures to a dead-letter topic, and
// commits an offset only when it and every lower offset of its partition
// are published or dead-lettered (shared/spec/delivery.md).
//
// Order: records of a partition are translated in offset order and queued
// by ordering key (the record key, or the event's orgId when the key is
// empty). Only the head of a key's queue is ever out, so a key whose publish
// is being retried parks only that key; other keys keep flowing until the
// partition's buffer (MaxBufferedPerPartition) is full, and then the
// partition pauses fetching until half of it has drained.
//
// Watermark: per partition the engine keeps every fetched, unfinished record
// in offset order; the commit point is one past the last record before the
// first unfinished one. It is committed every CommitInterval, on revocation
// and on shutdown, and only while the partition is owned.
package consumer
