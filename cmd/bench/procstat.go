package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// peakRSS is the process's resident set high-water mark (VmHWM), in bytes,
// or 0 once it is gone. The rusage of a waited child is no good for this:
// Go starts children with vfork semantics, so the child's ru_maxrss counts
// the parent's resident memory from before exec.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// selfCPU is this process's user+system CPU time so far, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

// cpuStat is the first line of /proc/stat: jiffies busy and in total, over
// all cores.
type cpuStat struct{ busy, total uint64 }

func readCPUStat() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	f := strings.Fields(firstLine(b)) // cpu user nice system idle iowait irq softirq steal ...
	var st cpuStat
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i >= 8 { // guest time is already in user
			break
		}
		st.total += n
		if i != 3 && i != 4 { // idle, iowait
			st.busy += n
		}
	}
	return st
}

// busySince is the share of all cores that was busy since before.
func (s cpuStat) busySince(before cpuStat) float64 {
	if s.total <= before.total {
		return 0
	}
	return float64(s.busy-before.busy) / float64(s.total-before.total)
}
