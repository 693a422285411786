package main

import (
	"regexp"
	"strconv"
	"testing"
)

// The demo runs the real pipeline; its summary must account for every event:
// each one published or dead-lettered, none lost.
func TestDemoAccountsForEveryEvent(t *testing.T) {
	stdout, stderr, err := runBridge(t, nil, nil, "demo", "-events", "3000", "-poison", "4", "-http", "127.0.0.1:0", "-progress", "200ms", "-samples", "1")
	if err != nil {
		t.Fatalf("demo failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	number := func(label string) int {
		t.Helper()
		m := regexp.MustCompile(`(?m)^  ` + label + `\s+(-?\d+)`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("summary has no %q line:\n%s", label, stdout)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	produced, published, dead, unaccounted := number("produced"), number("published"), number("dead-lettered"), number("unaccounted")
	if produced != 3000 || published+dead != produced || unaccounted != 0 {
		t.Errorf("produced %d, published %d, dead-lettered %d, unaccounted %d", produced, published, dead, unaccounted)
	}
	if dead != 4 {
		t.Errorf("dead-lettered %d, want the 4 poison records", dead)
	}
	if m := regexp.MustCompile(`(?m)^  dead-lettered .*\b[a-z_]+ 0[,)]`).FindString(stdout); m != "" {
		t.Errorf("summary lists reasons nothing was dead-lettered for: %s", m)
	}
	if !regexp.MustCompile(`sample message on arn:aws:sns:`).MatchString(stdout) {
		t.Errorf("no sample message shown:\n%s", stdout)
	}
}
