//go:build unix

package dlq

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockCheckpoint takes an exclusive lock on path+".lock" so that two replays
// sharing a checkpoint cannot send the same records at once. The lock dies
// with the process, so a crash never leaves a stale one.
func lockCheckpoint(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another replay is using checkpoint %s", path)
		}
		return nil, fmt.Errorf("locking checkpoint %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}
