package main

// Where `bridge dlq replay` keeps its checkpoint when -checkpoint does not
// name the file: -checkpoint-dir, else the user's cache directory, else the
// temporary directory, so that a replay from a pod whose root file system
// is read-only (the Deployment's /tmp is an emptyDir) works without flags.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/thena-ai/kafka-sns-bridge/internal/dlq"
)

// checkpointSubdir is the default checkpoints' directory under a base
// directory (the user's cache directory, or the temporary one).
var checkpointSubdir = filepath.Join("kafka-sns-bridge", "dlq-replay")

// checkpointPath picks the checkpoint file of a replay of topics to target.
// file (-checkpoint) wins. Otherwise the file is named by the topics and
// target, in dir (-checkpoint-dir) when given, which must be writable; else
// in the first default directory that already holds it (so a replay
// resumes where it was saved), or else the first one that can be written.
// A dry run writes nothing, so it only looks.
func checkpointPath(file, dir string, topics []string, target string, dryRun bool) (string, error) {
	if file != "" {
		return file, nil
	}
	name := filepath.Base(dlq.DefaultCheckpointPath(topics, target))
	if dir != "" {
		if dryRun {
			return filepath.Join(dir, name), nil
		}
		if err := writableDir(dir); err != nil {
			return "", fmt.Errorf("%w: -checkpoint-dir %s: %v (give a writable directory: in a pod, a mounted emptyDir or volume)", errUsage, dir, err)
		}
		return filepath.Join(dir, name), nil
	}
	candidates := defaultCheckpointDirs()
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil && (dryRun || writableDir(d) == nil) {
			return filepath.Join(d, name), nil
		}
	}
	if dryRun {
		return filepath.Join(candidates[0], name), nil
	}
	var errs []error
	for _, d := range candidates {
		err := writableDir(d)
		if err == nil {
			return filepath.Join(d, name), nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", d, err))
	}
	return "", fmt.Errorf("no writable directory for the replay checkpoint (%w): give -checkpoint-dir DIR or -checkpoint FILE on a writable volume", errors.Join(errs...))
}

// defaultCheckpointDirs are where checkpoints go without -checkpoint-dir,
// in order: the user's cache directory (as before this flag), then the
// temporary directory ($TMPDIR, /tmp), which a locked-down pod mounts
// writable.
func defaultCheckpointDirs() []string {
	var dirs []string
	if c, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(c, checkpointSubdir))
	}
	return append(dirs, filepath.Join(os.TempDir(), checkpointSubdir))
}

// writableDir creates dir if need be and proves a file can be written in
// it, as the checkpoint's atomic save will (a temporary file, then a
// rename).
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return unwrapPath(err)
	}
	f, err := os.CreateTemp(dir, ".probe*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
}
