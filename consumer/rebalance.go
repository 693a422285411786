package consumer

// Rebalance callbacks: assigned partitions get their state; revoked ones
// drain, commit and drop it; lost ones drop it without committing. And the
// explicit leave of a static member at shutdown.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// onAssigned starts the state of newly assigned partitions. It runs on the
// group client's goroutine, before the first poll of the new assignment.
func (e *Engine) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	defer e.ready.Store(true)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return
	}
	e.inGroup.Store(true)
	n := 0
	for topic, ids := range assigned {
		for _, id := range ids {
			k := tp{topic, id}
			if e.owned[k] != nil {
				continue
			}
			e.owned[k] = newPartition(e.runCtx, e.deps, topic, id)
			n++
		}
	}
	if n > 0 {
		e.progress.mark(time.Now()) // new work starts its clock
		e.metrics.rebalances.WithLabelValues("assigned").Inc()
		e.log.Info("partitions assigned", "partitions", assigned)
	}
}

// onRevoked drains, commits and drops revoked partitions before the
// rebalance goes on.
func (e *Engine) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	if e.release(ctx, revoked, true) > 0 {
		e.metrics.rebalances.WithLabelValues("revoked").Inc()
		e.log.Info("partitions revoked", "partitions", revoked)
	}
}

// onLost drops lost partitions at once, without committing: another member
// may own them already.
func (e *Engine) onLost(ctx context.Context, _ *kgo.Client, lost map[string][]int32) {
	// Also called, with nothing lost, when a join fails: either way the
	// member is out of the group until its next assignment.
	e.inGroup.Store(false)
	if e.release(ctx, lost, false) > 0 {
		e.metrics.rebalances.WithLabelValues("lost").Inc()
		e.log.Warn("partitions lost; dropped their state without committing", "partitions", lost)
	}
}

func (e *Engine) ownedTopicPartitions() map[string][]int32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[string][]int32)
	for k := range e.owned {
		m[k.topic] = append(m[k.topic], k.id)
	}
	return m
}

// release gives up partitions. For a revocation (commit true) it stops
// dispatching them, lets in-flight publishes and dead letters finish until
// the drain deadline, abandons what is left, commits the watermarks and
// drops the state. For a loss it abandons at once and commits nothing. The
// partitions leave the owned set first, so the periodic commit stops
// covering them, and the final commit and the drop happen under commitMu,
// after which this member never commits them again.
func (e *Engine) release(ctx context.Context, tps map[string][]int32, commit bool) int {
	var parts []*partition
	e.mu.Lock()
	for topic, ids := range tps {
		for _, id := range ids {
			k := tp{topic, id}
			if p := e.owned[k]; p != nil {
				parts = append(parts, p)
				delete(e.owned, k)
			}
		}
	}
	e.mu.Unlock()
	if len(parts) == 0 {
		return 0
	}
	for _, p := range parts {
		p.beginDrain(commit)
	}
	if commit {
		drainCtx, cancel := context.WithTimeout(ctx, e.cfg.DrainTimeout)
		abandoned := 0
		for _, p := range parts {
			if !p.awaitIdle(drainCtx) {
				abandoned++
			}
		}
		cancel()
		if abandoned > 0 {
			e.log.Warn("drain deadline passed; abandoning in-flight work, it will be redelivered",
				"partitions", abandoned, "drain_timeout", e.cfg.DrainTimeout)
		}
	}
	out := 0
	for _, p := range parts {
		out += p.outstandingNow()
		p.cancel()
	}
	if out > 0 {
		e.metrics.abandoned.Add(float64(out))
	}
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	if commit {
		commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.CommitTimeout)
		e.commit(commitCtx, parts)
		cancel()
	}
	for _, p := range parts {
		p.drop()
	}
	return len(parts)
}

// leaveStatic removes this static member from its group, after its final
// commit and once its client is closed. franz-go never sends a LeaveGroup
// for a static member, so that a restart with the same instance id gets its
// partitions back; but a replica that stops on SIGTERM may be gone for good
// (a rollout gives the new pod a new name, a scale-down none), and without
// the leave its partitions would wait SessionTimeout for a new owner. A
// container that crashes sends nothing and keeps its partitions for its
// restart.
func (e *Engine) leaveStatic(ctx context.Context, adm *kadm.Client) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.CommitTimeout)
	defer cancel()
	resp, err := adm.LeaveGroup(ctx, kadm.LeaveGroup(e.cfg.GroupID).InstanceIDs(e.cfg.InstanceID).Reason("kafka-sns-bridge shutting down"))
	if err == nil {
		err = resp.Error()
	}
	switch {
	case err == nil:
		e.log.Info("left the consumer group", "group", e.cfg.GroupID, "instance_id", e.cfg.InstanceID)
	case errors.Is(err, kerr.UnknownMemberID):
		// Not a member (any more): nothing holds its partitions.
	default:
		e.log.Warn("leaving the consumer group failed; its partitions wait for the session timeout before another member takes them",
			"group", e.cfg.GroupID, "instance_id", e.cfg.InstanceID, "session_timeout", e.cfg.SessionTimeout.String(), "err", err)
	}
}
