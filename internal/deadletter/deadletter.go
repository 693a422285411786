// Package deadletter is the dead-letter record format, shared by the bridge
// that writes dead letters (consumer) and the tools that read and replay them
// (internal/dlq, `bridge dlq`): the header names of shared/spec/delivery.md,
// the topic naming rule, Build and Parse. It is data only: it does no I/O and
// imports none of the bridge's stages.
//
// A dead letter keeps its source record's key, value, headers and timestamp
// and adds the bridge.* headers below, every value a string.
package deadletter

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header names (shared/spec/delivery.md). Every value is a string.
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
	// HeaderOffloadObject names the S3 object (s3://bucket/key) holding an
	// offloaded event whose pointer message was dead-lettered; only such
	// records carry it.
	HeaderOffloadObject = "bridge.offload.object"
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

// DefaultTopic is the default dead-letter topic template: {topic} is replaced
// by the source topic's name.
const DefaultTopic = "{topic}.dlq"

// MaxErrorMessage bounds bridge.error.message. Error messages from the
// stages name what went wrong, not the payload; the bound keeps a careless
// one from copying a whole value into the header.
const MaxErrorMessage = 1024

// Topic resolves a dead-letter topic template for a source topic.
func Topic(template, source string) string {
	return strings.ReplaceAll(template, "{topic}", source)
}

// Pattern is a regular expression matching every topic the template can
// produce, so that a consumer of a topic pattern can exclude dead letters.
func Pattern(template string) string {
	parts := strings.Split(template, "{topic}")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return "^" + strings.Join(parts, ".+") + "$"
}

// Failure is what the bridge records about why it gave up on a record.
type Failure struct {
	// Class and Reason are the failure's class and reason (internal/failure).
	Class, Reason string
	// Message is the error text, at most MaxErrorMessage bytes once built.
	Message string
	// SNSCode is the SNS error code, empty when SNS did not answer one.
	SNSCode string

	EventID, EventType, OrgID string
	// TargetARN is the topic the event was routed to, empty when it was not.
	TargetARN string

	// Attempts counts translate attempts or PublishBatch calls; at least 1.
	Attempts int
	// FailedAt is when the bridge gave up on the record.
	FailedAt time.Time
	// Instance and Version name the bridge replica that wrote the dead letter.
	Instance, Version string
	// OffloadObject is s3://bucket/key of the event's stored body when its
	// route offloaded it; empty otherwise.
	OffloadObject string
}

