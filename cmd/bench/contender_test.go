package main

import (
	"slices"
	"strings"
	"testing"
)

// TestParseContender: every name a user may give reads back to itself, and
// the combinations that cannot work are refused with the reason.
func TestParseContender(t *testing.T) {
	for _, name := range []string{
		"bridge", "bridge-slow-sink", "bridge-fifo", "bridge-fifo-slow-sink", "bridge-relaxed-slow-sink",
		"bridge-quota", "bridge-quota-slow-sink", "bridge-throttle-slow-sink", "bridge-fifo-throttle-slow-sink",
		"base", "base-fifo-quota", "bento", "bento-slow-sink", "bento-quota", "raw-consume", "raw-publish-slow-sink",
		"per-message-slow-sink", "pipeline-throttle",
	} {
		c, err := parseContender(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.String() != name {
			t.Errorf("%s reads as %+v, named %s", name, c, c.String())
		}
	}
	for name, why := range map[string]string{
		"kafka":                  "unknown kind",
		"bridge-slow-sink-fifo":  "unknown kind", // variants in their order only
		"raw-consume-slow-sink":  "no variants",
		"bento-fifo":             "FIFO",
		"raw-publish-fifo":       "FIFO",
		"base-relaxed":           "relaxed",
		"bento-relaxed":          "relaxed",
		"raw-publish-quota":      "does not retry",
		"per-message-throttle":   "does not retry",
		"bridge-quota-throttle":  "unknown kind",
		"bridge-fifo-relaxed":    "unknown kind",
		"bridge-relaxed-fifo":    "unknown kind",
		"-slow-sink":             "unknown kind",
		"bridge-slow-sink-extra": "unknown kind",
	} {
		if _, err := parseContender(name); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v, want an error saying %q", name, err, why)
		}
	}
}

// TestContenderRank: reports list the bridge first, its variants after it,
// then the base revision's and Bento's, then the reference contenders.
func TestContenderRank(t *testing.T) {
	names := []string{"per-message", "bento", "base-slow-sink", "raw-consume", "bridge-throttle-slow-sink", "bridge-fifo", "bridge-slow-sink", "base", "bridge"}
	slices.SortFunc(names, func(a, b string) int { return mustContender(a).rank() - mustContender(b).rank() })
	want := []string{"bridge", "bridge-slow-sink", "bridge-throttle-slow-sink", "bridge-fifo", "base", "base-slow-sink", "bento", "raw-consume", "per-message"}
	if !slices.Equal(names, want) {
		t.Errorf("report order %v, want %v", names, want)
	}
}

// TestCounterparts: with a base revision every bridge contender but relaxed
// also runs as base, and with Bento the standard-order ones also as bento,
// each once.
func TestCounterparts(t *testing.T) {
	var cs []contender
	for _, n := range []string{"bridge", "bridge-slow-sink", "bridge-relaxed-slow-sink", "bridge-fifo", "bridge-quota", "raw-publish", "base"} {
		cs = append(cs, mustContender(n))
	}
	var got []string
	for _, c := range counterparts(cs, true, true) {
		got = append(got, c.String())
	}
	want := []string{"bridge", "bridge-slow-sink", "bridge-relaxed-slow-sink", "bridge-fifo", "bridge-quota", "raw-publish", "base",
		"bento", "base-slow-sink", "bento-slow-sink", "base-fifo", "base-quota", "bento-quota"}
	if !slices.Equal(got, want) {
		t.Errorf("with base and bento: %v\nwant %v", got, want)
	}
	if got := counterparts(cs, false, false); len(got) != len(cs) {
		t.Errorf("without base or bento: %v", got)
	}
}
