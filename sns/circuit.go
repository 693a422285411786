// The circuit breaker's state machine, on its own: closed, open for a
// period that grows with consecutive openings, half-open with a bounded
// number of probe calls. What counts against it is decided in breaker.go
// (verdict); this file only counts.

package sns

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/backoff"
)

// circuitConfig is a circuit's settings.
type circuitConfig struct {
	// failures consecutive failed calls open a closed circuit.
	failures uint32
	// probes is how many calls a half-open circuit lets through; as many
	// successes close it.
	probes uint32
	// openBase and openMax shape the open period: the n-th consecutive
	// opening without a close lasts min(openMax, openBase*2^(n-1)) plus up
	// to a quarter more, drawn uniformly (jitter, so that topics and
	// replicas do not probe in step).
	openBase, openMax time.Duration
	// slow is the open period after a systemic failure, which a quick probe
	// cannot fix.
	slow func() time.Duration
	// hedgeAfter and hedges: while half-open and the probes are out, one
	// more probe may go each hedgeAfter since the last, up to hedges more
	// than probes: a probe that hangs on a dead connection does not hold
	// back the one that would find SNS answering on a new connection, and
	// a probe that is merely slow is still waited for.
	hedgeAfter time.Duration
	hedges     uint32
}

// circuit is a topic's circuit breaker. Closed, calls go; failures
// consecutive failed calls, or one systemic failure, open it. Open, no call
// goes until its open period, counted from the start of the call that
// opened it, has passed: a call that hung longer than the period is
// followed by a probe at once. Then half-open: up to probes calls go; as
// many successes close it, one failure opens it again for a longer period.
// While the probes are out, one more may go every hedgeAfter (up to hedges
// more), so that a probe hanging on a dead connection does not decide how
// soon a recovered SNS is found.
// The answer of a call made before the last state change is ignored, so
// that the calls in flight when the circuit opened do not reopen it. Safe
// for concurrent use.
type circuit struct {
	cfg      circuitConfig
	onChange func(from, to gobreaker.State) // called with mu held: record only

	mu        sync.Mutex
	state     gobreaker.State
	gen       uint64    // changes with the state
	failures  uint32    // closed: consecutive failed calls
	openings  int       // consecutive openings since the circuit last closed
	until     time.Time // open: when it turns half-open
	probes    uint32    // half-open: probes out
	lastProbe time.Time // half-open: when the last probe went
	successes uint32    // half-open: probes that succeeded
}

// ticket is a call the circuit let through.
type ticket struct {
	gen   uint64
	start time.Time
}

func newCircuit(cfg circuitConfig, onChange func(from, to gobreaker.State)) *circuit {
	cfg.failures = max(cfg.failures, 1)
	cfg.probes = max(cfg.probes, 1)
	cfg.openMax = max(cfg.openMax, cfg.openBase)
	return &circuit{cfg: cfg, onChange: onChange}
}

// State returns the circuit's state at now.
func (c *circuit) State(now time.Time) gobreaker.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickLocked(now)
	return c.state
}

// ready reports whether a call may go at now. If not, wait is when to ask
// again (an open period's end, or when a hedging probe may go); zero means
// when a probe on the wire returns.
func (c *circuit) ready(now time.Time) (wait time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickLocked(now)
	switch {
	case c.state == gobreaker.StateOpen:
		return c.until, false
	case c.state == gobreaker.StateHalfOpen && c.probes >= c.cfg.probes:
		if c.probes >= c.cfg.probes+c.cfg.hedges || c.cfg.hedgeAfter <= 0 {
			return time.Time{}, false
		}
		if at := c.lastProbe.Add(c.cfg.hedgeAfter); now.Before(at) {
			return at, false
		}
	}
	return time.Time{}, true
}

// openUntil returns when an open circuit turns half-open; zero when it is
// not open.
func (c *circuit) openUntil() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != gobreaker.StateOpen {
		return time.Time{}
	}
	return c.until
}

// allow lets a call through at now, or refuses it with gobreaker's
// ErrOpenState or ErrTooManyRequests (half-open, probes out).
func (c *circuit) allow(now time.Time) (ticket, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickLocked(now)
	switch c.state {
	case gobreaker.StateOpen:
		return ticket{}, gobreaker.ErrOpenState
	case gobreaker.StateHalfOpen:
		if c.probes >= c.cfg.probes && (c.probes >= c.cfg.probes+c.cfg.hedges || c.cfg.hedgeAfter <= 0 ||
			now.Before(c.lastProbe.Add(c.cfg.hedgeAfter))) {
			return ticket{}, gobreaker.ErrTooManyRequests
		}
		c.probes++
		c.lastProbe = now
	}
	return ticket{gen: c.gen, start: now}, nil
}

// done records the outcome of tk's call at now: err nil is a success, a
// context.Canceled error neither (the publisher gave up on it), anything
// else a failure; systemic opens a closed circuit at once and makes the
// open period the slow one.
func (c *circuit) done(tk ticket, now time.Time, err error, systemic bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickLocked(now)
	if tk.gen != c.gen {
		return
	}
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		if c.state == gobreaker.StateHalfOpen {
			c.probes-- // another probe may go
		}
	case err == nil:
		switch c.state {
		case gobreaker.StateClosed:
			c.failures = 0
		case gobreaker.StateHalfOpen:
			c.successes++
			if c.successes >= c.cfg.probes {
				c.openings = 0
				c.setLocked(gobreaker.StateClosed)
			}
		}
	default:
		switch c.state {
		case gobreaker.StateClosed:
			c.failures++
			if systemic || c.failures >= c.cfg.failures {
				c.openLocked(tk.start, now, systemic)
			}
		case gobreaker.StateHalfOpen:
			c.openLocked(tk.start, now, systemic)
		}
	}
}

// openLocked opens the circuit for the next open period, counted from
// start, the opening call's start, but never ending before now.
func (c *circuit) openLocked(start, now time.Time, systemic bool) {
	c.openings++
	var d time.Duration
	if systemic {
		d = c.cfg.slow()
	} else {
		d = backoff.Policy{Base: c.cfg.openBase, Max: c.cfg.openMax}.Cap(c.openings)
		d += rand.N(d/4 + 1) //nolint:gosec // jitter, not security
	}
	c.until = start.Add(d)
	if c.until.Before(now) {
		c.until = now
	}
	c.setLocked(gobreaker.StateOpen)
}

// tickLocked turns an open circuit half-open once its period is over.
func (c *circuit) tickLocked(now time.Time) {
	if c.state == gobreaker.StateOpen && !now.Before(c.until) {
		c.setLocked(gobreaker.StateHalfOpen)
	}
}

func (c *circuit) setLocked(to gobreaker.State) {
	from := c.state
	c.state = to
	c.gen++
	c.failures, c.probes, c.successes = 0, 0, 0
	if c.onChange != nil {
		c.onChange(from, to)
	}
}
