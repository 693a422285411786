package consumer

// The hottest ordering keys, for operators (Engine.HotKeys, served as JSON
// at /debug/keys): backlogs read from the partitions' scopes, and recent
// rates and latencies tracked for the heavy hitters only, so that memory
// stays bounded whatever the number of organizations.

import (
	"cmp"
	"github.com/thena-ai/kafka-sns-bridge/internal/keyhash"
	"math"
	"slices"
	"sync"
	"time"
)

const (
	// trackedKeys is how many heavy hitters the engine tracks rates and
	// latencies for (Space-Saving's K).
	trackedKeys = 64
	// rateWindow is the span a recent rate is measured over, in seconds.
	rateWindow = 10
	// latencySamples is how many recent end-to-end latencies a tracked key keeps.
	latencySamples = 256
	// decayHalfLife is how fast a key's delivered count fades in the
	// heavy-hitter ranking: a key that stops being hot drops out soon.
	decayHalfLife = 10 * time.Second
)

// KeyStats is what Engine.HotKeys reports of one ordering key, over every
// partition and target topic the engine holds it for.
type KeyStats struct {
	// Key is the ordering key (the record key, or the event's orgId).
	Key string `json:"key"`
	// KeyHash is the key as logs name it.
	KeyHash string `json:"key_hash"`
	// BacklogEvents and BacklogBytes are its translated events not yet
	// published or dead-lettered, and what they cost in the buffers.
	BacklogEvents int   `json:"backlog_events"`
	BacklogBytes  int64 `json:"backlog_bytes"`
	// BacklogShare is its part of every key's backlog events.
	BacklogShare float64 `json:"backlog_share"`
	// ParkedSeconds is the age of its oldest unfinished event (since fetched).
	ParkedSeconds float64 `json:"parked_seconds"`
	// AtLimit is set while its waiting events are held back only by the
	// per-key in-flight limit.
	AtLimit bool `json:"at_limit"`
	// Tracked is set when the key is among the heavy hitters the engine
	// tracks; only then are the rate and latencies known.
	Tracked bool `json:"tracked"`
	// RatePerSecond is its events published per second over the last ~10 s,
	// and RateShare its part of the engine's.
	RatePerSecond float64 `json:"rate_per_second"`
	RateShare     float64 `json:"rate_share"`
	// LatencyP50Seconds and LatencyP99Seconds are over its recent events:
	// event time to SNS acknowledgement.
	LatencyP50Seconds float64 `json:"latency_p50_seconds"`
	LatencyP99Seconds float64 `json:"latency_p99_seconds"`
}

