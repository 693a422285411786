// Package e2e proves the bridge's delivery guarantees (shared/spec/delivery.md)
// end to end: the real `bridge run` binary, built once per test binary and run
// as a child process, against the real local stack (Kafka, the Apicurio schema
// registry, moto's SNS and SQS), and, where moto is too slow for the volume a
// proof needs, against the in-process SNS double (sns/snstest) served over
// loopback HTTP with the real Kafka.
//
// The tests are tagged `integration` and need the stack:
//
//	scripts/stack.sh up && eval "$(scripts/stack.sh env)"
//	go test -tags integration -count=1 -p 1 ./e2e/
//
// Each test makes its own topics, queues and consumer group, bounds itself
// with a deadline, stops every bridge it started, and attaches the tail of a
// bridge's stderr to a failure.
package e2e
