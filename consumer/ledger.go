package consumer

import "github.com/twmb/franz-go/pkg/kgo"

// ledger is the offset ledger of one partition: the fetched records that
// are not yet behind the watermark, in offset order, and the watermark
// itself. The watermark is one past the last finished record before the
// first unfinished one, with that record's leader epoch: it is what a commit
// of the partition sends. Kafka offsets need not be contiguous (compaction,
// transaction markers), so the watermark follows the records taken, not
// offset arithmetic. The ledger also counts what its records cost in bytes
// (cost.go): a record costs its item's cost until it finishes and heldCost
// from then until it leaves the ledger. A ledger is not safe for concurrent
// use; the partition guards it.
type ledger struct {
	// open holds every taken record not yet behind the watermark, in offset
	// order; its front is the first unfinished one.
	open []*item
	// next is one past the last offset taken: a refetch of an older offset
	// must neither reorder nor duplicate the ledger.
	next int64

	watermark    kgo.EpochOffset
	hasWatermark bool
	committed    int64 // last offset committed by this member, -1 if none
	highWater    int64 // the partition's high watermark at the last fetch, -1 if unknown

	bytes int64 // what the records in open cost
}

func newLedger() ledger { return ledger{committed: -1, highWater: -1} }

// take appends it as an unfinished record costing it.cost. It reports
// false, and takes nothing, when its offset was already taken (a refetch).
func (l *ledger) take(it *item) bool {
	if it.offset < l.next {
		return false
	}
	l.next = it.offset + 1
	l.open = append(l.open, it)
	l.bytes += it.cost
	return true
}

// grow adds n bytes to the cost of it, an unfinished record (its entry,
// once translated).
func (l *ledger) grow(it *item, n int64) {
	it.cost += n
	l.bytes += n
}

// finish marks it finished, lowers its cost to heldCost and moves the
// watermark past every finished record at the front. It returns how many
// records left the ledger and how many bytes it no longer holds.
func (l *ledger) finish(it *item) (records int, freed int64) {
	it.finished = true
	freed = it.cost - heldCost
	it.cost = heldCost
	n := 0
	for n < len(l.open) && l.open[n].finished {
		last := l.open[n]
		l.watermark = kgo.EpochOffset{Epoch: last.epoch, Offset: last.offset + 1}
		l.hasWatermark = true
		freed += last.cost
		l.open[n] = nil
		n++
	}
	l.open = l.open[n:]
	l.bytes -= freed
	return n, freed
}

// len is the number of records taken and not yet behind the watermark: what
// the partition buffers.
func (l *ledger) len() int { return len(l.open) }

// commitPoint returns the watermark and whether it is newer than the last
// commit.
func (l *ledger) commitPoint() (kgo.EpochOffset, bool) {
	return l.watermark, l.hasWatermark && l.watermark.Offset > l.committed
}

// markCommitted records that off was committed; an older offset (a commit
// answered late) does not move the committed offset back.
func (l *ledger) markCommitted(off int64) {
	l.committed = max(l.committed, off)
}

// setHighWater records the partition's high watermark from a fetch; a
// negative one (unknown) is ignored.
func (l *ledger) setHighWater(hw int64) {
	if hw >= 0 {
		l.highWater = hw
	}
}

// lag returns the high watermark minus the committed offset, once both are
// known.
func (l *ledger) lag() (int64, bool) {
	if l.highWater < 0 || l.committed < 0 {
		return 0, false
	}
	return max(l.highWater-l.committed, 0), true
}

// release empties the ledger and returns how many records and bytes it held.
func (l *ledger) release() (records int, bytes int64) {
	records, bytes = len(l.open), l.bytes
	l.open, l.bytes = nil, 0
	return records, bytes
}
