package consumer

// Pausing a partition's fetching: at a full buffer, and while its pending
// work targets a topic that TopicBlocked marked blocked.

import (
	"context"
	"log/slog"
	"sync"
)

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

// recheckPause pauses or resumes the partition after a target topic was
// blocked or unblocked.
func (p *partition) recheckPause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updatePauseLocked()
}

// updatePauseLocked pauses fetching when the buffer is full or pending work
// targets a blocked topic, and resumes when neither holds. The buffer
// resumes at half so that a partition does not flap at the bound.
func (p *partition) updatePauseLocked() {
	if p.dropped {
		return
	}
	limit := p.maxBuffered
	switch n := p.ledger.len(); {
	case n >= limit:
		p.pausedBuffer = true
	case n <= limit/2:
		p.pausedBuffer = false
	}
	p.pausedBlocked = false
	for arn := range p.arnPending {
		if p.blocked.has(arn) {
			p.pausedBlocked = true
			break
		}
	}
	want := p.pausedBuffer || p.pausedBlocked
	if want == p.paused {
		return
	}
	p.paused = want
	p.pauseFetch(want)
	if !want {
		p.log.Debug("partition resumed", "buffered", p.ledger.len())
		return
	}
	// A full buffer is routine under load (Debug); a blocked topic is not (Info).
	level := slog.LevelDebug
	if p.pausedBlocked {
		level = slog.LevelInfo
	}
	p.log.Log(context.Background(), level, "partition paused", "buffered", p.ledger.len(), "topic_blocked", p.pausedBlocked)
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
