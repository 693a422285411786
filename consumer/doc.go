// Package consumer is the bridge's delivery engine, the first and last stage
// of the pipeline. It consumes the source topics as a member of a Kafka
// consumer group (franz-go, cooperative-sticky balancer, manual commits),
// hands each record to a Translator (avro/ then mapping/) and each resulting
// entry to a Publisher (sns/), writes permanent failures to a dead-letter
// topic, and commits an offset only when it and every lower offset of its
// partition are published or dead-lettered (shared/spec/delivery.md).
//
// # Order
//
// Records of a partition are translated one at a time in offset order and
// queued by ordering key: the record key, or the event's orgId when the key
// is empty. Only the head of a key's queue is ever out (with the publisher,
// or with the dead-letter producer), so a key whose publish is being retried
// parks only that key while other keys keep flowing. Dead-lettering a head
// finishes it and the key's next record goes next. A transient translate
// error holds the whole partition (the key is not known yet), retrying with
// backoff until it succeeds or the partition is revoked.
//
// # Watermark and commits
//
// Per partition the engine keeps every fetched, unfinished record in offset
// order (the ledger). The watermark is one past the last record before the
// first unfinished one; it is committed every CommitInterval, on revocation
// and on shutdown, with the record's leader epoch. Records that finished
// beyond an unfinished one are replayed after a crash: these, and the
// records in flight, are the only duplicates.
//
// # Bounded memory
//
// A partition holding MaxBufferedPerPartition unfinished records pauses
// fetching (PauseFetchPartitions) and resumes when half of them finished;
// one poll takes at most that many records, so a partition holds at most
// about twice the bound. Polling stops while MaxInFlight records are
// unfinished in the whole engine, and FetchMaxBytes bounds what franz-go
// buffers. TopicBlocked also pauses the partitions whose unfinished work
// targets a topic whose breaker is open.
//
// # Rebalances and shutdown
//
// Polls use BlockRebalanceOnPoll and are handed to partitions without
// blocking, so records fetched under one assignment never reach state
// created for a later one. On revocation the engine stops translating and
// starting publishes for those partitions, waits up to DrainTimeout for
// publishes and dead letters already out, cancels what is left (those
// records stay unfinished and go to the next owner), commits the
// watermarks and drops the state. The final commit and the drop run under
// the same lock as the periodic commit, and the partitions leave the set the
// periodic commit covers before the drain starts, so a member never commits
// a partition after its revocation returned. Lost partitions are abandoned
// at once and not committed. Shutdown (Run's ctx ending) does the same for
// every owned partition, then closes the client, which leaves the group.
//
// # Metrics
//
// bridge_records_consumed_total{topic}, bridge_events_delivered_total{topic_arn,event_type},
// bridge_end_to_end_latency_seconds, bridge_dead_letters_total{reason},
// bridge_errors_total{class,reason}, bridge_retries_total{reason},
// bridge_inflight_events, bridge_parked_keys, bridge_committed_offset_lag{topic,partition},
// bridge_rebalances_total{kind}, bridge_paused_partitions, bridge_offset_commits_total{result},
// bridge_abandoned_total,
// and with WithClientMetrics franz-go's bridge_kafka_consumer_* and bridge_kafka_dlq_*.
package consumer
