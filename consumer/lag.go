package consumer

// Lag that moves: the committed offset lag of the owned partitions read from
// the brokers on a timer, and the age of each partition's oldest unfinished
// record, computed at every scrape.

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
)

// lagLoop refreshes the committed offset lag of the owned partitions every
// LagInterval. The lag the engine sees itself (at fetches and commits) stops
// moving while a partition is paused or stalled, which is when it matters.
func (e *Engine) lagLoop(ctx context.Context, adm *kadm.Client) {
	every(ctx, e.cfg.LagInterval, func(time.Time) {
		if err := e.refreshLag(ctx, adm); err != nil && ctx.Err() == nil {
			e.log.Debug("reading the committed offset lag failed; the next refresh retries", "err", err)
		}
	})
}

// refreshLag reads the end offsets of the owned partitions and the group's
// commits for them and sets bridge_committed_offset_lag.
func (e *Engine) refreshLag(ctx context.Context, adm *kadm.Client) error {
	parts := e.partitions()
	if len(parts) == 0 {
		return nil
	}
	topics := make([]string, 0, len(parts))
	seen := make(map[string]bool)
	for _, p := range parts {
		if !seen[p.topic] {
			seen[p.topic] = true
			topics = append(topics, p.topic)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.CommitTimeout)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return err
	}
	commits, err := adm.FetchOffsetsForTopics(ctx, e.cfg.GroupID, topics...)
	if err != nil {
		return err
	}
	var starts kadm.ListedOffsets
	for _, p := range parts {
		end, ok := ends.Lookup(p.topic, p.id)
		if !ok || end.Err != nil {
			continue
		}
		at := int64(-1)
		if c, ok := commits.Lookup(p.topic, p.id); ok && c.Err == nil {
			at = c.At
		}
		if at < 0 {
			// Nothing committed yet: the lag is the whole partition, from
			// where it starts now.
			if starts == nil {
				if starts, err = adm.ListStartOffsets(ctx, topics...); err != nil {
					return err
				}
			}
			start, ok := starts.Lookup(p.topic, p.id)
			if !ok || start.Err != nil {
				continue
			}
			at = start.Offset
		}
		p.reportLag(max(end.Offset-at, 0))
	}
	return nil
}

// reportLag sets the partition's committed offset lag, unless it was
// dropped meanwhile (its series is gone with it).
func (p *partition) reportLag(lag int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dropped {
		p.metrics.committedLag.WithLabelValues(p.topic, partitionLabel(p.id)).Set(float64(lag))
	}
}

// oldestUnfinished returns the Kafka timestamp of the partition's oldest
// record not yet published or dead-lettered, and whether it holds one.
func (p *partition) oldestUnfinished() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped || p.ledger.len() == 0 {
		return time.Time{}, false
	}
	it := p.ledger.open[0] // the front is unfinished
	if it.rec == nil {
		return it.fetched, true
	}
	return it.rec.Timestamp, true
}

// ageCollector serves bridge_oldest_unfinished_age_seconds: per owned
// partition, how old (by its Kafka timestamp) the oldest record is that is
// not yet published or dead-lettered; 0 when the partition holds none. It is
// the lag in seconds an objective on delivery time alerts on, and it grows
// while a partition is stalled whatever the lag in records.
type ageCollector struct {
	desc  *prometheus.Desc
	parts func() []*partition
	now   func() time.Time
}

func newAgeCollector(group string, parts func() []*partition) *ageCollector {
	return &ageCollector{
		desc: prometheus.NewDesc("bridge_oldest_unfinished_age_seconds",
			"Age, by its Kafka timestamp, of the oldest record of the partition not yet published or dead-lettered; 0 when it holds none. Per owned partition.",
			[]string{"topic", "partition"}, prometheus.Labels{"group": group}),
		parts: parts,
		now:   time.Now,
	}
}

// Describe implements prometheus.Collector.
func (c *ageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *ageCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	for _, p := range c.parts() {
		age := 0.0
		if ts, ok := p.oldestUnfinished(); ok {
			// A producer clock ahead of ours would give a negative age.
			age = max(now.Sub(ts).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, age, p.topic, partitionLabel(p.id))
	}
}
