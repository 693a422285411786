package tracecontext

import (
	"strings"
	"testing"
)

const good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestValidTraceParent(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{
		{good, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true}, // not sampled still propagates
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", false}, // version 00 is exactly 55
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", false},
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false},
		{"", false},
		{strings.Repeat("0", 55), false},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-a\x00", false},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-" + strings.Repeat("a", 250), false},
	} {
		if got := ValidTraceParent([]byte(tt.v)); got != tt.want {
			t.Errorf("ValidTraceParent(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestValidTraceState(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{
		{"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", true},
		{strings.Repeat("a", MaxTraceStateLen), true},
		{strings.Repeat("a", MaxTraceStateLen+1), false},
		{"", false},
		{" , ", false},
		{"k=v\n", false},
		{"k=vé", false},
	} {
		if got := ValidTraceState([]byte(tt.v)); got != tt.want {
			t.Errorf("ValidTraceState(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// FuzzValidTraceParent: whatever the bytes, an accepted value is safe to
// send as an SNS String attribute (printable ASCII) and at least 55 long.
func FuzzValidTraceParent(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"))
	f.Add([]byte("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		if !ValidTraceParent(v) {
			return
		}
		if len(v) < 55 {
			t.Fatalf("accepted %q of %d bytes", v, len(v))
		}
		for _, c := range v {
			if c < 0x21 || c > 0x7e {
				t.Fatalf("accepted %q with byte %#x", v, c)
			}
		}
	})
}
