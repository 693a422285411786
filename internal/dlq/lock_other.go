//go:build !unix

package dlq

// lockCheckpoint does nothing where flock is not available.
func lockCheckpoint(string) (func(), error) { return func() {}, nil }
