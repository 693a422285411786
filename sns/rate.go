// The adaptive send rate of a topic: a token bucket (tokens are entries) in
// front of the topic's calls, off (or at the configured ceiling,
// Config.MaxRatePerTopic) until SNS first throttles, cut on throttling and
// grown again on throttle-free answers, never past the ceiling, in the
// spirit of TCP congestion control and the AWS SDKs' adaptive retry mode.

package sns

import (
	"log/slog"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The send rate's constants. They are not configuration: they describe how
// fast to react, not a quota, and the targets they meet are tested
// (TestSendRate*).
const (
	// rateCut is what a throttled answer keeps of the rate SNS was taking.
	rateCut = 0.9
	// minSendRate is the floor of the limit, in entries/s: ten full calls a
	// second, so that the topic keeps learning (and recovering) quickly
	// however hard SNS throttles.
	minSendRate = 100.0
	// maxSendRate is where growing turns the limit off.
	maxSendRate = 1e6
	// probeStep and probeDoubling shape the growth past the cut point: the
	// excess over it starts at probeStep of it and doubles every
	// probeDoubling, slow at first near the point where SNS throttled, fast
	// once well past it.
	probeStep     = 0.05
	probeDoubling = 150 * time.Millisecond
	// cutPointHalfLife is how fast the cut point follows throttling that
	// persists while the limit is still below it (a lower quota, or SNS
	// throttling at random): slowly, so that a long throttling storm does not
	// leave the topic crawling once it ends.
	cutPointHalfLife = 2 * time.Minute
	// rateClean is how long the limit must neither see throttling nor hold a
	// call back before it turns off again.
	rateClean = 400 * time.Millisecond
	// meterSpan is the span of each of the two buckets that measure the rate
	// SNS accepts entries at.
	meterSpan = 100 * time.Millisecond
)

// sendRate is one topic's adaptive limit on entries sent per second. Zero
// (no limit) until the first throttled answer; then a throttled answer to a
// call sent after the last cut (one cut per round trip) cuts the limit to
// rateCut of the rate SNS accepted entries at, and each throttle-free answer
// to a call sent after the last change grows it: doubling while below the
// cut point (the rate SNS last throttled at), probing past it slowly at
// first and then faster. The limit turns off again after rateClean without
// throttling in which it held no call back. With a ceiling (entries/s,
// Config.MaxRatePerTopic) the limit is never above it and rests at it
// instead of turning off: the configured rate is where it starts, what
// growing stops at and where it returns after throttling, so that several
// bridges can share an account's quota. Safe for concurrent use.
type sendRate struct {
	mu         sync.Mutex
	ceiling    float64       // entries/s; 0 = none
	lim        *rate.Limiter // nil while unlimited
	limit      float64       // entries/s; 0 = unlimited
	cutPoint   float64
	minBurst   int
	lastCut    time.Time
	lastChange time.Time
	lastBound  time.Time // the limit last held a call back
	probeFrom  time.Time
	meter      rateMeter
	reported   float64 // the limit metrics and the log last saw
}

// newSendRate returns the send rate of a topic whose calls carry at most
// maxBatchEntries entries, limited to ceiling entries/s (0: no ceiling).
func newSendRate(maxBatchEntries int, ceiling float64) *sendRate {
	s := &sendRate{minBurst: maxBatchEntries, ceiling: ceiling, meter: rateMeter{span: meterSpan}}
	if ceiling > 0 {
		s.setLocked(time.Now(), ceiling)
	}
	return s
}

// floor is the least the limit is cut to: minSendRate, or the ceiling when
// that is lower.
func (s *sendRate) floor() float64 {
	if s.ceiling > 0 {
		return min(minSendRate, s.ceiling)
	}
	return minSendRate
}

// resting reports whether limit is where the limit rests when SNS does not
// throttle: off, or at the ceiling.
func (s *sendRate) resting(limit float64) bool {
	return limit == 0 || limit == s.ceiling
}

// allow reports whether a call of n entries may go now, taking its tokens;
// if not, it returns how long until it may.
func (s *sendRate) allow(now time.Time, n int) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meter.start(now)
	if s.limit == 0 {
		return 0, true
	}
	if s.lim.AllowN(now, n) {
		s.maybeOffLocked(now)
		return 0, true
	}
	s.lastBound = now
	missing := float64(n) - s.lim.TokensAt(now)
	wait := time.Duration(missing / s.limit * float64(time.Second))
	return max(wait, time.Millisecond), false
}

// observe takes what SNS answered to a call sent at sentAt: accepted
// entries published, throttled entries refused for the rate. cut is false
// when the throttling must not slow the whole topic (one FIFO message group
// over its own limit).
func (s *sendRate) observe(now, sentAt time.Time, accepted, throttled int, cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meter.add(now, accepted)
	switch {
	case throttled > 0:
		if cut && !sentAt.Before(s.lastCut) {
			s.cutLocked(now)
		}
	case accepted > 0 && !s.resting(s.limit) && !sentAt.Before(s.lastChange):
		s.growLocked(now)
	}
	s.maybeOffLocked(now)
}

