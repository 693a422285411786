package sns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

var errCall = errors.New("call failed")

// TestCircuit walks the breaker's state machine through the cases that
// decide how fast a topic recovers and how hard a sick SNS is probed.
func TestCircuit(t *testing.T) {
	cfg := circuitConfig{failures: 3, probes: 1, openBase: 100 * time.Millisecond, openMax: 800 * time.Millisecond,
		slow: func() time.Duration { return 20 * time.Second }, hedgeAfter: time.Second, hedges: 2}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	// fail makes one call at start that fails at end.
	fail := func(t *testing.T, c *circuit, start, end time.Duration) {
		t.Helper()
		tk, err := c.allow(at(start))
		if err != nil {
			t.Fatalf("allow at %v: %v", start, err)
		}
		c.done(tk, at(end), errCall, false)
	}

	t.Run("consecutive failures open it; a success in between resets the count", func(t *testing.T) {
		c := newCircuit(cfg, nil)
		fail(t, c, 0, 0)
		fail(t, c, 0, 0)
		tk, _ := c.allow(at(0))
		c.done(tk, at(0), nil, false)
		fail(t, c, 0, 0)
		fail(t, c, 0, 0)
		if st := c.State(at(0)); st != gobreaker.StateClosed {
			t.Fatalf("state %v after 2 failures, want closed", st)
		}
		fail(t, c, 0, 0)
		if st := c.State(at(0)); st != gobreaker.StateOpen {
			t.Fatalf("state %v after 3 consecutive failures, want open", st)
		}
		if _, err := c.allow(at(0)); !errors.Is(err, gobreaker.ErrOpenState) {
			t.Fatalf("allow while open = %v, want ErrOpenState", err)
		}
	})

	t.Run("one systemic failure opens it for the slow period", func(t *testing.T) {
		c := newCircuit(cfg, nil)
		tk, _ := c.allow(at(0))
		c.done(tk, at(0), errCall, true)
		if st := c.State(at(19 * time.Second)); st != gobreaker.StateOpen {
			t.Fatalf("state %v 19 s after a systemic failure, want open for 20 s", st)
		}
		if st := c.State(at(20 * time.Second)); st != gobreaker.StateHalfOpen {
			t.Fatalf("state %v 20 s after a systemic failure, want half-open", st)
		}
	})

	t.Run("open periods double per consecutive opening, up to the cap, plus at most a quarter", func(t *testing.T) {
		for range 50 {
			c := newCircuit(cfg, nil)
			var periods []time.Duration
			now := time.Duration(0)
			for c.State(at(now)) == gobreaker.StateClosed {
				fail(t, c, now, now)
			}
			for range 6 {
				until := c.openUntil()
				periods = append(periods, until.Sub(at(now)))
				now = until.Sub(t0)
				if _, ok := c.ready(at(now)); !ok {
					t.Fatalf("not ready at the end of the open period")
				}
				fail(t, c, now, now) // the probe fails
			}
			base := []time.Duration{100, 200, 400, 800, 800, 800}
			for i, p := range periods {
				lo := base[i] * time.Millisecond
				if p < lo || p > lo+lo/4 {
					t.Fatalf("open periods %v; period %d want in [%v, %v]", periods, i+1, lo, lo+lo/4)
				}
			}
		}
	})

	t.Run("a period counts from the start of the call that opened it", func(t *testing.T) {
		c := newCircuit(cfg, nil)
		fail(t, c, 0, 0)
		fail(t, c, 0, 0)
		// The third call hung for 2 s: longer than any period, so the probe
		// may go at once.
		fail(t, c, 0, 2*time.Second)
		if wait, ok := c.ready(at(2 * time.Second)); !ok {
			t.Fatalf("not ready right after a call that hung longer than the period (wait until %v)", wait)
		}
	})

	t.Run("half-open lets the probes through and a success closes it", func(t *testing.T) {
		c := newCircuit(cfg, nil)
		for range 3 {
			fail(t, c, 0, 0)
		}
		now := c.openUntil().Sub(t0)
		tk, err := c.allow(at(now))
		if err != nil {
			t.Fatalf("probe refused: %v", err)
		}
		if _, err := c.allow(at(now)); !errors.Is(err, gobreaker.ErrTooManyRequests) {
			t.Fatalf("second probe = %v, want ErrTooManyRequests", err)
		}
		if wait, ok := c.ready(at(now)); ok || !wait.Equal(at(now+time.Second)) {
			t.Fatalf("ready with a probe out = %v, %v; want not ready until a second after it went", wait, ok)
		}
		c.done(tk, at(now), nil, false)
		if st := c.State(at(now)); st != gobreaker.StateClosed {
			t.Fatalf("state %v after a successful probe, want closed", st)
		}
		// Closed again: the next opening starts from the base period.
		for range 3 {
			fail(t, c, now, now)
		}
		if p := c.openUntil().Sub(at(now)); p > 125*time.Millisecond {
			t.Fatalf("first period after a close is %v, want the base again", p)
		}
	})

	t.Run("a probe out for long is followed by another each second, two at most", func(t *testing.T) {
		c := newCircuit(cfg, nil)
		for range 3 {
			fail(t, c, 0, 0)
		}
		now := c.openUntil().Sub(t0)
		first, err := c.allow(at(now))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			now += time.Second
			if _, ok := c.ready(at(now)); !ok {
				t.Fatalf("hedge %d not ready a second after the last probe", i+1)
			}
			if _, err := c.allow(at(now)); err != nil {
				t.Fatalf("hedge %d: %v", i+1, err)
			}
		}
		now += time.Second
		if wait, ok := c.ready(at(now)); ok || !wait.IsZero() {
			t.Fatalf("ready with three probes out = %v, %v; want not until one returns", wait, ok)
		}
		if _, err := c.allow(at(now)); !errors.Is(err, gobreaker.ErrTooManyRequests) {
			t.Fatalf("a fourth probe = %v, want ErrTooManyRequests", err)
		}
		// The hung first probe fails: the breaker opens again, and the
		// period, counted from its start, is over: a new probe may go.
		c.done(first, at(now), errCall, false)
		if _, ok := c.ready(at(now)); !ok {
			t.Fatalf("not ready after the first probe timed out %v after it went", 3*time.Second)
		}
	})

	t.Run("a cancelled probe lets another go", func(t *testing.T) {
		c := newCircuit(cfg, nil)
		for range 3 {
			fail(t, c, 0, 0)
		}
		now := at(time.Second)
		tk, _ := c.allow(now)
		c.done(tk, now, fmt.Errorf("publisher closing: %w", context.Canceled), false)
		if _, err := c.allow(now); err != nil {
			t.Fatalf("probe after a cancelled one: %v", err)
		}
	})

	t.Run("answers of calls made before the last change are ignored", func(t *testing.T) {
		var changes []string
		c := newCircuit(cfg, func(from, to gobreaker.State) { changes = append(changes, from.String()+">"+to.String()) })
		var late []ticket
		for range 10 {
			tk, _ := c.allow(at(0))
			late = append(late, tk)
		}
		for _, tk := range late[:3] {
			c.done(tk, at(0), errCall, false)
		}
		now := c.openUntil()
		probe, _ := c.allow(now)
		c.done(probe, now, nil, false)
		for _, tk := range late[3:] {
			c.done(tk, now, errCall, false) // failed calls from before the opening
		}
		if st := c.State(now); st != gobreaker.StateClosed {
			t.Fatalf("state %v: calls from before the opening reopened it", st)
		}
		if want := []string{"closed>open", "open>half-open", "half-open>closed"}; !slices.Equal(changes, want) {
			t.Fatalf("changes %v, want %v", changes, want)
		}
	})
}
