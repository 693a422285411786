// The circuit breaker of a topic: its settings, asking it before a call,
// and reporting its state changes to metrics, the log and the
// WithStateChange hook; which outcomes of a call count against it (verdict).

package sns

import (
	"log/slog"
	"slices"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// probeHedgeAfter and probeHedges shape the probes of a half-open breaker
// while one is out (circuitConfig): SNS answers in tens of milliseconds, so
// a probe still out after a second is likely on a connection that hangs.
const (
	probeHedgeAfter = time.Second
	probeHedges     = 2
)

// transition is one recorded change of a breaker's state.
type transition struct{ from, to gobreaker.State }

// newBreaker returns t's breaker (circuit.go): BreakerFailures consecutive
// failed calls open it, and so does one systemic failure; open periods
// start at BreakerOpenTimeout and double with each consecutive opening up
// to BreakerOpenTimeoutMax; after a systemic failure the period is the slow
// retry delay. Changes are recorded here and reported by flushTransitions.
func (t *topic) newBreaker() *circuit {
	cfg := t.p.cfg
	return newCircuit(circuitConfig{
		failures: cfg.BreakerFailures,
		probes:   cfg.BreakerHalfOpenCalls,
		openBase: cfg.BreakerOpenTimeout,
		openMax:  cfg.BreakerOpenTimeoutMax,
		slow:     t.p.retry.Slow,
		// A probe without an answer after a second is probably on a dead
		// connection; two more may try new ones, a second apart.
		hedgeAfter: probeHedgeAfter,
		hedges:     probeHedges,
	}, func(from, to gobreaker.State) {
		// Called under the circuit's lock: only record; flushTransitions
		// reports it once the lock is released.
		t.transMu.Lock()
		t.transitions = append(t.transitions, transition{from, to})
		t.transMu.Unlock()
	})
}

// verdict is what one call tells the topic's breaker. A call in which any
// entry was published, rejected for good or throttled succeeded: SNS is
// reachable and working, and the failed entries are retried on their own.
// Throttling in particular is SNS asking for a lower rate, which the topic's
// send rate answers; it never counts against the breaker, even when every
// entry of a call (or the whole call) was throttled. Otherwise the first
// transient or systemic failure counts against the breaker, and a systemic
// one (topic missing, access denied) opens it at once.
type verdict struct {
	healthy  bool
	systemic bool
	err      error
}

// published records an entry SNS accepted.
func (v *verdict) published() { v.healthy = true }

// failed records a failed entry, or a call that failed as a whole.
func (v *verdict) failed(fe *failure.Error) {
	switch {
	case fe.Class == failure.Permanent, isThrottle(fe):
		v.healthy = true
	case fe.Class == failure.Systemic:
		v.systemic = true
		fallthrough
	default:
		if v.err == nil {
			v.err = fe
		}
	}
}

// result is the error the call reports to the breaker; nil is a success.
func (v *verdict) result() error {
	if v.healthy {
		return nil
	}
	return v.err
}

// start asks the breaker for a call and sends c's batch, or puts it back
// (the dispatcher asked the breaker's ready first, so a refusal is a state
// change in between, and the next look sees it).
func (t *topic) start(c *call, now time.Time) {
	tk, err := t.cb.allow(now)
	if err != nil {
		defer c.release()
		t.mu.Lock()
		t.ready = slices.Insert(t.ready, 0, c.batch...)
		for _, r := range c.batch {
			n, _ := r.sending()
			t.readyEntries += n
		}
		t.inflight--
		t.mu.Unlock()
		t.flushTransitions(nil)
		t.poke()
		return
	}
	t.flushTransitions(nil)
	t.p.wg.Go(func() { t.send(c, tk) })
}

// flushTransitions reports recorded breaker changes to metrics, the log and
// the WithStateChange hook, in order, outside the breaker's lock.
func (t *topic) flushTransitions(cause error) {
	t.hookMu.Lock()
	defer t.hookMu.Unlock()
	for {
		t.transMu.Lock()
		trs := t.transitions
		t.transitions = nil
		t.transMu.Unlock()
		if len(trs) == 0 {
			return
		}
		for _, tr := range trs {
			t.p.metrics.breaker(t.arn, tr.to)
			switch {
			case tr.to == gobreaker.StateClosed:
				t.poke()
			case tr.to == gobreaker.StateOpen && unreachable(cause):
				// The connections may be what hangs: the probe dials anew.
				t.p.resetConns()
			}
			attrs := []any{slog.String("topic_arn", t.arn), slog.String("from", tr.from.String()), slog.String("to", tr.to.String())}
			if cause != nil && tr.to == gobreaker.StateOpen {
				attrs = append(attrs, slog.String("err", cause.Error()))
			}
			if tr.to == gobreaker.StateOpen {
				t.p.log.Warn("sns breaker opened; calls to the topic paused", attrs...)
			} else {
				t.p.log.Info("sns breaker changed state", attrs...)
			}
			if t.p.onStateChange != nil {
				t.p.onStateChange(t.arn, tr.from, tr.to)
			}
		}
	}
}
