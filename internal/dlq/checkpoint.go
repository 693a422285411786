package dlq

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// checkpointVersion is the layout of the checkpoint file.
const checkpointVersion = 1

// Checkpoint is where replays to one target (destination, cluster and
// dead-letter topics) stand, saved in a file so that an interrupted or
// finished replay can be run again without sending a record twice.
//
// Acknowledged lists, per dead-letter partition, every offset the
// destination acknowledged, whichever selection (filters) sent it: a later
// replay to the same target, with the same or any other filters, never sends
// those again (-restart does).
//
// Selections hold each selection's position, so that running the same
// command again resumes where it stopped instead of reading from the start.
type Checkpoint struct {
	Version int `json:"version"`
	// Target identifies where the replays send and what they read; a replay
	// to another target must not use this file.
	Target       string                       `json:"target"`
	Acknowledged map[string]map[int32]Offsets `json:"acknowledged"`
	Selections   map[string]*SelectionState   `json:"selections"`
	UpdatedAt    time.Time                    `json:"updatedAt"`
}

// SelectionState is one selection's position. Next is, per dead-letter
// partition, the offset after the last record a run looked at. Every lower
// offset (from where the first run started) was acknowledged or not
// selected, except those in Unreplayed: skipped (they would fail the same way
// again), rejected by the destination, or still in flight when the
// checkpoint was written. A later run considers those again, so fixing the
// cause and running the same replay sends them, and -force sends the skipped
// ones.
type SelectionState struct {
	Next       map[string]map[int32]int64   `json:"next"`
	Unreplayed map[string]map[int32][]int64 `json:"unreplayed,omitempty"`
	// Completed is set when a run reached the end offsets it captured.
	Completed bool `json:"completed"`
	// Replayed, Skipped and Failed are totals over the selection's runs.
	Replayed int64 `json:"replayed"`
	Skipped  int64 `json:"skipped"`
	Failed   int64 `json:"failed"`
}

// Offsets is a set of offsets kept as sorted, disjoint, non-adjacent
// [first, last] ranges, so that a long run of acknowledged records costs one
// range.
type Offsets [][2]int64

// Contains reports whether o holds off.
func (o Offsets) Contains(off int64) bool {
	i, _ := slices.BinarySearchFunc(o, off, func(r [2]int64, off int64) int {
		switch {
		case r[1] < off:
			return -1
		case r[0] > off:
			return 1
		}
		return 0
	})
	return i < len(o) && o[i][0] <= off && off <= o[i][1]
}

// Add returns o with off added.
func (o Offsets) Add(off int64) Offsets {
	// i is the first range that ends at or after off-1 (it may absorb off).
	i, _ := slices.BinarySearchFunc(o, off-1, func(r [2]int64, v int64) int { return cmp.Compare(r[1], v) })
	switch {
	case i < len(o) && o[i][0] <= off && off <= o[i][1]:
		return o
	case i < len(o) && o[i][1] == off-1:
		o[i][1] = off
		if i+1 < len(o) && o[i+1][0] == off+1 { // bridges the gap to the next range
			o[i][1] = o[i+1][1]
			o = slices.Delete(o, i+1, i+2)
		}
		return o
	case i < len(o) && o[i][0] == off+1:
		o[i][0] = off
		return o
	default:
		return slices.Insert(o, i, [2]int64{off, off})
	}
}

// NewCheckpoint returns an empty checkpoint for target.
func NewCheckpoint(target string) *Checkpoint {
	return &Checkpoint{
		Version:      checkpointVersion,
		Target:       target,
		Acknowledged: map[string]map[int32]Offsets{},
		Selections:   map[string]*SelectionState{},
	}
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
	if c.Acknowledged == nil {
		c.Acknowledged = map[string]map[int32]Offsets{}
	}
	if c.Selections == nil {
		c.Selections = map[string]*SelectionState{}
	}
	return &c, nil
}

// acknowledged reports whether the destination acknowledged offset off of p.
func (c *Checkpoint) acknowledged(p Partition, off int64) bool {
	return c.Acknowledged[p.Topic][p.Partition].Contains(off)
}

func (c *Checkpoint) acknowledge(p Partition, off int64) {
	if c.Acknowledged[p.Topic] == nil {
		c.Acknowledged[p.Topic] = map[int32]Offsets{}
	}
	c.Acknowledged[p.Topic][p.Partition] = c.Acknowledged[p.Topic][p.Partition].Add(off)
}

// selection returns the state of selection, creating it.
func (c *Checkpoint) selection(selection string) *SelectionState {
	s := c.Selections[selection]
	if s == nil {
		s = &SelectionState{Next: map[string]map[int32]int64{}}
		c.Selections[selection] = s
	}
	if s.Next == nil {
		s.Next = map[string]map[int32]int64{}
	}
	return s
}

// next returns the offset after the last record of p looked at, or -1.
func (s *SelectionState) next(p Partition) int64 {
	if o, ok := s.Next[p.Topic][p.Partition]; ok {
		return o
	}
	return -1
}

func (s *SelectionState) setNext(p Partition, o int64) {
	if s.Next[p.Topic] == nil {
		s.Next[p.Topic] = map[int32]int64{}
	}
	s.Next[p.Topic][p.Partition] = o
}

func (s *SelectionState) unreplayed(p Partition) []int64 { return s.Unreplayed[p.Topic][p.Partition] }

func (s *SelectionState) setUnreplayed(p Partition, offsets []int64) {
	if len(offsets) == 0 {
		if m := s.Unreplayed[p.Topic]; m != nil {
			delete(m, p.Partition)
			if len(m) == 0 {
				delete(s.Unreplayed, p.Topic)
			}
		}
		return
	}
	if s.Unreplayed == nil {
		s.Unreplayed = map[string]map[int32][]int64{}
	}
	if s.Unreplayed[p.Topic] == nil {
		s.Unreplayed[p.Topic] = map[int32][]int64{}
	}
	s.Unreplayed[p.Topic][p.Partition] = offsets
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

// DefaultCheckpointPath is where replays keep their checkpoint when no
// -checkpoint is given: under the user's cache directory,
// kafka-sns-bridge/dlq-replay/<topics>-<hash>.checkpoint, where hash is
// derived from target (destination, cluster, dead-letter topics), so that
// every replay to the same target shares one file whatever its filters.
// Without a cache directory (neither $XDG_CACHE_HOME nor $HOME set) it is
// .bridge-dlq-<topics>-<hash>.checkpoint in the working directory.
func DefaultCheckpointPath(topics []string, target string) string {
	sum := sha256.Sum256([]byte(target))
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
