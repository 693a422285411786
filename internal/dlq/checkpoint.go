package dlq

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// checkpointVersion is the layout of the checkpoint file.
const checkpointVersion = 1

// Checkpoint is where a replay stands, saved in a file so that an
// interrupted or finished replay can be run again without sending a record
// twice.
//
// Next is, per dead-letter partition, the offset after the last record a run
// looked at. Every lower offset (from where the first run started) was
// acknowledged by the destination or not selected, except those listed in
// Unreplayed: skipped (they would fail the same way again), rejected by the
// destination, or still in flight when the checkpoint was written. A later
// run considers those again, so fixing the cause and running the same replay
// sends them, -force sends the skipped ones, and a record acknowledged out of
// order after an unacknowledged one is never sent twice.
type Checkpoint struct {
	Version int `json:"version"`
	// Selection identifies the replay (destination, topics and filters); a
	// run with another selection must not resume from this file.
	Selection  string                       `json:"selection"`
	Next       map[string]map[int32]int64   `json:"next"`
	Unreplayed map[string]map[int32][]int64 `json:"unreplayed,omitempty"`
	// Completed is set when a run reached the end offsets it captured.
	Completed bool `json:"completed"`
	// Replayed, Skipped and Failed are totals over every run.
	Replayed  int64     `json:"replayed"`
	Skipped   int64     `json:"skipped"`
	Failed    int64     `json:"failed"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewCheckpoint returns an empty checkpoint for selection.
func NewCheckpoint(selection string) *Checkpoint {
	return &Checkpoint{Version: checkpointVersion, Selection: selection, Next: map[string]map[int32]int64{}}
}

// LoadCheckpoint reads the checkpoint at path. A missing file gives
// (nil, nil): nothing was replayed yet.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	var c Checkpoint
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s is not a replay checkpoint: %w", path, err)
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint %s has version %d, this bridge reads version %d", path, c.Version, checkpointVersion)
	}
	if c.Next == nil {
		c.Next = map[string]map[int32]int64{}
	}
	return &c, nil
}

// next returns the first offset of p not yet handled, or -1.
func (c *Checkpoint) next(p Partition) int64 {
	if o, ok := c.Next[p.Topic][p.Partition]; ok {
		return o
	}
	return -1
}

func (c *Checkpoint) setNext(p Partition, o int64) {
	if c.Next[p.Topic] == nil {
		c.Next[p.Topic] = map[int32]int64{}
	}
	c.Next[p.Topic][p.Partition] = o
}

func (c *Checkpoint) unreplayed(p Partition) []int64 { return c.Unreplayed[p.Topic][p.Partition] }

func (c *Checkpoint) setUnreplayed(p Partition, offsets []int64) {
	if len(offsets) == 0 {
		if m := c.Unreplayed[p.Topic]; m != nil {
			delete(m, p.Partition)
			if len(m) == 0 {
				delete(c.Unreplayed, p.Topic)
			}
		}
		return
	}
	if c.Unreplayed == nil {
		c.Unreplayed = map[string]map[int32][]int64{}
	}
	if c.Unreplayed[p.Topic] == nil {
		c.Unreplayed[p.Topic] = map[int32][]int64{}
	}
	c.Unreplayed[p.Topic][p.Partition] = offsets
}

// Save writes the checkpoint to path atomically and durably: a temporary
// file in the same directory is written and fsync'd, renamed over path, and
// the directory is fsync'd, so that a crash leaves the old or the new
// checkpoint, never a torn one.
func (c *Checkpoint) Save(path string) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(raw, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		_ = d.Close()
		if err != nil && !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("saving checkpoint: syncing %s: %w", dir, err)
		}
	}
	return nil
}

// DefaultCheckpointPath is where a replay keeps its checkpoint when no
// -checkpoint is given: under the user's cache directory,
// kafka-sns-bridge/dlq-replay/<topics>-<hash>.checkpoint, where hash is
// derived from the selection, so that each distinct replay (cluster,
// destination, topics, filters) has its own file and running the same
// command again finds it. Without a cache directory (no $HOME and no
// $XDG_CACHE_HOME) it is .bridge-dlq-<topics>-<hash>.checkpoint in the
// working directory.
func DefaultCheckpointPath(topics []string, selection string) string {
	sum := sha256.Sum256([]byte(selection))
	name := strings.Join(topics, "+")
	if len(name) > 120 {
		name = name[:120]
	}
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == os.PathSeparator {
			return '_'
		}
		return r
	}, name) + "-" + hex.EncodeToString(sum[:])[:12] + ".checkpoint"
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "kafka-sns-bridge", "dlq-replay", name)
	}
	return ".bridge-dlq-" + name
}
