package consumer

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// Dead-letter header names (shared/spec/delivery.md). Every value is a string.
const (
	HeaderErrorClass      = "bridge.error.class"
	HeaderErrorReason     = "bridge.error.reason"
	HeaderErrorMessage    = "bridge.error.message"
	HeaderErrorSNSCode    = "bridge.error.sns_code"
	HeaderSourceTopic     = "bridge.source.topic"
	HeaderSourcePartition = "bridge.source.partition"
	HeaderSourceOffset    = "bridge.source.offset"
	HeaderSourceTimestamp = "bridge.source.timestamp"
	HeaderEventID         = "bridge.event.id"
	HeaderEventType       = "bridge.event.type"
	HeaderEventOrgID      = "bridge.event.org_id"
	HeaderTargetTopicARN  = "bridge.target.topic_arn"
	HeaderAttempts        = "bridge.attempts"
	HeaderFailedAt        = "bridge.failed_at"
	HeaderInstance        = "bridge.instance"
	HeaderVersion         = "bridge.version"
)

// HeaderReplayCount counts how many times `bridge dlq replay -to-source`
// sent a record back to its source topic. It is the one bridge.* header a
// dead letter carries over from its source record, so a record that fails
// again after a replay keeps its count.
const HeaderReplayCount = "bridge.replay.count"

// HeaderPrefix starts every header the bridge adds. Headers with this prefix
// on a source record (a replayed dead letter) are replaced, not duplicated.
const HeaderPrefix = "bridge."

// TimestampLayout is the layout of bridge.source.timestamp and
// bridge.failed_at: RFC 3339 in UTC with milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// maxErrorMessage bounds bridge.error.message. Error messages from the
// stages name what went wrong, not the payload; the bound keeps a careless
// one from copying a whole value into the header.
const maxErrorMessage = 1024

// deadLetterRecord builds the dead-letter record for it: the original key,
// value, headers and timestamp plus the bridge.* headers.
func (e *Engine) deadLetterRecord(it *item, failedAt time.Time) *kgo.Record {
	src := it.rec
	err := it.err
	class := failure.ClassOf(err)
	if class == failure.Unknown {
		class = failure.Permanent
	}
	headers := make([]kgo.RecordHeader, 0, len(src.Headers)+16)
	for _, h := range src.Headers {
		if !strings.HasPrefix(h.Key, HeaderPrefix) || h.Key == HeaderReplayCount {
			headers = append(headers, h)
		}
	}
	add := func(k, v string) { headers = append(headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
	add(HeaderErrorClass, class.String())
	add(HeaderErrorReason, reasonLabel(err))
	add(HeaderErrorMessage, truncate(err.Error(), maxErrorMessage))
	add(HeaderErrorSNSCode, failure.CodeOf(err))
	add(HeaderSourceTopic, src.Topic)
	add(HeaderSourcePartition, strconv.FormatInt(int64(src.Partition), 10))
	add(HeaderSourceOffset, strconv.FormatInt(src.Offset, 10))
	add(HeaderSourceTimestamp, src.Timestamp.UTC().Format(TimestampLayout))
	add(HeaderEventID, it.out.EventID)
	add(HeaderEventType, it.out.EventType)
	add(HeaderEventOrgID, it.out.OrgID)
	target := it.targetARN()
	if target == "" {
		target = it.out.RoutedARN
	}
	add(HeaderTargetTopicARN, target)
	add(HeaderAttempts, strconv.Itoa(max(it.attempts, 1)))
	add(HeaderFailedAt, failedAt.UTC().Format(TimestampLayout))
	add(HeaderInstance, e.instance)
	add(HeaderVersion, e.version)
	return &kgo.Record{
		Topic:     deadLetterTopic(e.cfg.DeadLetterTopic, src.Topic),
		Key:       src.Key,
		Value:     src.Value,
		Headers:   headers,
		Timestamp: src.Timestamp,
	}
}

// deadLetterPattern is a regular expression matching every topic the
// template can produce.
func deadLetterPattern(template string) string {
	parts := strings.Split(template, "{topic}")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return "^" + strings.Join(parts, ".+") + "$"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// produceDeadLetter writes it to its dead-letter topic; p.deadLettered gets
// the answer once the write is acknowledged by all in-sync replicas, fails,
// or ctx is canceled.
func (e *Engine) produceDeadLetter(ctx context.Context, p *partition, it *item) {
	rec := e.deadLetterRecord(it, time.Now())
	e.dlq.Produce(ctx, rec, func(_ *kgo.Record, err error) { p.deadLettered(it, err) })
}
