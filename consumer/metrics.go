package consumer

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// metrics are the engine's Prometheus series. Publish counts per topic ARN
// belong to sns/; the engine's own count is bridge_events_delivered_total,
// which counts events the engine saw acknowledged end to end.
type metrics struct {
	consumed         *prometheus.CounterVec // topic
	delivered        *prometheus.CounterVec // topic_arn, event_type
	endToEnd         prometheus.Histogram   //
	deadLetters      *prometheus.CounterVec // reason
	errors           *prometheus.CounterVec // class, reason
	retries          *prometheus.CounterVec // reason
	inflight         prometheus.Gauge       //
	bufferedBytes    prometheus.Gauge       //
	parkedKeys       prometheus.Gauge       //
	keysAtLimit      prometheus.Gauge       //
	committedLag     *prometheus.GaugeVec   // topic, partition (and the group, constant)
	translateStalled prometheus.Gauge       //
	rebalances       *prometheus.CounterVec // kind
	paused           prometheus.Gauge       //
	partitionPauses  *prometheus.CounterVec // reason
	commits          *prometheus.CounterVec // result
	abandoned        prometheus.Counter
}

// newMetrics makes the engine's series and registers them on reg, unless
// reg is nil. The lag series carry the consumer group as a label.
func newMetrics(reg prometheus.Registerer, group string) (*metrics, error) {
	var all []prometheus.Collector
	add := func(c prometheus.Collector) { all = append(all, c) }
	counters := func(o prometheus.Opts, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts(o), labels)
		add(c)
		return c
	}
	gauge := func(o prometheus.Opts) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts(o))
		add(g)
		return g
	}
	m := &metrics{
		consumed: counters(prometheus.Opts{Name: "bridge_records_consumed_total",
			Help: "Records fetched from the source topics."}, "topic"),
		delivered: counters(prometheus.Opts{Name: "bridge_events_delivered_total",
			Help: "Events acknowledged by SNS as seen by the delivery engine, by topic ARN and event type."}, "topic_arn", "event_type"),
		endToEnd: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bridge_end_to_end_latency_seconds",
			Help:    "Time from the event's timestamp to its SNS acknowledgement.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}),
		deadLetters: counters(prometheus.Opts{Name: "bridge_dead_letters_total",
			Help: "Records written to a dead-letter topic (acknowledged), by reason."}, "reason"),
		errors: counters(prometheus.Opts{Name: "bridge_errors_total",
			Help: "Errors seen by the delivery engine (translate, permanent publish results, dead-letter produce), by class and reason."}, "class", "reason"),
		retries: counters(prometheus.Opts{Name: "bridge_retries_total",
			Help: "Retries by the delivery engine: transient translate errors and failed dead-letter produces, by reason."}, "reason"),
		inflight: gauge(prometheus.Opts{Name: "bridge_inflight_events",
			Help: "Records fetched and not yet behind their partition's watermark (unfinished, or finished behind an unfinished one)."}),
		bufferedBytes: gauge(prometheus.Opts{Name: "bridge_buffered_bytes",
			Help: "What the records counted in bridge_inflight_events cost in the engine's byte bounds: record, entry and bookkeeping."}),
		parkedKeys: gauge(prometheus.Opts{Name: "bridge_parked_keys",
			Help: "Ordering scopes (key and target topic) with events waiting behind ones that are out (publishing, retrying or dead-lettering)."}),
		keysAtLimit: gauge(prometheus.Opts{Name: "bridge_keys_at_limit",
			Help: "Ordering scopes whose waiting events are held back only by their in-flight limit (one run, or ordering.max_inflight_per_key when relaxed)."}),
		committedLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name:        "bridge_committed_offset_lag",
			Help:        "End offset minus the group's committed offset, per owned partition: read from the brokers every kafka.lag_interval, and updated at fetches and commits.",
			ConstLabels: prometheus.Labels{"group": group},
		}, []string{"topic", "partition"}),
		translateStalled: gauge(prometheus.Opts{Name: "bridge_translate_stalled_partitions",
			Help: "Owned partitions whose translation is stalled: retrying a transient decode error (schema registry unavailable), or in one decode for over a second."}),
		rebalances: counters(prometheus.Opts{Name: "bridge_rebalances_total",
			Help: "Partition assignment changes seen by this member, by kind (assigned, revoked, lost)."}, "kind"),
		paused: gauge(prometheus.Opts{Name: "bridge_paused_partitions",
			Help: "Owned partitions whose fetching is paused because their buffer is full."}),
		partitionPauses: counters(prometheus.Opts{Name: "bridge_partition_pauses_total",
			Help: "Partitions pausing at a full buffer, by reason: hot_key (one key and topic holds more than half of it), topic_blocked (events for blocked topics hold more than half), buffer (neither)."}, "reason"),
		commits: counters(prometheus.Opts{Name: "bridge_offset_commits_total",
			Help: "Offset commit requests, by result (ok, error)."}, "result"),
		abandoned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_abandoned_total",
			Help: "Entries and dead-letter produces abandoned at the drain deadline of a revocation or shutdown, on partition loss, or because the publisher closed first; their records are redelivered.",
		}),
	}
	add(m.endToEnd)
	add(m.committedLag)
	add(m.abandoned)
	// Series that alerts and dashboards rate() over exist from the start at
	// zero, so the first dead letter of a kind shows as an increase rather
	// than as a series appearing out of nowhere.
	for _, r := range []string{failure.ReasonUndecodable, failure.ReasonBadMagic, failure.ReasonUnknownSchema,
		failure.ReasonSchemaInvalid, failure.ReasonMissingField, failure.ReasonUnroutable, failure.ReasonTooLarge,
		failure.ReasonSNSRejected} {
		m.deadLetters.WithLabelValues(r)
	}
	for _, k := range []string{"assigned", "revoked", "lost"} {
		m.rebalances.WithLabelValues(k)
	}
	for _, r := range []string{pauseBuffer, pauseHotKey, pauseTopicBlocked} {
		m.partitionPauses.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// observeDelivered counts an event SNS acknowledged and its end-to-end
// latency.
func (m *metrics) observeDelivered(out Outbound) {
	m.delivered.WithLabelValues(out.Entry.TopicARN, out.EventType).Inc()
	if !out.EventTime.IsZero() {
		// A producer clock ahead of ours would give a negative latency;
		// count it as instant rather than skew the histogram's sum.
		m.endToEnd.Observe(max(time.Since(out.EventTime).Seconds(), 0))
	}
}

func partitionLabel(p int32) string { return strconv.FormatInt(int64(p), 10) }
