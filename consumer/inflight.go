package consumer

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// bufferBudget counts what the whole engine holds of records fetched and not
// yet behind their partition's watermark, in records (bridge_inflight_events)
// and in bytes as cost.go counts them (bridge_buffered_bytes), against
// Config.MaxBufferedBytes; polling waits while it is spent. It is safe for
// concurrent use.
type bufferBudget struct {
	limit   int64
	bytes   atomic.Int64
	records atomic.Int64
	// busy counts the owned partitions with work: records buffered or a
	// backlog on the broker (partition.updateBusyLocked). Each holds at most
	// its share of limit (partition.bufferLimitLocked).
	busy  atomic.Int64
	freed chan struct{} // cap 1; signaled when bytes are given back

	bytesGauge, recordsGauge prometheus.Gauge
}

func newBufferBudget(limit int64, bytesGauge, recordsGauge prometheus.Gauge) *bufferBudget {
	return &bufferBudget{limit: limit, freed: make(chan struct{}, 1), bytesGauge: bytesGauge, recordsGauge: recordsGauge}
}

// add counts records and bytes taken, or given back when negative.
func (b *bufferBudget) add(records int, bytes int64) {
	// The gauges add rather than set: two adds racing cannot leave a stale
	// value behind.
	b.records.Add(int64(records))
	b.recordsGauge.Add(float64(records))
	b.bytes.Add(bytes)
	b.bytesGauge.Add(float64(bytes))
	if bytes < 0 {
		signal(b.freed)
	}
}

// free returns how many more bytes may be fetched now.
func (b *bufferBudget) free() int64 { return b.limit - b.bytes.Load() }

// Partitions with work share three quarters of the engine's budget, so that
// their buffers together stay below it (the package doc, "Bounded memory",
// says why).
const (
	busyShareNum, busyShareDen = 3, 4
	// minShareDiv: a partition's share is never under
	// MaxBufferedBytesPerPartition/minShareDiv (1 MiB by default), so that
	// many busy partitions do not each pause after a few records; then the
	// engine's budget bounds them together again.
	minShareDiv = 8
)

// share is what one of the busy partitions may hold, for a partition whose
// own bound is perPartition.
func (b *bufferBudget) share(perPartition int64) int64 {
	n := b.busy.Load()
	if n <= 1 {
		return perPartition
	}
	return min(perPartition, max(b.limit*busyShareNum/busyShareDen/n, perPartition/minShareDiv))
}