// Build returns the dead-letter record of src: its key, value, headers and
// timestamp, without bridge.* headers other than HeaderReplayCount, plus the
// bridge.* headers describing f, addressed to the topic template resolves to.
func Build(template string, src *kgo.Record, f Failure) *kgo.Record {
	headers := make([]kgo.RecordHeader, 0, len(src.Headers)+16)
	for _, h := range src.Headers {
		if !strings.HasPrefix(h.Key, HeaderPrefix) || h.Key == HeaderReplayCount {
			headers = append(headers, h)
		}
	}
	add := func(k, v string) { headers = append(headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
	add(HeaderErrorClass, f.Class)
	add(HeaderErrorReason, f.Reason)
	add(HeaderErrorMessage, truncate(f.Message, MaxErrorMessage))
	add(HeaderErrorSNSCode, f.SNSCode)
	add(HeaderSourceTopic, src.Topic)
	add(HeaderSourcePartition, strconv.FormatInt(int64(src.Partition), 10))
	add(HeaderSourceOffset, strconv.FormatInt(src.Offset, 10))
	add(HeaderSourceTimestamp, src.Timestamp.UTC().Format(TimestampLayout))
	add(HeaderEventID, f.EventID)
	add(HeaderEventType, f.EventType)
	add(HeaderEventOrgID, f.OrgID)
	add(HeaderTargetTopicARN, f.TargetARN)
	add(HeaderAttempts, strconv.Itoa(max(f.Attempts, 1)))
	add(HeaderFailedAt, f.FailedAt.UTC().Format(TimestampLayout))
	add(HeaderInstance, f.Instance)
	add(HeaderVersion, f.Version)
	if f.OffloadObject != "" {
		add(HeaderOffloadObject, f.OffloadObject)
	}
	return &kgo.Record{
		Topic:     Topic(template, src.Topic),
		Key:       src.Key,
		Value:     src.Value,
		Headers:   headers,
		Timestamp: src.Timestamp,
	}
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

// DeadLetter is one record of a dead-letter topic with its bridge.* headers
// parsed. Fields whose header is missing or unparseable are zero
// (SourcePartition and SourceOffset are -1), so that a malformed record can
// still be listed and shown.
type DeadLetter struct {
	// Record is the record as read from the dead-letter topic.
	Record *kgo.Record

	Failure

	SourceTopic     string
	SourcePartition int32
	SourceOffset    int64
	SourceTimestamp time.Time

	// ReplayCount is the bridge.replay.count the dead letter carries, 0 when none.
	ReplayCount int
}

// Parse reads the bridge.* headers of a dead-letter record. It never fails:
// what it cannot read stays zero.
func Parse(r *kgo.Record) DeadLetter {
	d := DeadLetter{Record: r, SourcePartition: -1, SourceOffset: -1}
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderErrorClass:
			d.Class = v
		case HeaderErrorReason:
			d.Reason = v
		case HeaderErrorMessage:
			d.Message = v
		case HeaderErrorSNSCode:
			d.SNSCode = v
		case HeaderSourceTopic:
			d.SourceTopic = v
		case HeaderSourcePartition:
			if p, err := strconv.ParseInt(v, 10, 32); err == nil {
				d.SourcePartition = int32(p)
			}
		case HeaderSourceOffset:
			if o, err := strconv.ParseInt(v, 10, 64); err == nil {
				d.SourceOffset = o
			}
		case HeaderSourceTimestamp:
			d.SourceTimestamp = parseTimestamp(v)
		case HeaderEventID:
			d.EventID = v
		case HeaderEventType:
			d.EventType = v
		case HeaderEventOrgID:
			d.OrgID = v
		case HeaderOffloadObject:
			d.OffloadObject = v
		case HeaderTargetTopicARN:
			d.TargetARN = v
		case HeaderAttempts:
			d.Attempts, _ = strconv.Atoi(v)
		case HeaderFailedAt:
			d.FailedAt = parseTimestamp(v)
		case HeaderInstance:
			d.Instance = v
		case HeaderVersion:
			d.Version = v
		case HeaderReplayCount:
			d.ReplayCount, _ = strconv.Atoi(v)
		}
	}
	return d
}

func parseTimestamp(v string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// Position names a dead letter by where it is in its topic: topic/partition@offset.
func (d DeadLetter) Position() string {
	return fmt.Sprintf("%s/%d@%d", d.Record.Topic, d.Record.Partition, d.Record.Offset)
}

// Source names the record the dead letter came from: topic/partition@offset.
func (d DeadLetter) Source() string {
	if d.SourceTopic == "" {
		return "-"
	}
	return fmt.Sprintf("%s/%d@%d", d.SourceTopic, d.SourcePartition, d.SourceOffset)
}

// Key returns the ordering key the bridge used: the record key, else the
// event's org id.
func (d DeadLetter) Key() string {
	if len(d.Record.Key) > 0 {
		return string(d.Record.Key)
	}
	return d.OrgID
}

// originalHeaders are the record's headers without the bridge's own.
func (d DeadLetter) originalHeaders() []kgo.RecordHeader {
	var hs []kgo.RecordHeader
	for _, h := range d.Record.Headers {
		if !strings.HasPrefix(h.Key, HeaderPrefix) {
			hs = append(hs, h)
		}
	}
	return hs
}

// SourceRecord rebuilds the record as the bridge first read it: source
// topic, partition, offset and timestamp, the original key, value and
// headers. Translating it gives what the bridge would have published,
// including event ids the mapping derives from the source position.
func (d DeadLetter) SourceRecord() *kgo.Record {
	ts := d.SourceTimestamp
	if ts.IsZero() {
		ts = d.Record.Timestamp
	}
	return &kgo.Record{
		Topic:     d.SourceTopic,
		Partition: max(d.SourcePartition, 0),
		Offset:    max(d.SourceOffset, 0),
		Key:       d.Record.Key,
		Value:     d.Record.Value,
		Headers:   d.originalHeaders(),
		Timestamp: ts,
	}
}

// ErrNoSource is returned by ReplayRecord for a dead letter without a
// bridge.source.topic header: there is nowhere to send it back to.
var ErrNoSource = errors.New("dead letter has no " + HeaderSourceTopic + " header")

// ReplayRecord is the record that sends d back to its source topic: the
// original key, value, headers and timestamp, no bridge.* header but
// HeaderReplayCount (one more than d carries), and Partition set to the
// source partition (a partitioner may honour it).
func (d DeadLetter) ReplayRecord() (*kgo.Record, error) {
	if d.SourceTopic == "" {
		return nil, ErrNoSource
	}
	rec := d.SourceRecord()
	rec.Offset = 0
	rec.Partition = d.SourcePartition
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: HeaderReplayCount, Value: []byte(strconv.Itoa(d.ReplayCount + 1))})
	return rec, nil
}

// ParsePosition reads a dead letter's position as Position writes it,
// topic/partition@offset ("thena.events.dlq/3@1042"), as an operator copies
// it from `bridge dlq list` into `bridge dlq show`.
func ParsePosition(s string) (topic string, partition int32, offset int64, err error) {
	slash, at := strings.LastIndex(s, "/"), strings.LastIndex(s, "@")
	if slash <= 0 || at < slash {
		return "", 0, 0, fmt.Errorf("%q is not a position topic/partition@offset", s)
	}
	p, perr := strconv.ParseInt(s[slash+1:at], 10, 32)
	o, oerr := strconv.ParseInt(s[at+1:], 10, 64)
	if perr != nil || oerr != nil || p < 0 || o < 0 {
		return "", 0, 0, fmt.Errorf("%q is not a position topic/partition@offset (partition and offset are whole numbers)", s)
	}
	return s[:slash], int32(p), o, nil
}
