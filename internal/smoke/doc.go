// Package smoke holds integration tests that prove each real service of the local stack works
// through the libraries the bridge uses: franz-go against Kafka, aws-sdk-go-v2 against moto's SNS
// and SQS, hamba/avro's registry client against the Schema Registry. When one of these fails, the
// stack (or the library's use of it) is broken, not the bridge.
//
// The tests carry the `integration` build tag:
//
//	scripts/stack.sh up && eval "$(scripts/stack.sh env)"
//	go test -tags integration ./internal/smoke/...
package smoke
