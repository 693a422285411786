// Quotas: a topic may take at most so many messages per second, a token
// bucket of Quota.PerSecond with room for Quota.Burst, as SNS's publish
// quotas do. A message past it is refused the way SNS refuses it: in a
// PublishBatch the entry is listed under Failed with code Throttled and
// SenderFault false while the others go through; a Publish fails as a whole
// with 429 Throttled. Messages refused for another reason take no token.
// Benchmarks and end-to-end tests use it to test the publisher against a
// sink that enforces a rate; throttling at random is a Fault whose Entry
// predicate draws.

package snstest

import (
	"time"

	"golang.org/x/time/rate"
)

// Quota limits the messages a topic accepts per second. The zero Quota is
// no limit.
type Quota struct {
	// PerSecond is the rate messages are accepted at, on average.
	PerSecond float64
	// Burst is how many messages may be accepted at once after a quiet
	// spell; zero means a tenth of a second's worth (at least one).
	Burst int
}

const (
	codeThrottled    = "Throttled"
	messageThrottled = "Rate exceeded"
)

func (q Quota) limiter() *rate.Limiter {
	if q.PerSecond <= 0 {
		return nil
	}
	burst := q.Burst
	if burst <= 0 {
		burst = max(1, int(q.PerSecond/10))
	}
	return rate.NewLimiter(rate.Limit(q.PerSecond), burst)
}

// SetQuota sets topicARN's quota (the zero Quota removes it), replacing
// Options.Quota for it. It reports whether the topic exists.
func (s *Server) SetQuota(topicARN string, q Quota) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[topicARN]
	if ok {
		t.quota = q.limiter()
	}
	return ok
}

// withinQuota takes a token for one message, reporting whether the topic's
// quota allows it. The caller holds s.mu.
func (t *topic) withinQuota() bool {
	return t.quota == nil || t.quota.AllowN(time.Now(), 1)
}
