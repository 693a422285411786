// Package translate turns one Kafka record into what the bridge publishes:
// decode the value (avro), map the event to its SNS message (mapping), and
// hand the delivery engine its Outbound (consumer).
//
//	consumer (fetches records) -> translate: avro.Decoder -> mapping.Mapper -> consumer.Outbound -> sns
//
// Every command that turns records into SNS messages uses this one
// Translator: `bridge run` and `bridge demo` as the engine's
// consumer.Translator, `bridge translate` and `bridge dlq show` through
// Explain, `bridge dlq replay` to check and send dead letters, and the
// benchmark harness's reference contenders. The commands only build it: the
// schema source, decoder limits, routing and topic facts come from their
// configuration or flags.
package translate
