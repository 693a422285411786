package deadletter

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestPatternExcludesOnlyDeadLetterTopics(t *testing.T) {
	for _, tc := range []struct {
		template, topic string
		match           bool
	}{
		{"{topic}.dlq", "thena.events.dlq", true},
		{"{topic}.dlq", "thena.events", false},
		{"{topic}.dlq", "thena.events.dlqx", false},
		{"dlq.{topic}", "dlq.thena.events", true},
		{"bridge-dead-letters", "bridge-dead-letters", true},
		{"bridge-dead-letters", "thena.events", false},
	} {
		re := regexp.MustCompile(Pattern(tc.template))
		if got := re.MatchString(tc.topic); got != tc.match {
			t.Errorf("template %q, topic %q: match %v, want %v", tc.template, tc.topic, got, tc.match)
		}
	}
}

// Parse reads back what Build wrote; SourceRecord gives the record as the
// bridge first read it and ReplayRecord the one a replay sends back, with
// the replay count one higher and no other bridge.* header.
func TestParseAndRecords(t *testing.T) {
	failedAt := time.Date(2026, 11, 27, 3, 5, 0, 0, time.UTC)
	src := &kgo.Record{
		Topic:     "events",
		Partition: 4,
		Offset:    1042,
		Key:       []byte("org-1"),
		Value:     []byte("value of ticket:created/4@1042"),
		Timestamp: failedAt.Add(-time.Hour),
		Headers:   []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-abc-def-01")}},
	}
	rec := Build(DefaultTopic, src, Failure{
		Class: "permanent", Reason: "unknown_schema", Message: "unknown_schema (permanent): test",
		EventID: "evt-4-1042", EventType: "ticket:created", OrgID: "org-1",
		Attempts: 1, FailedAt: failedAt, Instance: "bridge-0", Version: "test",
		OffloadObject: "s3://thena-large/ev/evt-4-1042.json",
	})
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: HeaderReplayCount, Value: []byte("2")})
	if rec.Topic != "events.dlq" {
		t.Errorf("dead letter of events goes to %q", rec.Topic)
	}
	d := Parse(rec)
	if d.Reason != "unknown_schema" || d.EventType != "ticket:created" || d.OrgID != "org-1" ||
		d.SourceTopic != "events" || d.SourcePartition != 4 || d.SourceOffset != 1042 || d.Attempts != 1 ||
		!d.FailedAt.Equal(failedAt) || d.ReplayCount != 2 || d.Class != "permanent" ||
		d.OffloadObject != "s3://thena-large/ev/evt-4-1042.json" {
		t.Fatalf("parsed %+v", d)
	}
	sr := d.SourceRecord()
	if sr.Topic != "events" || sr.Partition != 4 || sr.Offset != 1042 || string(sr.Key) != "org-1" || string(sr.Value) != string(rec.Value) {
		t.Errorf("source record %+v", sr)
	}
	if len(sr.Headers) != 1 || sr.Headers[0].Key != "traceparent" {
		t.Errorf("source record headers %v, want only the original traceparent", sr.Headers)
	}
	rr, err := d.ReplayRecord()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, h := range rr.Headers {
		keys = append(keys, h.Key+"="+string(h.Value))
	}
	if want := "traceparent=00-abc-def-01," + HeaderReplayCount + "=3"; strings.Join(keys, ",") != want {
		t.Errorf("replay headers %v, want %s", keys, want)
	}
	if rr.Topic != "events" || rr.Partition != 4 || !rr.Timestamp.Equal(rec.Timestamp) {
		t.Errorf("replay record %s/%d at %v", rr.Topic, rr.Partition, rr.Timestamp)
	}

	for _, h := range Build(DefaultTopic, src, Failure{Class: "permanent"}).Headers {
		if h.Key == HeaderOffloadObject {
			t.Errorf("a dead letter of an event that was not offloaded carries %s=%s", h.Key, h.Value)
		}
	}

	bare := Parse(&kgo.Record{Topic: "events.dlq", Value: []byte("x")})
	if bare.SourcePartition != -1 || bare.Source() != "-" {
		t.Errorf("a record without headers parses as %+v", bare)
	}
	if _, err := bare.ReplayRecord(); !errors.Is(err, ErrNoSource) {
		t.Errorf("ReplayRecord without a source topic: %v", err)
	}
}

// ParsePosition reads what Position writes, and refuses what is not one.
func TestParsePosition(t *testing.T) {
	d := DeadLetter{Record: &kgo.Record{Topic: "thena.events.dlq", Partition: 3, Offset: 1042}}
	topic, p, o, err := ParsePosition(d.Position())
	if err != nil || topic != "thena.events.dlq" || p != 3 || o != 1042 {
		t.Errorf("ParsePosition(%q) = %q %d %d %v", d.Position(), topic, p, o, err)
	}
	for _, bad := range []string{"", "thena.events.dlq", "thena.events.dlq/3", "/3@1", "t/x@1", "t/3@-1", "t/-1@0", "t@1/3"} {
		if _, _, _, err := ParsePosition(bad); err == nil {
			t.Errorf("ParsePosition(%q) accepted it", bad)
		}
	}
}
