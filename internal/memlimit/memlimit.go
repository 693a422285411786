// Package memlimit sets the Go runtime's soft memory limit (GOMEMLIMIT)
// from the memory limit of the container the process runs in, when the
// environment sets none. The bridge's main calls Apply first thing, so that
// the heap may use the room the pod has and the collector works harder as
// it nears it, instead of the kernel killing the pod first.
//
// The limit is Ratio of the container's: the rest is for what the Go
// runtime does not count (the binary, C libraries, kernel buffers charged
// to the cgroup) and for the heap overshooting a soft limit briefly. An
// explicit GOMEMLIMIT always wins, and so does GOMEMLIMIT=off. GOGC keeps
// its meaning below the limit (a collection when the heap has grown by
// GOGC percent since the last); GOGC=off with the limit set lets the heap
// grow to the limit before collecting, the most throughput for the memory.
package memlimit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// Ratio is the share of the container's memory limit given to the Go
// runtime.
const Ratio = 0.9

// Apply sets the runtime's memory limit to Ratio of the container's memory
// limit (cgroup v2 memory.max or v1 memory.limit_in_bytes, the lowest along
// the process's cgroup path) unless getenv("GOMEMLIMIT") is set. It returns
// the limit it set, 0 when it set none (GOMEMLIMIT given, no cgroup or no
// limit). An error means the cgroup files could not be read; nothing is
// set then.
func Apply(getenv func(string) string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	limit, err := FromCgroup(os.DirFS("/"))
	if err != nil || limit == 0 {
		return 0, err
	}
	debug.SetMemoryLimit(limit)
	return limit, nil
}

// FromCgroup returns Ratio of the memory limit of the process's cgroup as
// fsys (the file system root) shows it, or 0 when it has none.
func FromCgroup(fsys fs.FS) (int64, error) {
	limit, err := cgroupLimit(fsys)
	if err != nil || limit <= 0 {
		return 0, err
	}
	return int64(float64(limit) * Ratio), nil
}

// unlimited is where a cgroup v1 limit means none (the kernel reports the
// largest page-aligned int64).
const unlimited = 1 << 62

// cgroupLimit returns the lowest memory limit along the process's cgroup
// path, in bytes; 0 when there is none.
func cgroupLimit(fsys fs.FS) (int64, error) {
	raw, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // not Linux, or no /proc
	}
	if err != nil {
		return 0, fmt.Errorf("reading /proc/self/cgroup: %w", err)
	}
	// A v1 memory controller wins over the unified hierarchy: in a hybrid
	// setup it is the one that limits memory.
	var v1, v2 string
	found1, found2 := false, false
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		id, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		controllers, p, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		switch {
		case id == "0" && controllers == "":
			v2, found2 = p, true
		case slices.Contains(strings.Split(controllers, ","), "memory"):
			v1, found1 = p, true
		}
	}
	switch {
	case found1:
		return lowest(fsys, "sys/fs/cgroup/memory", v1, "memory.limit_in_bytes")
	case found2:
		return lowest(fsys, "sys/fs/cgroup", v2, "memory.max")
	}
	return 0, nil
}

// lowest reads file in the cgroup directory p under mount and in each of
// its parents up to the mount's root, and returns the lowest limit found.
// In a container the process's own cgroup is often the mount's root (a
// cgroup namespace, or a bind mount of its cgroup), so p may not exist
// below it; the root's file is read then.
func lowest(fsys fs.FS, mount, p, file string) (int64, error) {
	var best int64
	for dir := path.Clean("/" + p); ; dir = path.Dir(dir) {
		v, err := readLimit(fsys, path.Join(mount, dir, file))
		if err != nil {
			return 0, err
		}
		if v > 0 && (best == 0 || v < best) {
			best = v
		}
		if dir == "/" {
			return best, nil
		}
	}
}

// readLimit reads one limit file: a number of bytes, "max" or a v1 value
// past unlimited for none (0), a missing file as none.
func readLimit(fsys fs.FS, name string) (int64, error) {
	raw, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading /%s: %w", name, err)
	}
	s := strings.TrimSpace(string(raw))
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("/%s holds %q, not a memory limit", name, s)
	}
	if v >= unlimited {
		return 0, nil
	}
	return v, nil
}