// HotKeys returns the n keys with the largest backlog, the n parked longest
// and the n with the highest recent rate (a key in several lists appears
// once, so at most 3n), sorted by backlog, then rate, then key. It is meant
// for a debug endpoint: it reads every partition's scopes (a map as large as
// the distinct keys buffered, for the call's duration) and is safe for
// concurrent use.
func (e *Engine) HotKeys(n int) []KeyStats {
	if n <= 0 {
		return nil
	}
	now := time.Now()
	type backlog struct {
		KeyStats
		oldest time.Time
	}
	byKey := make(map[string]*backlog)
	var total int
	for _, p := range e.partitions() {
		p.eachScope(func(s *scope) {
			b := byKey[s.id.key]
			if b == nil {
				b = &backlog{KeyStats: KeyStats{Key: s.id.key}}
				byKey[s.id.key] = b
			}
			b.BacklogEvents += s.unfinished()
			b.BacklogBytes += s.bytes
			b.AtLimit = b.AtLimit || s.atLimit
			if f := s.items[0].fetched; b.oldest.IsZero() || f.Before(b.oldest) {
				b.oldest = f
			}
			total += s.unfinished()
		})
	}
	tracked, totalRate := e.hot.snapshot(now)

	all := make([]*backlog, 0, len(byKey))
	for _, b := range byKey {
		all = append(all, b)
	}
	pick := make(map[string]*backlog)
	top := func(less func(a, b *backlog) int) {
		slices.SortFunc(all, less)
		for _, b := range all[:min(n, len(all))] {
			pick[b.Key] = b
		}
	}
	top(func(a, b *backlog) int { return cmp.Compare(b.BacklogEvents, a.BacklogEvents) })
	top(func(a, b *backlog) int { return a.oldest.Compare(b.oldest) })
	slices.SortFunc(tracked, func(a, b hitterStats) int { return cmp.Compare(b.rate, a.rate) })
	for _, h := range tracked[:min(n, len(tracked))] {
		if pick[h.key] == nil {
			pick[h.key] = cmp.Or(byKey[h.key], &backlog{KeyStats: KeyStats{Key: h.key}})
		}
	}
	rates := make(map[string]hitterStats, len(tracked))
	for _, h := range tracked {
		rates[h.key] = h
	}

	out := make([]KeyStats, 0, len(pick))
	for _, b := range pick {
		ks := b.KeyStats
		ks.KeyHash = keyhash.Of(ks.Key)
		if total > 0 {
			ks.BacklogShare = float64(ks.BacklogEvents) / float64(total)
		}
		if !b.oldest.IsZero() {
			ks.ParkedSeconds = max(now.Sub(b.oldest).Seconds(), 0)
		}
		if h, ok := rates[ks.Key]; ok {
			ks.Tracked = true
			ks.RatePerSecond = h.rate
			if totalRate > 0 {
				ks.RateShare = h.rate / totalRate
			}
			ks.LatencyP50Seconds, ks.LatencyP99Seconds = h.p50, h.p99
		}
		out = append(out, ks)
	}
	slices.SortFunc(out, func(a, b KeyStats) int {
		return cmp.Or(cmp.Compare(b.BacklogEvents, a.BacklogEvents), cmp.Compare(b.RatePerSecond, a.RatePerSecond), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// eachScope calls fn for every scope with unfinished items, under the
// partition's lock.
func (p *partition) eachScope(fn func(*scope)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped {
		return
	}
	for _, s := range p.scopes.byID {
		if s.unfinished() > 0 {
			fn(s)
		}
	}
}

// heavyHitters tracks the keys with the most events published recently:
// Space-Saving over trackedKeys counters, with forward decay so that the
// ranking follows the last tens of seconds rather than all time. For each
// tracked key it keeps a per-second rate window and its recent latencies.
// Memory is bounded by trackedKeys whatever the number of keys. It is safe
// for concurrent use.
type heavyHitters struct {
	mu      sync.Mutex
	byKey   map[string]*hitter
	hitters []*hitter // the same, for the scan for the smallest
	// base is the forward-decay landmark: an event at t weighs
	// 2^((t-base)/decayHalfLife), so later events weigh more and weights
	// compare as decayed counts.
	base    time.Time
	started time.Time   // the first event
	total   rateCounter // every published event
}

type hitter struct {
	key    string
	weight float64
	since  time.Time // when it became tracked
	rate   rateCounter
	lat    [latencySamples]float64
	nLat   int
}

// hitterStats is a snapshot of one tracked key.
type hitterStats struct {
	key            string
	rate, p50, p99 float64
}

func newHeavyHitters() *heavyHitters {
	return &heavyHitters{byKey: make(map[string]*hitter, trackedKeys)}
}

// observe counts an event of key published at now; eventTime, when set,
// gives its end-to-end latency.
func (hh *heavyHitters) observe(key string, eventTime, now time.Time) {
	hh.mu.Lock()
	defer hh.mu.Unlock()
	if hh.base.IsZero() {
		hh.base, hh.started = now, now
	}
	w := math.Exp2(now.Sub(hh.base).Seconds() / decayHalfLife.Seconds())
	if w > 1<<40 {
		// Rescale before the weights overflow: the same factor for all
		// keeps their order.
		for _, h := range hh.hitters {
			h.weight /= w
		}
		hh.base, w = now, 1
	}
	h := hh.byKey[key]
	if h == nil {
		h = hh.admit(key, now)
	}
	h.weight += w
	h.rate.add(now)
	if !eventTime.IsZero() {
		h.lat[h.nLat%latencySamples] = max(now.Sub(eventTime).Seconds(), 0)
		h.nLat++
	}
	hh.total.add(now)
}

// admit starts tracking key: in a free counter, or in the smallest one,
// whose weight it inherits (Space-Saving: a newcomer may be as heavy as the
// key it replaces, never heavier).
func (hh *heavyHitters) admit(key string, now time.Time) *hitter {
	var h *hitter
	if len(hh.hitters) < trackedKeys {
		h = &hitter{}
		hh.hitters = append(hh.hitters, h)
	} else {
		h = hh.hitters[0]
		for _, c := range hh.hitters[1:] {
			if c.weight < h.weight {
				h = c
			}
		}
		delete(hh.byKey, h.key)
		// Forget the old key's rate and latencies; the samples past nLat
		// are never read, so they need no clearing.
		h.rate, h.nLat = rateCounter{}, 0
	}
	h.key, h.since = key, now
	hh.byKey[key] = h
	return h
}

// snapshot returns every tracked key's rate and latencies, and the engine's
// rate, at now.
func (hh *heavyHitters) snapshot(now time.Time) (keys []hitterStats, totalRate float64) {
	hh.mu.Lock()
	defer hh.mu.Unlock()
	lat := make([]float64, 0, latencySamples)
	for _, h := range hh.hitters {
		s := hitterStats{key: h.key, rate: h.rate.perSecond(now, h.since)}
		lat = append(lat[:0], h.lat[:min(h.nLat, latencySamples)]...)
		if len(lat) > 0 {
			slices.Sort(lat)
			s.p50, s.p99 = quantile(lat, 0.50), quantile(lat, 0.99)
		}
		keys = append(keys, s)
	}
	return keys, hh.total.perSecond(now, hh.started)
}

// quantile is the q-quantile of sorted (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// rateCounter counts events per second over the last rateWindow seconds.
type rateCounter struct {
	buckets [rateWindow]int
	last    int64 // the Unix second of the newest bucket
}

func (c *rateCounter) advance(now time.Time) {
	sec := now.Unix()
	if c.last == 0 || sec-c.last >= rateWindow {
		c.buckets = [rateWindow]int{}
	} else {
		for s := c.last + 1; s <= sec; s++ {
			c.buckets[s%rateWindow] = 0
		}
	}
	c.last = max(c.last, sec)
}

func (c *rateCounter) add(now time.Time) {
	c.advance(now)
	c.buckets[now.Unix()%rateWindow]++
}

// perSecond is the rate over the window, or over the time since since (when
// counting began) when that is shorter, counting at least a second.
func (c *rateCounter) perSecond(now, since time.Time) float64 {
	c.advance(now)
	n := 0
	for _, b := range c.buckets {
		n += b
	}
	span := min(float64(rateWindow), max(now.Sub(since).Seconds(), 1))
	return float64(n) / span
}
