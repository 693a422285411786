package consumer

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// inflightBudget counts the records fetched and not finished in the whole
// engine (bridge_inflight_events) against Config.MaxInFlight; polling waits
// while it is spent. It is safe for concurrent use.
type inflightBudget struct {
	limit int64
	n     atomic.Int64
	freed chan struct{} // cap 1; signaled when records finish
	gauge prometheus.Gauge
}

func newInflightBudget(limit int, gauge prometheus.Gauge) *inflightBudget {
	return &inflightBudget{limit: int64(limit), freed: make(chan struct{}, 1), gauge: gauge}
}

// add counts n records fetched, or -n finished or dropped.
func (b *inflightBudget) add(n int) {
	v := b.n.Add(int64(n))
	b.gauge.Set(float64(v))
	if n < 0 {
		signal(b.freed)
	}
}

// free returns how many more records may be fetched now.
func (b *inflightBudget) free() int64 { return b.limit - b.n.Load() }
