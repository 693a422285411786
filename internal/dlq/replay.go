package dlq

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// partState is the replay's view of one dead-letter partition.
type partState struct {
	// from is the first offset of the checkpoint's range for this run.
	from, end int64
	// again are earlier skipped or failed offsets (below from) to consider again.
	again map[int64]bool
	// pending are offsets >= from sent and not yet acknowledged, ascending.
	pending []int64
	// handled is one past the highest offset >= from looked at so far
	// (from when none): the checkpoint's Next.
	handled int64
	// unreplayed are offsets skipped or failed.
	unreplayed map[int64]bool
}

type job struct {
	d     deadletter.DeadLetter
	p     Partition
	again bool
}

type ack struct {
	j   *job
	err error
}

// Replay sends the dead letters of o.Topics that o.Filter selects to
// o.Destination, from where the checkpoint says the last run stopped up to
// the end offsets captured when it starts, and returns what it did.
//
// Order: within a dead-letter partition records are sent in offset order;
// with OrderByKey a record waits until the previous one of its key is
// acknowledged. The checkpoint (see Checkpoint) holds every offset the
// destination acknowledged, which no later replay to the same target sends
// again whatever its filters, and per selection the offset after the last
// record looked at plus the offsets below it that were not acknowledged
// (skipped, rejected, or still in flight when it was written), which the
// next run considers again. It is written at most every SaveEvery and when
// the replay stops, so an interrupted run (ctx canceled) resumes exactly
// after what was acknowledged, whatever order acknowledgements came in;
// after a crash at most SaveEvery's worth of acknowledged records is sent
// again.
//
// Replay returns ctx's error when it was interrupted, the destination's error
// when it stopped the replay, and nil otherwise (Result.Failed may still be
// non-zero). It blocks until the records it sent are acknowledged or
// DrainTimeout has passed.
func Replay(ctx context.Context, r *Reader, o Options) (Result, error) {
	var res Result
	if o.Check == nil || (o.Destination == nil && !o.DryRun) || (o.CheckpointPath == "" && !o.DryRun) || len(o.Topics) == 0 {
		return res, errors.New("dlq.Replay: Topics, Check, and (unless DryRun) Destination and CheckpointPath are required")
	}
	if err := o.Filter.Validate(); err != nil {
		return res, err
	}
	o = o.withDefaults()
	now, report := o.Now, o.Report

	// The checkpoint: locked for the whole run so that two replays cannot
	// share it.
	var cp *Checkpoint
	if o.CheckpointPath != "" {
		if !o.DryRun {
			unlock, err := lockCheckpoint(o.CheckpointPath)
			if err != nil {
				return res, err
			}
			defer unlock()
		}
		if !o.Restart {
			loaded, err := LoadCheckpoint(o.CheckpointPath)
			if err != nil {
				return res, err
			}
			if loaded != nil && loaded.Target != o.Target {
				return res, fmt.Errorf("%w: %s was written for %q, not %q; give -restart to start over, or another -checkpoint", ErrCheckpointMismatch, o.CheckpointPath, loaded.Target, o.Target)
			}
			cp = loaded
		}
	}
	if cp == nil {
		cp = NewCheckpoint(o.Target)
	}
	_, res.Resumed = cp.Selections[o.Selection]
	sel := cp.selection(o.Selection)

	bounds, err := r.Bounds(ctx, o.Topics...)
	if err != nil {
		return res, err
	}
	parts := map[Partition]*partState{}
	read := Bounds{}
	for p, span := range bounds {
		s := &partState{from: span.Start, end: span.End, again: map[int64]bool{}, unreplayed: map[int64]bool{}}
		if n := sel.next(p); n >= 0 {
			if n > span.End {
				return res, fmt.Errorf("checkpoint %s says %s was handled up to offset %d, but the partition ends at %d (was the topic recreated?); give -restart to start over", o.CheckpointPath, p, n, span.End)
			}
			s.from = max(n, span.Start)
		}
		s.handled = s.from
		start := s.from
		for _, off := range sel.unreplayed(p) {
			if off >= span.Start && off < s.from {
				s.again[off] = true
				s.unreplayed[off] = true
				start = min(start, off)
			}
		}
		parts[p] = s
		read[p] = Span{Start: start, End: span.End}
		res.Total += span.End - s.from + int64(len(s.again))
	}

	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	// Sends outlive an interrupt by up to DrainTimeout, so that what is on
	// the wire is acknowledged and checkpointed rather than sent twice.
	sendCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	records := make(chan deadletter.DeadLetter, 256)
	readErr := make(chan error, 1)
	go func() {
		defer close(records)
		readErr <- r.Read(readCtx, read, func(d deadletter.DeadLetter) error {
			select {
			case records <- d:
				return nil
			case <-readCtx.Done():
				return readCtx.Err()
			}
		})
	}()

	var (
		acks      = make(chan ack, o.MaxInFlight)
		inflight  int
		queued    int
		byKey     = map[string][]*job{} // OrderByKey: records waiting behind their key's head
		busy      = map[string]bool{}
		stopping  bool
		fatal     error
		dirty     bool
		baseTotal = [3]int64{sel.Replayed, sel.Skipped, sel.Failed}
	)
	res.SkippedBy = map[string]int64{}

	state := func() ProgressState {
		return ProgressState{Total: res.Total, Scanned: res.Scanned, Replayed: res.Replayed, Skipped: res.Skipped, Failed: res.Failed, DryRun: o.DryRun}
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			o.Progress.Clear()
		}
		fmt.Fprintf(report, format+"\n", args...)
	}
	save := func(completed bool) error {
		if o.DryRun || !dirty && !completed {
			return nil
		}
		for p, s := range parts {
			// Records still in flight are saved like skipped ones: the
			// next run considers them again, and nothing acknowledged
			// above them is sent twice.
			again := maps.Clone(s.unreplayed)
			for _, off := range s.pending {
				again[off] = true
			}
			sel.setNext(p, s.handled)
			sel.setUnreplayed(p, slices.Sorted(maps.Keys(again)))
		}
		sel.Completed = completed
		sel.Replayed, sel.Skipped, sel.Failed = baseTotal[0]+res.Replayed, baseTotal[1]+res.Skipped, baseTotal[2]+res.Failed
		cp.UpdatedAt = now().UTC()
		dirty = false
		return cp.Save(o.CheckpointPath)
	}
	stop := func(err error) {
		if err != nil && fatal == nil {
			fatal = err
		}
		stopping = true
		stopReading()
	}
	// handled records that an offset needs no send.
	handled := func(j *job, unreplayed bool) {
		s := parts[j.p]
		off := j.d.Record.Offset
		if unreplayed {
			s.unreplayed[off] = true
		} else {
			delete(s.unreplayed, off)
		}
		if !j.again {
			s.handled = max(s.handled, off+1)
		}
		dirty = true
	}
	dispatch := func(j *job) {
		inflight++
		o.Destination.Send(sendCtx, j.d, func(err error) { acks <- ack{j, err} })
	}
	send := func(j *job) {
		s := parts[j.p]
		if !j.again {
			s.pending = append(s.pending, j.d.Record.Offset)
			s.handled = max(s.handled, j.d.Record.Offset+1)
		}
		if o.OrderByKey {
			k := j.d.Key()
			if busy[k] {
				byKey[k] = append(byKey[k], j)
				queued++
				return
			}
			busy[k] = true
		}
		dispatch(j)
	}
	settle := func(a ack) {
		inflight--
		j := a.j
		s := parts[j.p]
		off := j.d.Record.Offset
		switch {
		case a.err == nil:
			res.Replayed++
			delete(s.unreplayed, off)
			cp.acknowledge(j.p, off)
		case failure.ClassOf(a.err) == failure.Permanent:
			res.Failed++
			s.unreplayed[off] = true
			say("failed  %s  %s  %s: %v", j.d.Position(), orDash(j.d.EventType), orDash(j.d.OrgID), a.err)
		default:
			// Not acknowledged: it stays pending, so the checkpoint stays
			// before it and the next run sends it again.
			if !errors.Is(a.err, context.Canceled) || ctx.Err() == nil {
				stop(fmt.Errorf("sending %s: %w", j.d.Position(), a.err))
			}
			if o.OrderByKey {
				// Later records of the key must not overtake it.
				k := j.d.Key()
				queued -= len(byKey[k])
				delete(byKey, k)
				delete(busy, k)
			}
			return
		}
		if !j.again {
			if i := slices.Index(s.pending, off); i >= 0 {
				s.pending = slices.Delete(s.pending, i, i+1)
			}
		}
		dirty = true
		if o.OrderByKey {
			k := j.d.Key()
			if q := byKey[k]; len(q) > 0 && !stopping {
				byKey[k] = q[1:]
				queued--
				dispatch(q[0])
			} else {
				delete(busy, k)
			}
		}
	}
	consider := func(d deadletter.DeadLetter) {
		p := Partition{d.Record.Topic, d.Record.Partition}
		s := parts[p]
		if s == nil {
			return
		}
		off := d.Record.Offset
		j := &job{d: d, p: p, again: off < s.from}
		if j.again && !s.again[off] {
			return // handled by an earlier run
		}
		res.Scanned++
		if !o.Filter.Match(d) {
			handled(j, false)
			return
		}
		if cp.acknowledged(p, off) {
			res.AlreadyReplayed++
			if o.DryRun {
				say("already replayed  %s  %s  %s", d.Position(), orDash(d.EventType), orDash(d.OrgID))
			}
			handled(j, false)
			return
		}
		if o.Limit > 0 && res.Selected >= int64(o.Limit) {
			res.Limited = true
			res.Scanned--
			stop(nil)
			return
		}
		res.Selected++
		skip, err := decide(ctx, o, d)
		switch {
		case err != nil:
			res.Scanned--
			res.Selected--
			stop(err)
		case skip != nil:
			reason := failure.ReasonOf(skip)
			res.Skipped++
			res.SkippedBy[reason]++
			verb := "skipped     "
			if o.DryRun {
				verb = "would skip  "
			}
			say("%s  %s  %s  %s: %s", verb, d.Position(), orDash(d.EventType), orDash(d.OrgID), skipMessage(d, skip))
			handled(j, true)
		case o.DryRun:
			res.Replayed++
			say("would replay  %s  %s  %s  (dead-lettered as %s, from %s)", d.Position(), orDash(d.EventType), orDash(d.OrgID), orDash(d.Reason), d.Source())
			handled(j, false)
		default:
			send(j)
		}
	}
	stopOnInterrupt := ctx.Done()

	var progressTick <-chan time.Time
	if o.Progress != nil {
		o.Progress.start = now()
		t := time.NewTicker(o.Progress.interval())
		defer t.Stop()
		progressTick = t.C
	}
	saveTick := time.NewTicker(o.SaveEvery)
	defer saveTick.Stop()
	var drainTimer <-chan time.Time
	readDone := false
	for {
		if stopping && drainTimer == nil {
			// Queued records of busy keys will not be sent.
			byKey, queued = map[string][]*job{}, 0
			t := time.NewTimer(o.DrainTimeout)
			defer t.Stop()
			drainTimer = t.C
		}
		if (readDone || stopping) && inflight == 0 && queued == 0 {
			break
		}
		in := records
		if stopping || inflight+queued >= o.MaxInFlight || readDone {
			in = nil
		}
		select {
		case d, ok := <-in:
			if !ok {
				readDone = true
				if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
					stop(err)
				}
				continue
			}
			consider(d)
		case a := <-acks:
			settle(a)
		case <-stopOnInterrupt:
			stopOnInterrupt = nil
			stop(nil)
		case <-saveTick.C:
			if err := save(false); err != nil {
				stop(err)
			}
		case <-progressTick:
			o.Progress.Update(now(), state())
		case <-drainTimer:
			// Abandon what is still on the wire: its records stay pending and
			// are sent again by the next run.
			abandon()
			drainTimer = make(chan time.Time) // never fires again
			if inflight > 0 {
				say("gave up waiting for %d records in flight after %s; the next run sends them again", inflight, o.DrainTimeout)
			}
		}
	}
	if !stopping {
		stopReading()
	}
	if !readDone {
		for range records { // let the reader goroutine finish
		}
		<-readErr
	}
	var closeErr error
	if o.Destination != nil && !o.DryRun {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.DrainTimeout)
		closeErr = o.Destination.Close(closeCtx)
		cancel()
	}
	res.Completed = fatal == nil && ctx.Err() == nil && !res.Limited && readDone
	for _, s := range parts {
		if len(s.pending) > 0 {
			res.Completed = false
		}
	}
	saveErr := save(res.Completed)
	if o.Progress != nil {
		o.Progress.Finish(now(), state())
	}
	if fatal == nil && ctx.Err() != nil {
		fatal = ctx.Err()
	}
	return res, errors.Join(fatal, saveErr, closeErr)
}

// decide says what to do with d: send it (both nil), skip it (skip is the
// classified error it would fail with), or stop the replay (err).
func decide(ctx context.Context, o Options, d deadletter.DeadLetter) (skip, err error) {
	cerr := o.Check(ctx, d)
	if cerr == nil {
		return nil, nil
	}
	if failure.ClassOf(cerr) == failure.Permanent {
		if o.Translated || (failure.ReasonOf(cerr) == d.Reason && !o.Force) {
			return cerr, nil
		}
		return nil, nil
	}
	if o.Force && !o.Translated {
		return nil, nil
	}
	return nil, fmt.Errorf("checking %s: %w", d.Position(), cerr)
}

func skipMessage(d deadletter.DeadLetter, skip error) string {
	reason := failure.ReasonOf(skip)
	msg := skip.Error()
	if fe := (*failure.Error)(nil); errors.As(skip, &fe) && fe.Err != nil {
		msg = fe.Err.Error()
	}
	if reason == d.Reason {
		return "still " + reason + ": " + msg
	}
	return "would fail as " + reason + " (dead-lettered as " + orDash(d.Reason) + "): " + msg
}
