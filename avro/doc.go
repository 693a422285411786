// Package avro turns Kafka record values in Confluent wire format into
// Events: the writer schema's top-level fields rendered as natural JSON, the
// form integrators receive, plus the envelope header mapping needs for routing
// and message attributes.
//
// It sits between consumer/ (which hands it record values) and mapping/
// (which builds SNS messages from an Event). Decoding is generic: each writer
// schema, fetched once by id from a SchemaSource (a Confluent Schema Registry
// or a directory of .avsc files), is compiled into a transcoder that writes
// JSON straight from the Avro bytes, so a new event type or event family
// needs a schema, not a code change.
//
// Rendering rules: timestamp-millis and -micros become ISO-8601 UTC strings
// with exactly three fractional digits; date becomes "2006-01-02"; enums
// become strings; a ["null", T] union becomes the value or null, and a record
// field carrying the property "thena.optional": true is left out when null;
// other unions render the chosen value without a wrapper; bytes and fixed
// become base64 strings; decimals become JSON numbers with their exact
// digits; NaN and infinities become null; invalid UTF-8 in strings and map
// keys becomes U+FFFD (each such value is counted in Event.Sanitized, so the
// bridge can report producers that write them). A record named JsonValue whose one field is named value renders as
// that field's value, which is how free-form Record<string, unknown> values
// travel; the event schemas' JsonValue is recursive, and Config.MaxDepth
// bounds how deep a value may nest.
//
// The local directory source (LocalSource) gives each .avsc file the id
// LocalID: the upper 32 bits, masked to a positive int32, of the CRC-64-AVRO
// fingerprint of the schema's Parsing Canonical Form (CanonicalForm, as the
// Avro specification defines it), so a producer in any language computes the
// same id. Several versions of one schema may sit side by side; each file has
// its own id and records decode with the version that wrote them.
//
// Every error is a *failure.Error: bad_magic, unknown_schema, undecodable and
// schema_invalid are Permanent (the event is dead-lettered), registry is
// Transient.
package avro
