package consumer

// Pausing a partition's fetching when its buffer is full, and saying why:
// one hot key, a blocked target topic, or just load.

import (
	"github.com/thena-ai/kafka-sns-bridge/internal/keyhash"
	"sync"
	"time"
)

// Why a partition paused (bridge_partition_pauses_total{reason}).
const (
	// pauseBuffer: the buffer filled with no single cause.
	pauseBuffer = "buffer"
	// pauseHotKey: one ordering scope holds more than half of the buffer.
	pauseHotKey = "hot_key"
	// pauseTopicBlocked: work for topics that TopicBlocked marked blocked
	// holds more than half of the buffer.
	pauseTopicBlocked = "topic_blocked"
)

// hotKeyLogEvery is how often the hot-key pause line is logged per key.
const hotKeyLogEvery = time.Minute

// fetchPauser pauses and resumes fetching of partitions; the group client
// (*kgo.Client) is one.
type fetchPauser interface {
	PauseFetchPartitions(map[string][]int32) map[string][]int32
	ResumeFetchPartitions(map[string][]int32)
}

// blockedTopics are the target topic ARNs that TopicBlocked marked blocked.
// It is safe for concurrent use.
type blockedTopics struct {
	mu   sync.RWMutex
	arns map[string]bool
}

func (b *blockedTopics) set(arn string, blocked bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !blocked {
		delete(b.arns, arn)
		return
	}
	if b.arns == nil {
		b.arns = make(map[string]bool)
	}
	b.arns[arn] = true
}

func (b *blockedTopics) has(arn string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.arns[arn]
}

// updatePauseLocked pauses fetching when the buffer holds its bound
// (bufferLimitLocked) and resumes at half, so that a partition does not flap
// at the bound. Nothing else pauses a partition: an ordering scope that
// cannot go out (a hot key at its limit, a key retrying, a blocked topic)
// holds only itself while the buffer has room.
func (p *partition) updatePauseLocked() {
	if p.dropped {
		return
	}
	p.updateBusyLocked()
	limit := p.bufferLimitLocked()
	want := p.paused
	switch b := p.ledger.bytes; {
	case b >= limit:
		want = true
	case b <= limit/2:
		want = false
	}
	if want != p.paused {
		p.paused = want
		if want {
			p.pauseFetch(true)
			p.whyPaused = true
		} else {
			p.explainPauseLocked(true)
			p.pauseFetch(false)
			p.log.Debug("partition resumed", "buffered_bytes", p.ledger.bytes, "buffered", p.ledger.len())
		}
	}
	p.explainPauseLocked(false)
}

// bufferLimitLocked is what the partition's buffer may hold: its own bound
// (Config.MaxBufferedBytesPerPartition), or less, its share of the engine's
// while other partitions have work too (bufferBudget.share).
func (p *partition) bufferLimitLocked() int64 {
	return p.budget.share(p.maxBufferedBytes)
}

// updateBusyLocked counts the partition in budget.busy while it has work:
// records buffered, or more on the broker (transaction markers are taken
// like records, so a partition that ends on one is caught up).
func (p *partition) updateBusyLocked() {
	l := &p.ledger
	busy := len(l.open) > 0 || (l.next > 0 && l.highWater > l.next)
	if busy != p.busy {
		p.busy = busy
		if busy {
			p.budget.busy.Add(1)
		} else {
			p.budget.busy.Add(-1)
		}
	}
}

// explainPauseLocked counts and logs why the partition paused, once the
// records that filled its buffer are translated (before, their keys and
// topics are not known), or at the latest when it resumes (force). Load is
// routine (Debug); a blocked topic is logged at Info, and a hot key at Info
// at most once per hotKeyLogEvery per key, with the key hashed.
func (p *partition) explainPauseLocked(force bool) {
	if !p.whyPaused || (!force && len(p.untranslated) > 0) {
		return
	}
	p.whyPaused = false
	total := p.ledger.bytes
	var blocked int64
	var top *scope
	for _, s := range p.scopes.byID {
		if s.id.arn != "" && p.blocked.has(s.id.arn) {
			blocked += s.bytes
		}
		if top == nil || s.bytes > top.bytes {
			top = s
		}
	}
	reason := pauseBuffer
	switch {
	case 2*blocked > total:
		reason = pauseTopicBlocked
	case top != nil && 2*top.bytes > total:
		reason = pauseHotKey
	}
	// The line comes before the counter, so whoever sees the counter move
	// also finds the line.
	defer p.metrics.partitionPauses.WithLabelValues(reason).Inc()
	switch reason {
	case pauseTopicBlocked:
		p.log.Info("partition paused: its buffer is full of events for a blocked topic", "reason", reason,
			"buffered_bytes", total, "blocked_share", share(blocked, total))
	case pauseHotKey:
		hash := keyhash.Of(top.id.key)
		if p.hotLog.allow(hash, time.Now()) {
			p.log.Info("partition paused: one key holds most of its buffer", "reason", reason,
				"key_hash", hash, "topic_arn", top.id.arn, "share", share(top.bytes, total),
				"backlog", top.unfinished(), "buffered_bytes", total)
		}
	default:
		p.log.Debug("partition paused", "reason", reason, "buffered_bytes", total, "buffered", p.ledger.len())
	}
}

// share is part/total rounded to a percent's hundredth, for log lines.
func share(part, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(part*10000/total) / 10000
}

// pauseFetch tells the group client to pause or resume fetching the
// partition and counts it in bridge_paused_partitions.
func (p *partition) pauseFetch(pause bool) {
	tps := map[string][]int32{p.topic: {p.id}}
	if pause {
		p.fetch.PauseFetchPartitions(tps)
		p.metrics.paused.Inc()
		return
	}
	p.fetch.ResumeFetchPartitions(tps)
	p.metrics.paused.Dec()
}

// keyLogLimiter lets a line about a key through at most once per every. It
// remembers at most keyLogMemory keys. It is safe for concurrent use.
type keyLogLimiter struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

const keyLogMemory = 1024

func newKeyLogLimiter(every time.Duration) *keyLogLimiter {
	return &keyLogLimiter{every: every, last: make(map[string]time.Time)}
}

// allow reports whether a line about key may be logged at now.
func (l *keyLogLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	if len(l.last) >= keyLogMemory {
		for k, t := range l.last {
			if now.Sub(t) >= l.every {
				delete(l.last, k)
			}
		}
		if len(l.last) >= keyLogMemory {
			return false // a flood of distinct hot keys: the metric still counts them
		}
	}
	l.last[key] = now
	return true
}
