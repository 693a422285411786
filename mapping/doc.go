// Package mapping turns one decoded Thena platform event into one SNS message.
//
// It sits between avro and sns in the bridge's pipeline:
//
//	consumer (Kafka record) -> avro (bytes to avro.Event) -> mapping (avro.Event to Message) -> sns (publish)
//
// Everything here is a pure function of its inputs: no I/O, no clocks, no
// randomness. The same record always maps to the same message, byte for byte,
// which is what makes replays safe to de-duplicate and golden files stable.
//
// A Mapper, built once from a Config and what the sns package learnt about
// each topic at start-up (TopicInfo), does four things per event:
//
//   - Route: the first Route whose event-type pattern matches picks the topic
//     ARN; otherwise the default ARN; otherwise a Permanent "unroutable" error.
//   - Envelope: the JSON body is the event's top-level fields in schema order
//     (eventId, eventType, timestamp, orgId, actor, payload, metadata, then any
//     extra fields), metadata left out when absent or null.
//   - Attributes: the six String attributes subscribers filter on, in a fixed
//     order (AttrEventName ... AttrOrganizationID), then the record's W3C
//     trace context (AttrTraceParent, AttrTraceState) when Source carries
//     it well formed (internal/tracecontext decides).
//   - Size: measured exactly as SNS counts it (sns.MessageSize). An event
//     over its topic's limit has its large text fields replaced by a
//     placeholder, largest first, until it fits, or fails with a Permanent
//     "too_large"; or, on a route whose LargeEvents offloads, becomes the
//     AWS extended clients' pointer (PointerBody, AttrExtendedPayloadSize)
//     to its whole body, which Message.Offload says to store in S3 first
//     (Map does no I/O: internal/translate stores it).
//
// Each Route has an Ordering, strict by default. OrderingRelaxed lets the
// delivery engine run several publishes of one key at once (SNS standard
// topics promise no order anyway); NewMapper refuses it on a FIFO topic.
// Message.Route.Relaxed() tells the engine.
//
// Errors are *failure.Error values of class Permanent (missing_field,
// unroutable, too_large): the delivery engine dead-letters the record. Map
// never returns a transient or systemic error, because nothing it does can
// succeed on a retry.
//
// # Decisions the Thena documentation leaves open
//
// Custom object events (type custom-object:*) carry eventData instead of
// payload and their timestamp as a JSON number of Unix milliseconds (the
// documentation says "Unix time"; milliseconds is what the platform's
// JavaScript produces and loses no precision). Their event_timestamp
// attribute is that number in decimal, as the documentation describes it
// ("Unix timestamp of the event"); every other event's is ISO-8601 UTC with
// milliseconds (TimestampLayout). ParseEventTimestamp reads both. A custom
// object timestamp below SecondsThreshold (10^11, March 1973 in
// milliseconds) is most likely seconds: Map publishes it as given and sets
// Message.TimestampLooksLikeSeconds so the caller can count it and tell the
// producer.
//
// A custom object event without an eventId gets one from GeneratedEventID: a
// UUID derived from the record's Kafka position, so that a replayed record
// keeps its id. It is written first in the body (or in place of a null
// eventId) and sent as the event_id attribute and FIFO deduplication id.
//
// All six attributes come from required fields: eventType, eventId (except
// custom objects), the timestamp, actor.id, actor.type and orgId must be
// present and non-empty, otherwise Map fails with missing_field naming the
// field. There is no placeholder for an empty attribute value: SNS refuses
// empty values, and a guessed actor type would mislead subscribers' filters.
//
// Truncation replaces string values only, of the configured field names
// (DefaultLargeFields), at any depth of payload or eventData, with the
// placeholder (DefaultPlaceholder), largest first, one at a time, until the
// message fits. It splices bytes, so key order and everything else in the
// body stay as they were. The paths of the replaced fields (e.g.
// "payload.comment.content", "payload.items[2].description") are returned
// in Message.Truncated and added to the body as metadata.truncatedFields
// (TruncatedFieldsKey), creating the metadata object when the event has none;
// metadata that is not an object is left as it is.
//
// On FIFO topics the message group id is the Kafka record key, or orgId when
// the key is empty (the delivery engine's ordering key), and the
// deduplication id is the eventId. An id SNS would refuse (empty, over 128
// characters, or with characters outside ASCII 0x21-0x7E) is replaced by its
// hex SHA-256, so equal ids still give equal group and deduplication ids.
// A route with FairGroup set gets the same message group id on a standard
// topic (no deduplication id: standard topics refuse one), for SQS fair
// queues.
//
// # Characters
//
// SNS accepts only XML 1.0 characters in valid UTF-8. Map replaces invalid
// UTF-8, C0 control characters other than tab, LF and CR, and U+FFFE and
// U+FFFF with U+FFFD, in attribute values and in the body. It relies on the
// decoder for the JSON structure of avro.Field values (it does not re-parse
// them on the common path), and guarantees only the character rules.
package mapping
