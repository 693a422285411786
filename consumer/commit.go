package consumer

// Offset commits: every CommitInterval, and on revocation and shutdown
// (release), each owned partition's watermark when it moved.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// commitLoop commits the watermarks of owned partitions every CommitInterval.
func (e *Engine) commitLoop(ctx context.Context) {
	every(ctx, e.cfg.CommitInterval, func(time.Time) {
		e.commitMu.Lock()
		defer e.commitMu.Unlock()
		commitCtx, cancel := context.WithTimeout(ctx, e.cfg.CommitTimeout)
		defer cancel()
		e.commit(commitCtx, e.partitions())
	})
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func(now time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// commit commits the watermarks of parts that moved since their last
// commit. The caller holds commitMu.
func (e *Engine) commit(ctx context.Context, parts []*partition) {
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	byTP := make(map[tp]*partition)
	for _, p := range parts {
		off, ok := p.commitPoint()
		if !ok {
			continue
		}
		if offsets[p.topic] == nil {
			offsets[p.topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[p.topic][p.id] = off
		byTP[tp{p.topic, p.id}] = p
	}
	if len(offsets) == 0 {
		return
	}
	var commitErr error
	e.client().CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			commitErr = err
			return
		}
		var errs []error
		for _, t := range resp.Topics {
			for _, rp := range t.Partitions {
				if perr := kerr.ErrorForCode(rp.ErrorCode); perr != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", t.Topic, rp.Partition, perr))
					continue
				}
				if p := byTP[tp{t.Topic, rp.Partition}]; p != nil {
					p.markCommitted(offsets[t.Topic][rp.Partition].Offset)
				}
			}
		}
		commitErr = errors.Join(errs...)
	})
	if commitErr != nil {
		e.metrics.commits.WithLabelValues("error").Inc()
		e.log.Warn("offset commit failed; the next commit retries", "err", commitErr)
		return
	}
	e.metrics.commits.WithLabelValues("ok").Inc()
	e.log.Debug("offsets committed", "offsets", offsets)
}
