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
//     extra fields), metadata left out when absent or null. Custom object
//     events (custom-object:*) carry eventData instead of payload, their
//     timestamp as Unix milliseconds, and a deterministic eventId when the
//     event has none (see NewEventID).
//   - Attributes: the six String attributes subscribers filter on, in a fixed
//     order (AttrEventName ... AttrOrganizationID).
//   - Size: measured exactly as SNS counts it (see Size). An event over its
//     topic's limit has its large text fields replaced by a placeholder,
//     largest first, until it fits, or fails with a Permanent "too_large".
//
// Errors are *failure.Error values of class Permanent (missing_field,
// unroutable, too_large): the delivery engine dead-letters the record. Map
// never returns a transient or systemic error, because nothing it does can
// succeed on a retry.
//
// Text that reaches SNS obeys SNS's character rules: invalid UTF-8 and
// characters outside the XML character range are replaced with U+FFFD in
// attribute values and in the body.
package mapping
