package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unwritable returns a path no one can create a directory at, root
// included: it lies under a regular file.
func unwritable(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(file, "cache")
}

// A pod with a read-only root file system has no writable cache directory
// (HOME is on the image) but a writable /tmp (an emptyDir): the replay
// keeps its checkpoint there without being told, and a second run resumes
// from it.
func TestDLQReplayCheckpointWithoutAWritableHome(t *testing.T) {
	f := newDLQFixture(t)
	tmp := filepath.Join(f.dir, "tmp")
	t.Setenv("XDG_CACHE_HOME", unwritable(t))
	t.Setenv("TMPDIR", tmp)
	ctx := context.Background()
	_, stderr, err := dlqRun(ctx, t, "replay", "-config", f.config, "-to-source")
	if err != nil {
		t.Fatalf("replay with a read-only home: %v\n%s", err, stderr)
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "kafka-sns-bridge", "dlq-replay", dlqTestTopic+"-*.checkpoint"))
	if len(matches) != 1 || !strings.Contains(stderr, matches[0]) {
		t.Fatalf("checkpoints in the temporary directory %v; stderr:\n%s", matches, stderr)
	}
	sent := len(dlqSourceRecords(t, f))
	stdout, _, err := dlqRun(ctx, t, "replay", "-config", f.config, "-to-source")
	if err != nil || !strings.Contains(stdout, "0 replayed") || !strings.Contains(stdout, matches[0]) || len(dlqSourceRecords(t, f)) != sent {
		t.Errorf("second run did not resume from the checkpoint (%v; %d records sent first, %d now):\n%s", err, sent, len(dlqSourceRecords(t, f)), stdout)
	}

	// -checkpoint-dir puts it where it is told, a mounted volume say.
	vol := filepath.Join(f.dir, "volume")
	_, stderr, err = dlqRun(ctx, t, "replay", "-config", f.config, "-to-source", "-checkpoint-dir", vol)
	if err != nil {
		t.Fatalf("replay with -checkpoint-dir: %v\n%s", err, stderr)
	}
	if matches, _ := filepath.Glob(filepath.Join(vol, dlqTestTopic+"-*.checkpoint")); len(matches) != 1 {
		t.Errorf("checkpoints in -checkpoint-dir: %v", matches)
	}
}

// A -checkpoint-dir that cannot be written fails before anything is sent,
// naming the flag and the way out.
func TestDLQReplayRefusesAnUnwritableCheckpointDir(t *testing.T) {
	f := newDLQFixture(t)
	_, _, err := dlqRun(context.Background(), t, "replay", "-config", f.config, "-to-source", "-checkpoint-dir", unwritable(t))
	if err == nil || !strings.Contains(err.Error(), "-checkpoint-dir") || !strings.Contains(err.Error(), "writable") {
		t.Errorf("replay into an unwritable -checkpoint-dir: %v", err)
	}
	if n := len(dlqSourceRecords(t, f)); n != 0 {
		t.Errorf("%d records replayed although the checkpoint could not be kept", n)
	}
	_, _, err = dlqRun(context.Background(), t, "replay", "-config", f.config, "-to-source", "-checkpoint", "x", "-checkpoint-dir", "y")
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("-checkpoint with -checkpoint-dir: %v", err)
	}
}

func TestCheckpointPathPrefersTheOneThatExists(t *testing.T) {
	cache, tmp := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("TMPDIR", tmp)
	topics, target := []string{"thena.events.dlq"}, "to-source brokers=b topics=thena.events.dlq"
	first, err := checkpointPath("", "", topics, target, false)
	if err != nil || !strings.HasPrefix(first, cache) {
		t.Fatalf("with a writable cache: %q, %v; want it under %s", first, err, cache)
	}
	// A checkpoint saved in the temporary directory (the cache was not
	// writable then) is the one a later run resumes from.
	saved := filepath.Join(tmp, checkpointSubdir, filepath.Base(first))
	if err := os.MkdirAll(filepath.Dir(saved), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(saved, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{false, true} {
		if got, err := checkpointPath("", "", topics, target, dry); err != nil || got != saved {
			t.Errorf("dry run %v: %q, %v; want the existing %s", dry, got, err, saved)
		}
	}
}
