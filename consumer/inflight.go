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
	freed   chan struct{} // cap 1; signaled when bytes are given back

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
