package consumer

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scopeID names an ordering scope: an ordering key and the topic its events
// go to. Order holds within a scope: subscribers of one topic never see
// another topic's events, and SNS orders nothing across topics, so an
// organization's events for a blocked topic do not hold back its events for
// a healthy one. A record that failed translation belongs to the topic it
// was routed to before it failed, or to none ("").
type scopeID struct {
	key string
	arn string
}

// scope is one ordering scope of a partition: its unfinished items in offset
// order and the runs it has out. A run is consecutive waiting items from the
// front, handed out together: to the publisher as one PublishRun, or, for a
// head that failed permanently, to the dead-letter producer alone. A strict
// scope has at most one run out, so its events reach SNS in offset order
// whatever the publisher retries; a relaxed scope (Outbound.Relaxed) has up
// to runLimits.inflight. A scope is busy until every item of a run is
// terminal (published or dead-lettered) or handed back.
type scope struct {
	id scopeID
	// items are the scope's items in offset order: every unfinished one,
	// and finished ones behind an unfinished one that was out at the same
	// time (trimmed once the front reaches them).
	items    []*item
	finished int   // finished items still in items
	sent     int   // unfinished items out
	runs     int   // runs out
	bytes    int64 // what the unfinished items cost

	queued          bool // in the partition's ready list
	parked, atLimit bool // what the gauges count for it
}

// run is items of one scope handed out together.
type run struct {
	scope *scope
	items []*item
	// left counts the items not yet finished nor handed back; the run is
	// out until it is zero.
	left int
	// answered marks the items the publisher answered, so that a second
	// answer for one (a publisher bug) cannot count twice.
	answered []bool
}

// runLimits bound the runs a scope hands out.
type runLimits struct {
	entries  int // most items in one run: min(MaxRunPerKey, the publisher's RunLimit)
	bytes    int // most Entry.Size of one run's items together (the publisher's RunLimit)
	inflight int // most runs out at once of a relaxed scope (MaxInflightPerKey)
}

// unfinished is the scope's backlog: items not yet published or dead-lettered.
func (s *scope) unfinished() int { return len(s.items) - s.finished }

// headIndex is the index of the first waiting item, or -1.
func (s *scope) headIndex() int {
	if s.unfinished() == s.sent {
		return -1
	}
	for i, it := range s.items {
		if !it.sent { // finished items were sent
			return i
		}
	}
	return -1
}

// limitFor is how many runs may be out while head waits.
func limitFor(head *item, inflight int) int {
	if head.err != nil || !head.out.Relaxed {
		return 1 // strict, and a dead letter goes alone
	}
	return inflight
}

// mayStart reports whether the head may go out once it is due.
func (s *scope) mayStart(inflight int) bool {
	i := s.headIndex()
	if i < 0 {
		return false
	}
	head := s.items[i]
	if head.err != nil || !head.out.Relaxed {
		return s.runs == 0
	}
	return s.runs < inflight
}

// take hands out the scope's next run: up to lim.entries consecutive waiting
// items from the head that are translated, due, below offset below, of the
// head's order (strict or relaxed), and within lim.bytes together; or the
// head alone when it is to be dead-lettered. It returns nil when the head
// may not go out at now or is not below below.
func (s *scope) take(now time.Time, lim runLimits, below int64) *run {
	if !s.mayStart(lim.inflight) {
		return nil
	}
	i := s.headIndex()
	head := s.items[i]
	if head.due.After(now) || head.offset >= below {
		return nil
	}
	n := 1
	if head.err == nil {
		size := entrySize(head.out.Entry)
		for j := i + 1; j < len(s.items) && n < lim.entries; j++ {
			it := s.items[j]
			if it.sent || it.err != nil || it.out.Relaxed != head.out.Relaxed || it.due.After(now) || it.offset >= below ||
				size+entrySize(it.out.Entry) > lim.bytes {
				break
			}
			size += entrySize(it.out.Entry)
			n++
		}
	}
	rn := &run{scope: s, items: slices.Clone(s.items[i : i+n]), left: n, answered: make([]bool, n)}
	for _, it := range rn.items {
		it.sent, it.run = true, rn
	}
	s.sent += n
	s.runs++
	return rn
}

