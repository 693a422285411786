//go:build integration

package avro_test

// Under the local stack, fastavro is part of the stack's Python: its absence
// fails TestFastavroAgrees instead of skipping it.
func init() { requireFastavro = true }
