package backoff

import (
	"testing"
	"time"
)

func TestCapDoublesUpToMax(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{1000, time.Second},
	} {
		if got := p.Cap(tc.failures); got != tc.want {
			t.Errorf("Cap(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

func TestDelayStaysWithinItsCap(t *testing.T) {
	p := Policy{Base: 10 * time.Millisecond, Max: 80 * time.Millisecond}
	for failures := 1; failures < 8; failures++ {
		lo, hi := p.Cap(failures), time.Duration(0)
		for range 2000 {
			d := p.Delay(failures)
			if d < 0 || d > p.Cap(failures) {
				t.Fatalf("Delay(%d) = %v, outside [0, %v]", failures, d, p.Cap(failures))
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter: the delays spread over the whole range.
		if c := p.Cap(failures); lo > c/4 || hi < 3*c/4 {
			t.Errorf("Delay(%d) spread [%v, %v] over a cap of %v: not full jitter", failures, lo, hi, c)
		}
	}
}

func TestSlowStaysInTheUpperHalf(t *testing.T) {
	p := Policy{Base: time.Millisecond, Max: time.Second}
	for range 2000 {
		if d := p.Slow(); d < p.Max/2 || d > p.Max {
			t.Fatalf("Slow() = %v, want within [%v, %v]", d, p.Max/2, p.Max)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		p  Policy
		ok bool
	}{
		{Policy{Base: time.Millisecond, Max: time.Second}, true},
		{Policy{Base: time.Second, Max: time.Second}, true},
		{Policy{Base: 0, Max: time.Second}, false},
		{Policy{Base: 2 * time.Second, Max: time.Second}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}
