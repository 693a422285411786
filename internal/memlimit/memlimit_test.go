package memlimit

import (
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"
)

const mib = 1 << 20

func TestFromCgroup(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  int64
		err   string
	}{
		{"v2, the container's own namespace", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("1073741824\n"),
		}, 1024 * mib * 9 / 10, ""},
		{"v2 without a limit", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("max\n"),
		}, 0, ""},
		{"v2, a pod's limit above the container's cgroup", fstest.MapFS{
			"proc/self/cgroup":                          file("0::/kubepods/pod1/c1\n"),
			"sys/fs/cgroup/kubepods/pod1/c1/memory.max": file("max\n"),
			"sys/fs/cgroup/kubepods/pod1/memory.max":    file("536870912\n"),
			"sys/fs/cgroup/memory.max":                  file("max\n"),
		}, 512 * mib * 9 / 10, ""},
		{"v1 memory controller beside the unified hierarchy", fstest.MapFS{
			"proc/self/cgroup": file("9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n"),
			"sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes": file("2147483648\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes":                 file("9223372036854771712\n"),
			"sys/fs/cgroup/memory.max":                                   file("1048576\n"),
		}, 2048 * mib * 9 / 10, ""},
		{"v1, the container's cgroup mounted as the root", fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/docker/abc\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("268435456\n"),
		}, 256 * mib * 9 / 10, ""},
		{"v1 without a limit", fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("9223372036854771712\n"),
		}, 0, ""},
		{"no /proc (not Linux)", fstest.MapFS{}, 0, ""},
		{"a limit file that is not a number", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("lots\n"),
		}, 0, "/sys/fs/cgroup/memory.max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromCgroup(tc.files)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("FromCgroup = %d, %v; want an error naming %s", got, err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatalf("FromCgroup: %v", err)
			case got != tc.want:
				t.Fatalf("FromCgroup = %d, want %d", got, tc.want)
			}
		})
	}
}

// An explicit GOMEMLIMIT wins: Apply leaves the runtime's limit alone.
func TestApplyLeavesAnExplicitLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	set, err := Apply(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "900MiB"
		}
		return ""
	})
	if err != nil || set != 0 || debug.SetMemoryLimit(-1) != before {
		t.Fatalf("Apply with GOMEMLIMIT set = %d, %v, runtime limit %d (was %d); want it untouched",
			set, err, debug.SetMemoryLimit(-1), before)
	}
}
