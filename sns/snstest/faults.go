// Fault injection, which real SNS has no counterpart of. A fault selects
// requests by action and topic and then fails them as a whole (an error
// answer with SNS's status for the code, added latency, or a dropped
// connection); with an Entry predicate it fails the chosen entries of a
// PublishBatch (listed as Failed) or, with WholeRequest, the whole call that
// holds one, the way SNS answers some validation errors.

package snstest

import (
	"cmp"
	"context"
	"sync/atomic"
	"time"
)

// Fault is an injected failure. Matching requests (by Action and TopicARN,
// empty meaning any) fail as described; Times bounds how many requests (or,
// with Entry, entries) it hits, 0 meaning until removed.
type Fault struct {
	Action   string
	TopicARN string
	// Entry makes the fault per entry: in a PublishBatch, matching entries are
	// listed as Failed with Code, Message and SenderFault while the others go
	// through; a matching Publish fails as a whole.
	Entry func(Message) bool
	// WholeRequest, with Entry, fails a PublishBatch that holds a matching
	// entry as a whole, the way SNS answers some validation errors (e.g. an
	// empty attribute value) with a 400 for the entire request.
	WholeRequest bool
	// Code, Message and Status describe the failure. Status defaults from the
	// code (400 for most, 404 NotFound, 403 AuthorizationError, 429
	// Throttled, 500 InternalError). An empty Code with a Status of 5xx is a
	// bare server error; an empty Code and Status only adds Latency.
	Code        string
	Message     string
	Status      int
	SenderFault bool
	// Latency delays the answer (with or without a failure).
	Latency time.Duration
	// Drop closes the connection without an answer: the client sees a
	// network error, as in an outage.
	Drop  bool
	Times int

	hits atomic.Int64
}

// Inject adds a fault; call remove to end it. Faults are checked in the
// order they were added.
func (s *Server) Inject(f *Fault) (remove func()) {
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, g := range s.faults {
			if g == f {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// Outage makes every request fail with a dropped connection until the
// returned func is called.
func (s *Server) Outage() (end func()) { return s.Inject(&Fault{Drop: true}) }

// FailEntries fails the entries match selects with code and senderFault
// until the returned func is called.
func (s *Server) FailEntries(match func(Message) bool, code string, senderFault bool) (remove func()) {
	return s.Inject(&Fault{Action: "PublishBatch", Entry: match, Code: code, SenderFault: senderFault,
		Message: "injected failure"})
}

// wholeFaultLocked returns the first whole-request fault matching, counting
// its hit. Entry faults are applied per entry elsewhere.
func (s *Server) wholeFaultLocked(action, arn string) *Fault {
	for _, f := range s.faults {
		if f.Entry != nil || !f.matches(action, arn) {
			continue
		}
		if f.Times > 0 && f.hits.Add(1) > int64(f.Times) {
			continue
		}
		return f
	}
	return nil
}

// apply carries out a whole-request fault: its latency, then a dropped
// connection or an error answer. It returns nil for a fault that only adds
// latency, and errDropped when ctx ends first.
func (f *Fault) apply(ctx context.Context) error {
	if f.Latency > 0 {
		if err := sleep(ctx, f.Latency); err != nil {
			return err
		}
	}
	if f.Drop {
		return errDropped
	}
	if f.Code == "" && f.Status == 0 {
		return nil
	}
	st := cmp.Or(f.Status, errorStatus(f.Code))
	return &apiError{status: st, code: f.Code, message: cmp.Or(f.Message, "injected fault"), sender: st < 500}
}

func (f *Fault) matches(action, arn string) bool {
	return (f.Action == "" || f.Action == action) && (f.TopicARN == "" || f.TopicARN == arn)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errDropped
	}
}

func anyFault(*Fault) bool        { return true }
func wholeFault(f *Fault) bool    { return f.WholeRequest }
func perEntryFault(f *Fault) bool { return !f.WholeRequest }

// entryFaultLocked returns the first entry fault that selects m, among the
// faults keep allows.
func (s *Server) entryFaultLocked(action string, m *Message, keep func(*Fault) bool) *Fault {
	for _, f := range s.faults {
		if f.Entry == nil || !keep(f) || !f.matches(action, m.TopicARN) || !f.Entry(*m) {
			continue
		}
		if f.Times > 0 && f.hits.Add(1) > int64(f.Times) {
			continue
		}
		return f
	}
	return nil
}
