package sns

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// maxEventTypeLabels bounds the event_type label: event types past this many
// distinct values (custom object types are open-ended) count as "other".
const maxEventTypeLabels = 200

// Metrics are the publisher's Prometheus metrics. A nil *Metrics records
// nothing. Safe for concurrent use.
type Metrics struct {
	published    *prometheus.CounterVec
	batchSize    prometheus.Histogram
	duration     prometheus.Histogram
	errors       *prometheus.CounterVec
	retries      *prometheus.CounterVec
	breakerState *prometheus.GaugeVec
	inflight     prometheus.Gauge
	orderBreak   *prometheus.CounterVec
	throttled    *prometheus.CounterVec
	sendRate     *prometheus.GaugeVec
	unusableVec  *prometheus.GaugeVec

	mu         sync.Mutex
	eventTypes map[string]struct{}
}

// NewMetrics creates the publisher's metrics and registers them on reg:
//
//	bridge_sns_published_total{topic_arn,event_type}  entries SNS accepted
//	bridge_sns_publish_batch_size                     entries per PublishBatch call
//	bridge_sns_publish_duration_seconds               PublishBatch call latency
//	bridge_sns_errors_total{class,code}               failed entry attempts
//	bridge_sns_retries_total{code}                    entries scheduled for another attempt
//	bridge_sns_breaker_state{topic_arn}               0 closed, 1 half-open, 2 open
//	bridge_sns_inflight_entries                       entries accepted and not yet done
//	bridge_order_breaks_total{topic_arn}              entries published while an earlier one of their run awaited a retry
//	bridge_sns_throttled_total{topic_arn}             entry attempts SNS refused for the rate (a throttled call counts each entry)
//	bridge_sns_send_rate_limit{topic_arn}             the topic's adaptive send limit in entries/s; 0 = unlimited
//	bridge_sns_unusable{topic_arn}                    1 while SNS is unusable for the topic's waiting entries (Publisher.TopicUnusable)
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_sns_published_total",
			Help: "Entries SNS accepted (returned a MessageId), by topic ARN and event type.",
		}, []string{"topic_arn", "event_type"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bridge_sns_publish_batch_size",
			Help:    "Entries per PublishBatch call.",
			Buckets: prometheus.LinearBuckets(1, 1, 10),
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bridge_sns_publish_duration_seconds",
			Help:    "Latency of PublishBatch calls, failed ones included.",
			Buckets: []float64{.002, .005, .01, .015, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_sns_errors_total",
			Help: "Failed entry attempts by error class and SNS error code (a failed call counts once per entry it carried).",
		}, []string{"class", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_sns_retries_total",
			Help: "Entries scheduled for another PublishBatch attempt, by the SNS error code that caused it.",
		}, []string{"code"}),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bridge_sns_breaker_state",
			Help: "Circuit breaker state per topic: 0 closed, 1 half-open, 2 open.",
		}, []string{"topic_arn"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bridge_sns_inflight_entries",
			Help: "Entries accepted by the publisher whose outcome is not yet reported.",
		}),
		orderBreak: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_order_breaks_total",
			Help: "Entries SNS published while an earlier entry of the same key, in the same PublishBatch call, failed and awaited a retry: subscribers saw them before it.",
		}, []string{"topic_arn"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_sns_throttled_total",
			Help: "Entry attempts SNS refused with throttling, by topic ARN (a call throttled as a whole counts once per entry it carried).",
		}, []string{"topic_arn"}),
		sendRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bridge_sns_send_rate_limit",
			Help: "The topic's adaptive limit on entries sent per second, set after SNS throttles; 0 means unlimited.",
		}, []string{"topic_arn"}),
		unusableVec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bridge_sns_unusable",
			Help: "1 while SNS is unusable for the topic's waiting entries: its breaker is not closed, or no call succeeded for sns.call_timeout while they waited.",
		}, []string{"topic_arn"}),
		eventTypes: make(map[string]struct{}),
	}
	for _, c := range []prometheus.Collector{m.published, m.batchSize, m.duration, m.errors, m.retries, m.breakerState,
		m.inflight, m.orderBreak, m.throttled, m.sendRate, m.unusableVec} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) eventTypeLabel(t string) string {
	if t == "" {
		return "unknown"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.eventTypes[t]; ok {
		return t
	}
	if len(m.eventTypes) >= maxEventTypeLabels {
		return "other"
	}
	m.eventTypes[t] = struct{}{}
	return t
}

func (m *Metrics) publishedEntry(topicARN, eventType string) {
	if m == nil {
		return
	}
	m.published.WithLabelValues(topicARN, m.eventTypeLabel(eventType)).Inc()
}

func (m *Metrics) call(entries int, d time.Duration) {
	if m == nil {
		return
	}
	m.batchSize.Observe(float64(entries))
	m.duration.Observe(d.Seconds())
}

func (m *Metrics) failed(fe *failure.Error, n int) {
	if m == nil || n == 0 {
		return
	}
	m.errors.WithLabelValues(fe.Class.String(), fe.Code).Add(float64(n))
}

func (m *Metrics) retried(code string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(code).Inc()
}

func (m *Metrics) breaker(topicARN string, s gobreaker.State) {
	if m == nil {
		return
	}
	m.breakerState.WithLabelValues(topicARN).Set(float64(s))
}

func (m *Metrics) inflightAdd(n int) {
	if m == nil {
		return
	}
	m.inflight.Add(float64(n))
}

// topic starts topicARN's series: its breaker closed, no order break, no
// throttling, no rate limit, usable.
func (m *Metrics) topic(topicARN string) {
	if m == nil {
		return
	}
	m.breakerState.WithLabelValues(topicARN).Set(float64(gobreaker.StateClosed))
	m.orderBreak.WithLabelValues(topicARN)
	m.throttled.WithLabelValues(topicARN)
	m.sendRate.WithLabelValues(topicARN).Set(0)
	m.unusableVec.WithLabelValues(topicARN).Set(0)
}

func (m *Metrics) orderBreaks(topicARN string, n int) {
	if m == nil {
		return
	}
	m.orderBreak.WithLabelValues(topicARN).Add(float64(n))
}

func (m *Metrics) throttledEntries(topicARN string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.throttled.WithLabelValues(topicARN).Add(float64(n))
}

func (m *Metrics) rateLimit(topicARN string, entriesPerSecond float64) {
	if m == nil {
		return
	}
	m.sendRate.WithLabelValues(topicARN).Set(entriesPerSecond)
}

func (m *Metrics) unusable(topicARN string, unusable bool) {
	if m == nil {
		return
	}
	v := 0.0
	if unusable {
		v = 1
	}
	m.unusableVec.WithLabelValues(topicARN).Set(v)
}
