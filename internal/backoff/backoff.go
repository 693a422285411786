// Package backoff is the bridge's one retry-delay policy, used by every
// stage that retries (the SNS publisher, the delivery engine's translate and
// dead-letter retries, the schema registry client): exponential growth capped
// at a maximum, with full jitter ("Exponential Backoff And Jitter", AWS
// Architecture Blog), so that many keys retrying after one outage spread out
// instead of arriving together.
package backoff

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy shapes retry delays. The zero value is not usable; Validate says why.
type Policy struct {
	// Base is the cap of the first retry's delay; each failure doubles it.
	Base time.Duration
	// Max caps every delay.
	Max time.Duration
}

// Validate reports a policy that cannot produce delays.
func (p Policy) Validate() error {
	switch {
	case p.Base <= 0:
		return fmt.Errorf("backoff: base %v must be positive", p.Base)
	case p.Max < p.Base:
		return fmt.Errorf("backoff: maximum %v is below the base %v", p.Max, p.Base)
	}
	return nil
}

// Cap returns the upper bound of the delay after failures failed attempts
// (failures >= 1): min(Max, Base*2^(failures-1)).
func (p Policy) Cap(failures int) time.Duration {
	if p.Max <= 0 {
		return 0
	}
	d := p.Base
	for i := 1; i < failures && d < p.Max; i++ {
		d *= 2
	}
	if d <= 0 || d > p.Max {
		d = p.Max
	}
	return d
}

// Delay returns the wait before the next attempt after failures failed
// attempts: uniformly random in [0, Cap(failures)] (full jitter).
func (p Policy) Delay(failures int) time.Duration {
	return jitter(p.Cap(failures))
}

// Slow returns a wait in [Max/2, Max]: the cadence for a destination that is
// unusable (a systemic failure), where a quick retry cannot help.
func (p Policy) Slow() time.Duration {
	half := max(p.Max/2, 0)
	return half + jitter(p.Max-half)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1) //nolint:gosec // jitter, not security
}
