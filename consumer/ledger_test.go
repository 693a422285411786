package consumer

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestLedger(t *testing.T) {
	type fetched struct {
		offset int64
		epoch  int32
	}
	for _, tc := range []struct {
		name string
		// fetch is taken in order, including refetches of older offsets.
		fetch []fetched
		// finish lists the offsets that reach a terminal state, in order.
		finish []int64
		// committed, when set, is marked committed after finishing (a
		// commit is never at offset 0: it is one past a record).
		committed int64

		wantTaken int
		wantOpen  int // records not yet behind the watermark
		wantPoint kgo.EpochOffset
		wantOK    bool // a commit is due
	}{
		{
			name:      "nothing finished, nothing to commit",
			fetch:     []fetched{{0, 1}, {1, 1}},
			wantTaken: 2, wantOpen: 2,
		},
		{
			name:      "contiguous finishing advances the watermark",
			fetch:     []fetched{{0, 1}, {1, 1}, {2, 1}},
			finish:    []int64{0, 1, 2},
			wantTaken: 3, wantPoint: kgo.EpochOffset{Epoch: 1, Offset: 3}, wantOK: true,
		},
		{
			name:      "out of order holds at the first unfinished offset",
			fetch:     []fetched{{0, 1}, {1, 1}, {2, 1}, {3, 1}},
			finish:    []int64{0, 2, 3},
			wantTaken: 4, wantOpen: 3, wantPoint: kgo.EpochOffset{Epoch: 1, Offset: 1}, wantOK: true,
		},
		{
			name:      "the first record unfinished: no watermark at all",
			fetch:     []fetched{{0, 1}, {1, 1}, {2, 1}},
			finish:    []int64{1, 2},
			wantTaken: 3, wantOpen: 3,
		},
		{
			name:      "the gap closes: the watermark jumps past everything finished",
			fetch:     []fetched{{0, 1}, {1, 1}, {2, 1}, {3, 1}},
			finish:    []int64{1, 3, 2, 0},
			wantTaken: 4, wantPoint: kgo.EpochOffset{Epoch: 1, Offset: 4}, wantOK: true,
		},
		{
			name:      "refetched and older offsets are ignored",
			fetch:     []fetched{{5, 1}, {6, 1}, {5, 1}, {6, 1}, {3, 1}, {7, 1}},
			finish:    []int64{5, 6, 7},
			wantTaken: 3, wantPoint: kgo.EpochOffset{Epoch: 1, Offset: 8}, wantOK: true,
		},
		{
			name:      "no commit point when the watermark is already committed",
			fetch:     []fetched{{0, 1}, {1, 1}},
			finish:    []int64{0, 1},
			committed: 2,
			wantTaken: 2, wantPoint: kgo.EpochOffset{Epoch: 1, Offset: 2},
		},
		{
			name:      "a commit point when the watermark is newer than the last commit",
			fetch:     []fetched{{0, 1}, {1, 1}, {2, 1}},
			finish:    []int64{0, 1, 2},
			committed: 2,
			wantTaken: 3, wantPoint: kgo.EpochOffset{Epoch: 1, Offset: 3}, wantOK: true,
		},
		{
			name:      "a commit answered for a later offset than the watermark: nothing due",
			fetch:     []fetched{{0, 1}, {1, 1}},
			finish:    []int64{0},
			committed: 5,
			wantTaken: 2, wantOpen: 1, wantPoint: kgo.EpochOffset{Epoch: 1, Offset: 1},
		},
		{
			name:      "the leader epoch is the last finished record's",
			fetch:     []fetched{{0, 3}, {1, 3}, {2, 4}, {3, 5}},
			finish:    []int64{0, 1, 2},
			wantTaken: 4, wantOpen: 1, wantPoint: kgo.EpochOffset{Epoch: 4, Offset: 3}, wantOK: true,
		},
		{
			name:      "gaps in offsets (compaction, transaction markers): one past the last finished record",
			fetch:     []fetched{{10, 2}, {14, 2}, {15, 2}, {20, 2}},
			finish:    []int64{10, 14},
			wantTaken: 4, wantOpen: 2, wantPoint: kgo.EpochOffset{Epoch: 2, Offset: 15}, wantOK: true,
		},
		{
			name:      "gaps in offsets, all finished",
			fetch:     []fetched{{10, 2}, {14, 2}, {20, 2}},
			finish:    []int64{20, 10, 14},
			wantTaken: 3, wantPoint: kgo.EpochOffset{Epoch: 2, Offset: 21}, wantOK: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const cost = 1000 // what each unfinished record costs
			l := newLedger()
			byOffset := make(map[int64]*item)
			taken := 0
			for _, f := range tc.fetch {
				it := &item{offset: f.offset, epoch: f.epoch, cost: cost}
				if l.take(it) {
					taken++
					byOffset[f.offset] = it
				}
			}
			released := 0
			var freed int64
			for _, off := range tc.finish {
				n, b := l.finish(byOffset[off])
				released += n
				freed += b
			}
			if tc.committed > 0 {
				l.markCommitted(tc.committed)
			}
			if taken != tc.wantTaken {
				t.Errorf("took %d records, want %d", taken, tc.wantTaken)
			}
			if l.len() != tc.wantOpen {
				t.Errorf("len() = %d, want %d", l.len(), tc.wantOpen)
			}
			if released != taken-tc.wantOpen {
				t.Errorf("finish released %d records in all, want %d", released, taken-tc.wantOpen)
			}
			// An open record costs its full cost until it finishes, heldCost
			// after; one that left costs nothing.
			finishedOpen := len(tc.finish) - released
			wantBytes := int64(tc.wantOpen-finishedOpen)*cost + int64(finishedOpen)*heldCost
			if l.bytes != wantBytes || freed != int64(taken)*cost-wantBytes {
				t.Errorf("ledger holds %d bytes after freeing %d, want %d after freeing %d", l.bytes, freed, wantBytes, int64(taken)*cost-wantBytes)
			}
			point, ok := l.commitPoint()
			if ok != tc.wantOK {
				t.Errorf("commitPoint() ok = %v, want %v", ok, tc.wantOK)
			}
			if (ok || tc.wantPoint != kgo.EpochOffset{}) && point != tc.wantPoint {
				t.Errorf("commitPoint() = %+v, want %+v", point, tc.wantPoint)
			}
		})
	}
}

