// Package consumer is the bridge's delivery engine, the first and last stage
// of the pipeline. It consumes the source topics as a member of a Kafka
// consumer group (franz-go, cooperative-sticky balancer, manual commits),
// hands each record to a Translator (avro/ then mapping/) and the resulting
// entries, in runs per ordering scope, to a Publisher (sns/), writes
// permanent failures to a dead-letter
// topic, and commits an offset only when it and every lower offset of its
// partition are published or dead-lettered (shared/spec/delivery.md).
//
// # Order
//
// Records of a partition are translated one at a time in offset order and
// queued by ordering scope: the ordering key (the record key, or the
// event's orgId when the key is empty) and the target topic (Entry.TopicARN;
// for a record that failed translation, the topic it was routed to, if
// any). Order is kept per scope, not per key across topics: subscribers of
// one topic never see another topic's events, and SNS gives no order
// across topics, so an organization's events for a blocked topic do not
// hold back its events for a healthy one. Only the watermark, and so the
// partition's buffer, ties a key's topics together.
//
// A scope hands out runs: up to MaxRunPerKey consecutive events from its
// head, within the publisher's RunLimit (at most 10 entries and the topic's
// size limit), which the publisher sends inside one PublishBatch call, in
// offset order. A strict scope has one run out at a time; its next run
// waits until every event of the previous one is published or
// dead-lettered, so a scope whose publish is being retried parks only that
// scope while others keep flowing. An event the publisher rejects for good
// is dead-lettered while the later events of its run publish (it will
// never be delivered, so that is no order break); a head that failed
// translation is dead-lettered alone before the next run. When an entry of
// a run fails transiently and a later one of the same run is accepted, SNS
// holds the later one already: the publisher counts that order break
// (bridge_order_breaks_total). MaxRunPerKey 1 makes it impossible.
//
// A relaxed scope (Outbound.Relaxed, from a route's "ordering: relaxed",
// standard topics only) has up to MaxInflightPerKey runs out at once; its
// events may reach SNS in any order. A transient translate error holds the
// whole partition (the scope is not known yet), retrying with backoff until
// it succeeds or the partition is revoked.
//
// # Watermark and commits
//
// Per partition the engine keeps every fetched, unfinished record in offset
// order (the ledger). The watermark is one past the last record before the
// first unfinished one; it is committed every CommitInterval (1s), on
// revocation and on shutdown, with the record's leader epoch. After a crash
// the records that finished since the last commit are replayed, and those
// that finished beyond an unfinished one: these, and the records in
// flight, are the only duplicates.
//
// # Bounded memory
//
// Buffers are bounded in bytes as the engine counts them: a record's key,
// value and headers, its translated entry, and its bookkeeping. Records are
// copied out of franz-go's fetch buffers, so that what is counted is what
// is held, and a finished record waiting behind an unfinished one keeps
// only its bookkeeping. A partition holding MaxBufferedBytesPerPartition
// pauses fetching (PauseFetchPartitions) and resumes at half; one poll takes
// about a partition's bound in records, so a partition holds at most about
// twice it. While several partitions have work (records buffered or a
// backlog on the broker), each pauses at its share instead when that is
// less: three quarters of MaxBufferedBytes split among them, never under an
// eighth of its own bound. Their buffers together then stay below the
// engine's, so polling goes on and a partition is refilled as fast as it
// drains; were the engine's budget spent, every partition would get the same
// slice of each fetch response whatever it drains, and one whose keys drain
// faster would run dry. Polling stops while the engine holds MaxBufferedBytes, and
// FetchMaxBytes bounds what franz-go buffers. Each pause is counted by
// reason: hot_key when one scope holds more than half of the buffer (also
// logged at most once a minute per key, the key hashed), topic_blocked
// when events for topics TopicBlocked marked blocked do, buffer otherwise.
//
// # Hot keys
//
// HotKeys reports the keys with the largest backlog, parked longest, and
// with the highest recent rate, with their shares and end-to-end latency
// percentiles, for a debug endpoint. Backlogs come from the scopes; rates
// and latencies are tracked for the heavy hitters only (Space-Saving over 64
// counters with decay), so memory does not grow with the number of keys.
//
// # Rebalances and shutdown
//
// Polls use BlockRebalanceOnPoll and are handed to partitions without
// blocking, so records fetched under one assignment never reach state
// created for a later one. On revocation the engine stops translating and
// goes on handing out only the records below the highest offset it had
// handed out (in order, per scope), waits up to DrainTimeout for them and
// for publishes and dead letters already out, cancels what is left (those
// records stay unfinished and go to the next owner), commits the
// watermarks and drops the state. With a live publisher the watermark thus
// reaches every record that had finished, and the next owner replays
// nothing. The final commit and the drop run under
// the same lock as the periodic commit, and the partitions leave the set the
// periodic commit covers before the drain starts, so a member never commits
// a partition after its revocation returned. Lost partitions are abandoned
// at once and not committed. Shutdown (Run's ctx ending) does the same for
// every owned partition, then closes the client, which leaves the group; a
// static member (InstanceID) then leaves with an explicit LeaveGroup, which
// franz-go never sends for one, so that its partitions move at once.
//
// # Health
//
// Health reports whether the member is in its group (from its first
// assignment until the group is lost or it shuts down), how much owned work
// waits, when work last moved, and which partitions are stalled in
// translation: retrying a transient error, or in one Translate call for
// over a second (a schema registry that does not answer), which is logged
// and counted at once. The committed offset lag of the owned partitions is
// read from the brokers every LagInterval, so it moves while partitions are
// paused; bridge_oldest_unfinished_age_seconds is the lag in seconds.
//
// # Metrics
//
// bridge_records_consumed_total{topic}, bridge_events_delivered_total{topic_arn,event_type},
// bridge_end_to_end_latency_seconds, bridge_dead_letters_total{reason},
// bridge_errors_total{class,reason}, bridge_retries_total{reason},
// bridge_inflight_events, bridge_buffered_bytes, bridge_parked_keys, bridge_keys_at_limit,
// bridge_committed_offset_lag{group,topic,partition}, bridge_oldest_unfinished_age_seconds{group,topic,partition},
// bridge_translate_stalled_partitions, bridge_rebalances_total{kind},
// bridge_paused_partitions, bridge_partition_pauses_total{reason}, bridge_offset_commits_total{result},
// bridge_abandoned_total,
// and with WithClientMetrics franz-go's bridge_kafka_consumer_* and bridge_kafka_dlq_*.
package consumer
