package consumer

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// While several partitions have work, each may buffer only its share of the
// engine's budget, three quarters of it split among them, so that they
// never spend it together and every one of them is refilled as it drains;
// a share never falls under an eighth of the partition's own bound, and a
// partition alone keeps its own bound. A partition is busy while it holds
// records or the broker holds more of it.
func TestBusyPartitionsShareTheBuffer(t *testing.T) {
	const perPartition, total = 8 << 20, 32 << 20
	b := newBufferBudget(total, prometheus.NewGauge(prometheus.GaugeOpts{Name: "b"}), prometheus.NewGauge(prometheus.GaugeOpts{Name: "r"}))
	newP := func() *partition {
		return &partition{partitionDeps: partitionDeps{budget: b, maxBufferedBytes: perPartition}, ledger: newLedger()}
	}
	var ps []*partition
	for range 64 {
		ps = append(ps, newP())
	}
	busy := func(p *partition, offset int64) {
		p.ledger.take(&item{offset: offset, cost: 100})
		p.updateBusyLocked()
	}
	limit := func(p *partition) int64 { return p.bufferLimitLocked() }

	if got := limit(ps[0]); got != perPartition {
		t.Errorf("no partition busy: limit %d, want the partition's own %d", got, perPartition)
	}
	busy(ps[0], 0)
	if got := limit(ps[0]); got != perPartition {
		t.Errorf("one partition busy: limit %d, want the partition's own %d", got, perPartition)
	}
	busy(ps[1], 0)
	busy(ps[1], 1) // a second record does not count the partition twice
	if got := limit(ps[0]); got != perPartition {
		t.Errorf("two busy: limit %d, want the partition's own %d (their share, 12 MiB, is more)", got, perPartition)
	}
	for _, p := range ps[2:8] {
		busy(p, 0)
	}
	if got, want := limit(ps[0]), int64(total*3/4/8); got != want {
		t.Errorf("eight busy: limit %d, want %d (three quarters of %d over 8)", got, want, total)
	}
	for _, p := range ps[8:] {
		busy(p, 0)
	}
	if got, want := limit(ps[0]), int64(perPartition/8); got != want {
		t.Errorf("64 busy: limit %d, want the floor %d", got, want)
	}

	// Partitions that finish their records and have nothing left on the
	// broker stop counting; one with a backlog there still counts.
	for i, p := range ps[1:] {
		p.ledger.finish(p.ledger.open[0])
		if len(p.ledger.open) > 0 {
			p.ledger.finish(p.ledger.open[0])
		}
		next := p.ledger.next
		p.ledger.setHighWater(next) // caught up
		if i == 0 {
			p.ledger.setHighWater(next + 50)
		}
		p.updateBusyLocked()
	}
	if got := b.busy.Load(); got != 2 {
		t.Fatalf("%d partitions busy, want 2 (one with records, one with a backlog on the broker)", got)
	}
	if got, want := limit(ps[0]), int64(perPartition); got != want {
		t.Errorf("two busy again: limit %d, want %d", got, want)
	}
}