// settle takes it out of its run: it finished or was handed back. The run
// ends when none of its items is left.
func (s *scope) settle(it *item) {
	rn := it.run
	if rn == nil {
		return
	}
	it.run = nil
	if rn.left--; rn.left == 0 {
		s.runs--
	}
}

// scopes hold a partition's translated, unfinished items by ordering scope.
// They are not safe for concurrent use; the partition guards them.
type scopes struct {
	byID     map[scopeID]*scope
	inflight int // Config.MaxInflightPerKey
	// parked counts scopes with items waiting behind a run that is out
	// (bridge_parked_keys); atLimit those whose waiting items are held back
	// only by their in-flight limit (bridge_keys_at_limit). Both gauges are
	// shared by every partition of the engine.
	parked, atLimit prometheus.Gauge
}

func newScopes(inflight int, parked, atLimit prometheus.Gauge) scopes {
	return scopes{byID: make(map[scopeID]*scope), inflight: inflight, parked: parked, atLimit: atLimit}
}

// push queues it, translated, behind the earlier items of its scope and
// returns the scope.
func (ss *scopes) push(it *item, id scopeID) *scope {
	s := ss.byID[id]
	if s == nil {
		s = &scope{id: id}
		ss.byID[id] = s
	}
	it.scope = s
	s.items = append(s.items, it)
	s.bytes += it.cost
	ss.refresh(s)
	return s
}

// take hands out s's next run (scope.take) and updates the gauges.
func (ss *scopes) take(s *scope, now time.Time, lim runLimits, below int64) *run {
	lim.inflight = ss.inflight
	rn := s.take(now, lim, below)
	if rn != nil {
		ss.refresh(s)
	}
	return rn
}

// finish removes it from its scope once it is published or dead-lettered;
// a scope left with nothing goes.
func (ss *scopes) finish(it *item) {
	s := it.scope
	s.settle(it)
	it.finished = true
	s.sent--
	s.finished++
	s.bytes -= it.cost
	for len(s.items) > 0 && s.items[0].finished {
		s.items[0] = nil
		s.items = s.items[1:]
		s.finished--
	}
	ss.refresh(s)
	if len(s.items) == 0 && ss.byID[s.id] == s {
		delete(ss.byID, s.id)
	}
}

// handBack returns it, out and unfinished, to its scope's waiting items:
// the publisher gave it back, to be published again in order.
func (ss *scopes) handBack(it *item) {
	s := it.scope
	s.settle(it)
	it.sent = false
	s.sent--
	ss.refresh(s)
}

// mayStart reports whether s's head may go out once due.
func (ss *scopes) mayStart(s *scope) bool { return s.mayStart(ss.inflight) }

// refresh recounts s in the gauges.
func (ss *scopes) refresh(s *scope) {
	parked, atLimit := false, false
	if i := s.headIndex(); i >= 0 && s.runs > 0 {
		parked = true
		head := s.items[i]
		atLimit = head.err == nil && s.runs >= limitFor(head, ss.inflight)
	}
	flip(ss.parked, &s.parked, parked)
	flip(ss.atLimit, &s.atLimit, atLimit)
}

func flip(g prometheus.Gauge, was *bool, now bool) {
	switch {
	case now && !*was:
		g.Inc()
	case !now && *was:
		g.Dec()
	}
	*was = now
}

// clear drops every scope and takes it off the gauges.
func (ss *scopes) clear() {
	for _, s := range ss.byID {
		flip(ss.parked, &s.parked, false)
		flip(ss.atLimit, &s.atLimit, false)
	}
	ss.byID = nil
}