func (s *sendRate) cutLocked(now time.Time) {
	accepted := s.meter.rate(now)
	base := accepted
	if s.limit > 0 && (base <= 0 || s.limit < base) {
		base = s.limit
	}
	if base <= 0 {
		base = minSendRate / rateCut
	}
	point := base
	if s.limit > 0 && s.limit < s.cutPoint {
		// Throttled again before the limit got back to the cut point: let
		// the point follow down, but only slowly (see cutPointHalfLife).
		decayed := s.cutPoint * math.Exp2(-now.Sub(s.lastCut).Seconds()/cutPointHalfLife.Seconds())
		point = max(point, decayed)
	}
	s.cutPoint = point
	s.setLocked(now, s.capped(max(s.floor(), base*rateCut)))
	s.lastCut, s.lastChange = now, now
	s.probeFrom = time.Time{}
}

func (s *sendRate) growLocked(now time.Time) {
	if s.limit < s.cutPoint {
		s.setLocked(now, s.capped(min(2*s.limit, s.cutPoint)))
	} else {
		if s.probeFrom.IsZero() {
			s.probeFrom = now
		}
		x := now.Sub(s.probeFrom).Seconds() / probeDoubling.Seconds()
		s.setLocked(now, s.capped(max(s.limit, s.cutPoint*(1+probeStep*(math.Exp2(x)-1)))))
	}
	s.lastChange = now
	if s.limit > maxSendRate || s.limit == s.ceiling {
		s.offLocked(now)
	}
}

// capped is limit, or the ceiling when limit is above it.
func (s *sendRate) capped(limit float64) float64 {
	if s.ceiling > 0 {
		return min(limit, s.ceiling)
	}
	return limit
}

func (s *sendRate) maybeOffLocked(now time.Time) {
	if !s.resting(s.limit) && now.Sub(s.lastBound) >= rateClean && now.Sub(s.lastCut) >= rateClean {
		s.offLocked(now)
	}
}

// offLocked ends the pacing that throttling started: the limit turns off,
// or returns to the ceiling.
func (s *sendRate) offLocked(now time.Time) {
	s.probeFrom = time.Time{}
	if s.ceiling > 0 {
		s.setLocked(now, s.ceiling)
		return
	}
	s.limit, s.lim = 0, nil
}

func (s *sendRate) setLocked(now time.Time, limit float64) {
	if s.lim == nil {
		// The bucket holds one full call: calls go evenly spaced, never in
		// a burst that SNS's own bucket might refuse.
		s.lim = rate.NewLimiter(rate.Limit(limit), s.minBurst)
		s.lastBound = now
	} else {
		s.lim.SetLimitAt(now, rate.Limit(limit))
	}
	s.limit = limit
}

// report passes a changed limit to t's metrics, and to the log when pacing
// turns on or off.
func (s *sendRate) report(t *topic) {
	s.mu.Lock()
	was, now := s.reported, s.limit
	s.reported = now
	s.mu.Unlock()
	if was == now {
		return
	}
	t.p.metrics.rateLimit(t.arn, now)
	switch {
	case s.resting(was) && !s.resting(now):
		t.p.log.Warn("sns throttles the topic; pacing its sends", slog.String("topic_arn", t.arn),
			slog.Float64("entries_per_second", math.Round(now)))
	case !s.resting(was) && s.resting(now):
		t.p.log.Info("sns send rate no longer limited by throttling", slog.String("topic_arn", t.arn),
			slog.Float64("entries_per_second", now))
	}
}

// rateMeter measures how fast SNS accepts entries, over two buckets of span
// each (the older one weighted by how much of it is still inside the
// window).
type rateMeter struct {
	span      time.Duration
	first     time.Time // when sending began
	bucket    time.Time // start of the current bucket
	cur, prev float64
}

// start notes when sending began, so that the first rate is not measured
// over an empty stretch.
func (m *rateMeter) start(now time.Time) {
	if m.first.IsZero() {
		m.first, m.bucket = now, now
	}
}

func (m *rateMeter) add(now time.Time, n int) {
	m.start(now)
	m.roll(now)
	m.cur += float64(n)
}

func (m *rateMeter) roll(now time.Time) {
	k := now.Sub(m.bucket) / m.span
	if k <= 0 {
		return
	}
	m.prev = 0
	if k == 1 {
		m.prev = m.cur
	}
	m.cur = 0
	m.bucket = m.bucket.Add(k * m.span)
}

// rate returns accepted entries/s.
func (m *rateMeter) rate(now time.Time) float64 {
	if m.first.IsZero() {
		return 0
	}
	m.roll(now)
	if m.bucket.Sub(m.first) < m.span {
		// Less than two buckets of history: everything since the start.
		elapsed := max(now.Sub(m.first), 10*time.Millisecond)
		return (m.prev + m.cur) / elapsed.Seconds()
	}
	weight := 1 - float64(now.Sub(m.bucket))/float64(m.span)
	return (m.prev*weight + m.cur) / m.span.Seconds()
}