// A commit answered late, for an older offset, does not move the committed
// offset back: the next commit point is still measured from the newest.
func TestLedgerMarkCommittedNeverRewinds(t *testing.T) {
	l := newLedger()
	its := make([]*item, 4)
	for i := range its {
		its[i] = &item{offset: int64(i)}
		l.take(its[i])
		l.finish(its[i])
	}
	l.markCommitted(4)
	l.markCommitted(2)
	if _, ok := l.commitPoint(); ok {
		t.Error("commit due again after an older commit was answered")
	}
	if l.committed != 4 {
		t.Errorf("committed = %d, want 4", l.committed)
	}
}

func TestLedgerLag(t *testing.T) {
	for _, tc := range []struct {
		name       string
		highWaters []int64 // in the order fetches report them; -1 is unknown
		committed  int64   // -1: nothing committed
		want       int64
		wantOK     bool
	}{
		{"nothing known", nil, -1, 0, false},
		{"high watermark known, nothing committed", []int64{10}, -1, 0, false},
		{"committed, high watermark unknown", []int64{-1}, 4, 0, false},
		{"both known", []int64{10}, 4, 6, true},
		{"an unknown high watermark keeps the last known", []int64{10, -1}, 4, 6, true},
		{"committed past a stale high watermark: no negative lag", []int64{3}, 4, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger()
			for _, hw := range tc.highWaters {
				l.setHighWater(hw)
			}
			if tc.committed >= 0 {
				l.markCommitted(tc.committed)
			}
			got, ok := l.lag()
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("lag() = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestLedgerReleaseEmptiesIt(t *testing.T) {
	l := newLedger()
	for off := range int64(3) {
		l.take(&item{offset: off, cost: 10})
	}
	l.grow(l.open[0], 5)
	if n, b := l.release(); n != 3 || b != 35 || l.len() != 0 || l.bytes != 0 {
		t.Errorf("release() = %d, %d leaving %d, %d; want 3, 35 leaving 0, 0", n, b, l.len(), l.bytes)
	}
}
