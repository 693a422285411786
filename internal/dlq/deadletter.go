package dlq

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
)

// HeaderReplayCount counts how many times a dead letter was sent back to its
// source topic. Replay sets it to one more than the dead letter carried.
const HeaderReplayCount = consumer.HeaderReplayCount

// DeadLetter is one record of a dead-letter topic with its bridge.* headers
// parsed. Fields whose header is missing or unparseable are zero (
// SourcePartition and SourceOffset are -1), so that a malformed record can
// still be listed and shown.
type DeadLetter struct {
	// Record is the record as read from the dead-letter topic.
	Record *kgo.Record

	Class, Reason, Message, SNSCode string

	SourceTopic     string
	SourcePartition int32
	SourceOffset    int64
	SourceTimestamp time.Time

	EventID, EventType, OrgID, TargetARN string

	Attempts int
	// FailedAt is when the bridge gave up on the record (bridge.failed_at).
	FailedAt          time.Time
	Instance, Version string
	// ReplayCount is the bridge.replay.count the dead letter carries, 0 when none.
	ReplayCount int
}

// Parse reads the bridge.* headers of a dead-letter record.
func Parse(r *kgo.Record) DeadLetter {
	d := DeadLetter{Record: r, SourcePartition: -1, SourceOffset: -1}
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case consumer.HeaderErrorClass:
			d.Class = v
		case consumer.HeaderErrorReason:
			d.Reason = v
		case consumer.HeaderErrorMessage:
			d.Message = v
		case consumer.HeaderErrorSNSCode:
			d.SNSCode = v
		case consumer.HeaderSourceTopic:
			d.SourceTopic = v
		case consumer.HeaderSourcePartition:
			if p, err := strconv.ParseInt(v, 10, 32); err == nil {
				d.SourcePartition = int32(p)
			}
		case consumer.HeaderSourceOffset:
			if o, err := strconv.ParseInt(v, 10, 64); err == nil {
				d.SourceOffset = o
			}
		case consumer.HeaderSourceTimestamp:
			d.SourceTimestamp = parseTimestamp(v)
		case consumer.HeaderEventID:
			d.EventID = v
		case consumer.HeaderEventType:
			d.EventType = v
		case consumer.HeaderEventOrgID:
			d.OrgID = v
		case consumer.HeaderTargetTopicARN:
			d.TargetARN = v
		case consumer.HeaderAttempts:
			d.Attempts, _ = strconv.Atoi(v)
		case consumer.HeaderFailedAt:
			d.FailedAt = parseTimestamp(v)
		case consumer.HeaderInstance:
			d.Instance = v
		case consumer.HeaderVersion:
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
		if !strings.HasPrefix(h.Key, consumer.HeaderPrefix) {
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
var ErrNoSource = errors.New("dead letter has no " + consumer.HeaderSourceTopic + " header")

// ReplayRecord is the record that sends d back to its source topic: the
// original key, value, headers and timestamp, no bridge.* header but
// HeaderReplayCount (one more than d carries), and Partition set to the
// source partition (a partitioner may honour it; see Replay).
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
