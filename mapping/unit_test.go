package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

func TestConfigValidate(t *testing.T) {
	good := Route{Pattern: "ticket:*", TopicARN: ticketARN}
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{"standard routes", standardConfig(), nil},
		{"default only", Config{DefaultTopicARN: ticketARN}, nil},
		{"fifo topic", Config{Routes: []Route{{Pattern: "*", TopicARN: ticketFIFOARN}}}, nil},
		{"other partition and region", Config{DefaultTopicARN: "arn:aws-us-gov:sns:us-gov-west-1:123456789012:t"}, nil},
		{"nothing routable", Config{}, []string{"Routes: no routes and no DefaultTopicARN"}},
		{"unexpanded variable", Config{Routes: []Route{{Pattern: "ticket:*", TopicARN: "${AWS_SNS_TICKET_TOPIC_ARN}"}}},
			[]string{`Routes[0].TopicARN: "${AWS_SNS_TICKET_TOPIC_ARN}": contains an unexpanded "${"`}},
		{"unexpanded inside", Config{DefaultTopicARN: "arn:aws:sns:us-east-1:123456789012:${NAME}"}, []string{"DefaultTopicARN", "unexpanded"}},
		{"empty pattern", Config{Routes: []Route{{TopicARN: ticketARN}}}, []string{"Routes[0].Pattern: empty"}},
		{"duplicate pattern", Config{Routes: []Route{good, good}}, []string{"Routes[1].Pattern", "repeats Routes[0]"}},
		{"empty arn", Config{Routes: []Route{{Pattern: "x"}}}, []string{"Routes[0].TopicARN", "empty"}},
		{"sqs arn", Config{DefaultTopicARN: "arn:aws:sqs:us-east-1:123456789012:q"}, []string{"DefaultTopicARN", "not an SNS topic ARN"}},
		{"short account", Config{DefaultTopicARN: "arn:aws:sns:us-east-1:1234:t"}, []string{"12-digit account"}},
		{"bad region", Config{DefaultTopicARN: "arn:aws:sns:useast1:123456789012:t"}, []string{"region"}},
		{"bad name", Config{DefaultTopicARN: "arn:aws:sns:us-east-1:123456789012:a.b"}, []string{"topic name"}},
		{"only .fifo", Config{DefaultTopicARN: "arn:aws:sns:us-east-1:123456789012:.fifo"}, []string{"empty topic name"}},
		{"not an arn", Config{DefaultTopicARN: "thena-ticket-events"}, []string{"not an SNS topic ARN"}},
		{"empty large field", Config{DefaultTopicARN: ticketARN, LargeFields: []string{"content", ""}}, []string{"LargeFields[1]: empty"}},
		{"bad placeholder", Config{DefaultTopicARN: ticketARN, Placeholder: "too \xff large"}, []string{"Placeholder"}},
		{"every problem at once", Config{Routes: []Route{{Pattern: "", TopicARN: "x"}}, DefaultTopicARN: "${X}"},
			[]string{"Routes[0].Pattern", "Routes[0].TopicARN", "DefaultTopicARN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := NewMapper(tt.cfg, nil); err != nil {
					t.Fatalf("NewMapper: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tt.cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err := NewMapper(tt.cfg, nil); err == nil {
				t.Error("NewMapper accepted an invalid config")
			}
		})
	}
}

func TestConfigDefaultsAndTopics(t *testing.T) {
	c := Config{Routes: StandardRoutes(ticketARN, customARN), DefaultTopicARN: ticketARN}.withDefaults()
	if c.Placeholder != DefaultPlaceholder || strings.Join(c.LargeFields, ",") != "description,content,contentHtml,contentJson,contentMarkdown" {
		t.Errorf("defaults: %q %q", c.Placeholder, c.LargeFields)
	}
	if got := (Config{LargeFields: []string{}}).withDefaults().LargeFields; got == nil || len(got) != 0 {
		t.Errorf("an empty LargeFields must stay empty (truncation off), got %q", got)
	}
	if got := strings.Join(c.TopicARNs(), " "); got != customARN+" "+ticketARN {
		t.Errorf("TopicARNs = %s", got)
	}
}

func TestNewMapperTopicInfo(t *testing.T) {
	cfg := Config{Routes: []Route{{Pattern: "*", TopicARN: ticketARN}}}
	if _, err := NewMapper(cfg, map[string]TopicInfo{ticketARN: {FIFO: true}}); err == nil || !strings.Contains(err.Error(), "Routes[0].TopicARN") {
		t.Errorf("FIFO info for a standard topic name: %v", err)
	}
	if _, err := NewMapper(Config{DefaultTopicARN: ticketARN}, map[string]TopicInfo{ticketARN: {MaxMessageSize: -1}}); err == nil || !strings.Contains(err.Error(), "DefaultTopicARN") {
		t.Errorf("negative size: %v", err)
	}
	// Without TopicInfo, a .fifo name is FIFO.
	m := newTestMapper(t, Config{DefaultTopicARN: ticketFIFOARN}, nil)
	msg, err := m.Map(fromFields(envelopeFields("ticket:created", map[string]any{})...), testSource)
	if err != nil || msg.Entry.GroupID == "" {
		t.Errorf("FIFO inferred from the name: %v, GroupID %q", err, msg.Entry.GroupID)
	}
}

func TestRouting(t *testing.T) {
	cfg := Config{
		Routes: []Route{
			{Pattern: "ticket:comment:*", TopicARN: "arn:aws:sns:us-east-1:123456789012:comments"},
			{Pattern: "custom-object:*", TopicARN: customARN},
			{Pattern: "ticket:*", TopicARN: ticketARN},
			{Pattern: "*:comment:*", TopicARN: "arn:aws:sns:us-east-1:123456789012:other-comments"},
			{Pattern: "user:mentioned", TopicARN: "arn:aws:sns:us-east-1:123456789012:mentions"},
		},
		DefaultTopicARN: fallbackARN,
	}
	m := newTestMapper(t, cfg, nil)
	tests := []struct{ eventType, pattern string }{
		{"ticket:comment:added", "ticket:comment:*"}, // first match wins over ticket:*
		{"ticket:created", "ticket:*"},
		{"ticket:sla:breach_warning", "ticket:*"},
		{"custom-object:deal:created", "custom-object:*"},
		{"account-note:comment:created", "*:comment:*"},
		{"user:mentioned", "user:mentioned"},
		{"user:mentioned:v2", ""}, // exact names are exact
		{"organization:created", ""},
		{"ticket", ""},
	}
	for _, tt := range tests {
		r := m.route(tt.eventType)
		if r == nil || r.Pattern != tt.pattern {
			t.Errorf("route(%q) = %+v, want pattern %q", tt.eventType, r, tt.pattern)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything:at:all", true},
		{"ticket:*", "ticket:", true},
		{"ticket:*", "ticket", false},
		{"*:created", "custom-object:deal:created", true},
		{"*:created", "custom-object:deal:updated", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"custom-object:*:deleted", "custom-object:deal:x:deleted", true},
		{"**", "x", true},
		{"a*a*a*a*b", strings.Repeat("a", 100), false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %t", tt.pattern, tt.s, got)
		}
		r := compileRoute(Route{Pattern: tt.pattern}, topic{})
		if got := r.matches(tt.s); got != tt.want {
			t.Errorf("compiled %q matches %q = %t", tt.pattern, tt.s, got)
		}
	}
}

// TestStandardRoutesCatalog routes every event type of thena-events.md §5.
func TestStandardRoutesCatalog(t *testing.T) {
	m := newTestMapper(t, standardConfig(), nil)
	for _, et := range catalog {
		want := ticketARN
		if strings.HasPrefix(et, CustomObjectPrefix) {
			want = customARN
		}
		if r := m.route(et); r == nil || r.topic.arn != want {
			t.Errorf("%s routed to %+v, want %s", et, r, want)
		}
	}
	if r := m.route("invoice:created"); r != nil {
		t.Errorf("an undocumented family routed to %s", r.topic.arn)
	}
}

// catalog is every event type thena-events.md §5 documents, with two custom
// object examples.
var catalog = []string{
	"ticket:created", "ticket:updated", "ticket:deleted", "ticket:archived", "ticket:unarchived",
	"ticket:status:changed", "ticket:priority:changed", "ticket:assigned", "ticket:type:changed",
	"ticket:sentiment:changed", "ticket:escalated",
	"ticket:custom_field_value:added", "ticket:custom_field_value:removed", "ticket:custom_field_value:changed",
	"ticket:tag:updated", "ticket:migrated",
	"ticket:comment:added", "ticket:comment:updated", "ticket:comment:deleted",
	"ticket:comment:reaction:added", "ticket:comment:reaction:removed",
	"ticket:csat:sent", "ticket:csat:received", "ticket:sla:breached", "ticket:sla:breach_warning",
	"account:created", "account:updated", "account:deleted",
	"account-health:changed", "account-status:changed", "account-classification:changed", "account-industry:changed",
	"account-custom_field_value:added", "account-custom_field_value:removed", "account-custom_field_value:changed",
	"customer-contact:created", "customer-contact:updated", "customer-contact:deleted", "customer-contact:type:changed",
	"customer-contact:custom_field_value:added", "customer-contact:custom_field_value:removed",
	"customer-contact:custom_field_value:changed",
	"organization:created", "organization:updated", "organization:deleted", "organization:member-joined",
	"ticket:comment:created", "account-task:comment:created", "account-task:comment:updated", "account-task:comment:deleted",
	"account-activity:comment:created", "account-activity:comment:updated", "account-activity:comment:deleted",
	"account-note:comment:created", "account-note:comment:updated", "account-note:comment:deleted",
	"user:mentioned", "user:created", "user:updated", "user:deleted",
	"custom-object:deal:created", "custom-object:deal:updated", "custom-object:deal:deleted",
}

func TestGeneratedEventID(t *testing.T) {
	// The namespace is what its comment says it is.
	urlNS := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	ns := appendUUIDv5(nil, append(urlNS[:], "https://github.com/thena-ai/kafka-sns-bridge/event-id"...))
	if string(ns) != "24b5f30e-154f-5911-aeda-2f4e73cdb28c" {
		t.Errorf("namespace derives to %s", ns)
	}
	b := eventIDNamespace
	if got := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]); got != string(ns) {
		t.Errorf("eventIDNamespace is %s, derives to %s", got, ns)
	}
	// Known answer, computed independently (Python uuid.uuid5).
	src := Source{Topic: "thena.events.ticket", Partition: 3, Offset: 42}
	if got := GeneratedEventID(src); got != "8a7891fa-b251-5488-b56c-5253783a2848" {
		t.Errorf("GeneratedEventID = %s", got)
	}
	seen := map[string]Source{}
	for _, s := range []Source{src, {Topic: "thena.events.ticket", Partition: 3, Offset: 43}, {Topic: "thena.events.ticket", Partition: 34, Offset: 2},
		{Topic: "thena.events.ticket3", Partition: 4, Offset: 2}, {Topic: "other", Partition: 3, Offset: 42}} {
		id := GeneratedEventID(s)
		if prev, ok := seen[id]; ok {
			t.Errorf("%+v and %+v share id %s", prev, s, id)
		}
		seen[id] = s
	}
	// The key does not take part: the same record has one id whatever it carries.
	withKey := src
	withKey.Key = []byte("k")
	if GeneratedEventID(withKey) != GeneratedEventID(src) {
		t.Error("the key changed the id")
	}
	// A long topic name still works.
	long := Source{Topic: strings.Repeat("t", 249), Partition: -1, Offset: -9223372036854775808}
	if len(GeneratedEventID(long)) != uuidLen {
		t.Error("long topic")
	}
}

func TestMapReplayIsIdentical(t *testing.T) {
	m := newTestMapper(t, standardConfig(), nil)
	fields := replaceField(envelopeFields("custom-object:deal:updated", map[string]any{"deal": map[string]any{"id": "d1"}}), "eventId", nil)
	a, err1 := m.Map(fromFields(fields...), testSource)
	b, err2 := m.Map(fromFields(fields...), testSource)
	other := testSource
	other.Offset++
	c, err3 := m.Map(fromFields(fields...), other)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if a.Entry.Body != b.Entry.Body || a.EventID != b.EventID {
		t.Error("the same record mapped twice gave different messages")
	}
	if a.EventID == c.EventID {
		t.Error("two records got the same generated eventId")
	}
	if !strings.HasPrefix(a.Entry.Body, `{"eventId":"`+a.EventID+`",`) {
		t.Errorf("generated eventId is not first in the body: %.80s", a.Entry.Body)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain ascii", "plain ascii"},
		{"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
		{"nul\x00bel\x07", "nul\uFFFDbel\uFFFD"},
		{"del\x7f", "del\x7f"},
		{"Zoë 日本 😀", "Zoë 日本 😀"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
		{"trunc\xe6\x97", "trunc\uFFFD\uFFFD"},
		{"surrogate\xed\xa0\x80", "surrogate\uFFFD\uFFFD\uFFFD"},
		{"nonchar\uFFFE\uFFFF", "nonchar\uFFFD\uFFFD"},
		{"private\uE000 and \U0010FFFF", "private\uE000 and \U0010FFFF"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(sanitizeBytes([]byte(tt.in))); got != tt.want {
			t.Errorf("sanitizeBytes(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// cleanBytes agrees with the byte-by-byte rule at every alignment.
		for pad := range 9 {
			s := strings.Repeat("a", pad) + tt.in + "bcdefghijklmnop"
			if cleanBytes([]byte(s)) != cleanString(s) {
				t.Errorf("cleanBytes and cleanString disagree on %q", s)
			}
		}
	}
	if s := "already clean"; sanitize(s) != s || testing.AllocsPerRun(10, func() { sanitize(s) }) != 0 {
		t.Error("sanitize allocates for clean text")
	}
}

func TestAppendTimestamp(t *testing.T) {
	for _, ts := range []time.Time{
		testTime,
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 2, 3, 4, 5, 6, 7e6, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0).UTC(),
	} {
		if got, want := string(appendTimestamp(nil, ts)), ts.Format(TimestampLayout); got != want {
			t.Errorf("appendTimestamp = %s, want %s", got, want)
		}
	}
}

func TestFIFOIDs(t *testing.T) {
	m := newTestMapper(t, Config{DefaultTopicARN: ticketFIFOARN}, nil)
	base := envelopeFields("ticket:created", map[string]any{})
	tests := []struct {
		name      string
		eventID   string
		key       []byte
		wantGroup string
		wantDedup string
	}{
		{"key is the group", testEventID, []byte("ORGKEY"), "ORGKEY", testEventID},
		{"empty key falls back to orgId", testEventID, nil, testOrgID, testEventID},
		{"128-char id kept", strings.Repeat("x", 128), nil, testOrgID, strings.Repeat("x", 128)},
		{"129-char id hashed", strings.Repeat("x", 129), nil, testOrgID, sha256Hex(strings.Repeat("x", 129))},
		{"id with a space hashed", "id 1", nil, testOrgID, sha256Hex("id 1")},
		{"punctuation kept", `a!"#$%&'()*+,-./:;<=>?@[\]^_{|}~`, nil, testOrgID, `a!"#$%&'()*+,-./:;<=>?@[\]^_{|}~`},
		{"binary key hashed", testEventID, []byte{0, 1, 2}, sha256Hex("\x00\x01\x02"), testEventID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := testSource
			src.Key = tt.key
			msg, err := m.Map(fromFields(replaceField(base, "eventId", tt.eventID)...), src)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, m, msg)
			if msg.Entry.GroupID != tt.wantGroup || msg.Entry.DedupID != tt.wantDedup {
				t.Errorf("GroupID %q DedupID %q, want %q %q", msg.Entry.GroupID, msg.Entry.DedupID, tt.wantGroup, tt.wantDedup)
			}
		})
	}
	// Standard topics carry neither.
	std := newTestMapper(t, Config{DefaultTopicARN: ticketARN}, nil)
	msg, err := std.Map(fromFields(base...), testSource)
	if err != nil || msg.Entry.GroupID != "" || msg.Entry.DedupID != "" {
		t.Errorf("standard topic: %v, GroupID %q, DedupID %q", err, msg.Entry.GroupID, msg.Entry.DedupID)
	}
}

// TestFairGroup: a fair_group route on a standard topic gets the FIFO
// topics' group id (the key, else orgId, hashed when SNS would refuse it)
// and never a deduplication id, which standard topics refuse.
func TestFairGroup(t *testing.T) {
	base := envelopeFields("ticket:created", map[string]any{})
	fair := newTestMapper(t, Config{Routes: []Route{{Pattern: "ticket:*", TopicARN: ticketARN, FairGroup: true}}, DefaultTopicARN: ticketARN}, nil)
	tests := []struct {
		name      string
		key       []byte
		wantGroup string
	}{
		{"key is the group", []byte("ORGKEY"), "ORGKEY"},
		{"empty key falls back to orgId", nil, testOrgID},
		{"binary key hashed", []byte{0, 1, 2}, sha256Hex("\x00\x01\x02")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := testSource
			src.Key = tt.key
			msg, err := fair.Map(fromFields(base...), src)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, fair, msg)
			if msg.Entry.GroupID != tt.wantGroup || msg.Entry.DedupID != "" {
				t.Errorf("GroupID %q DedupID %q, want %q and none", msg.Entry.GroupID, msg.Entry.DedupID, tt.wantGroup)
			}
		})
	}
	// Another route of the same topic without fair_group (here the
	// default) sends no group id.
	other := fromFields(envelopeFields("account:created", map[string]any{})...)
	if msg, err := fair.Map(other, testSource); err != nil || msg.Entry.GroupID != "" {
		t.Errorf("route without fair_group: %v, GroupID %q", err, msg.Entry.GroupID)
	}
	// On a FIFO topic it changes nothing.
	fifo := newTestMapper(t, Config{Routes: []Route{{Pattern: "*", TopicARN: ticketFIFOARN, FairGroup: true}}}, nil)
	msg, err := fifo.Map(fromFields(base...), testSource)
	if err != nil || msg.Entry.GroupID != string(testSource.Key) || msg.Entry.DedupID != testEventID {
		t.Errorf("FIFO with fair_group: %v, GroupID %q, DedupID %q", err, msg.Entry.GroupID, msg.Entry.DedupID)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSizeAndLimits(t *testing.T) {
	attrs := []sns.Attribute{{Name: "a", Value: "bc"}, {Name: "event_name", Value: "x"}}
	if got := sns.MessageSize("{}", attrs); got != 2+(1+6+2)+(10+6+1) {
		t.Errorf("Size = %d", got)
	}
	// A topic raised to 1 MiB takes a 400 KiB comment whole.
	big := fromFields(envelopeFields("ticket:comment:added", bigComment(400<<10))...)
	m := newTestMapper(t, Config{DefaultTopicARN: ticketARN}, map[string]TopicInfo{ticketARN: {MaxMessageSize: 1 << 20}})
	msg, err := m.Map(big, testSource)
	if err != nil || msg.Truncated != nil || msg.Entry.Size < 800<<10 {
		t.Errorf("1 MiB topic: err %v, truncated %q, size %d", err, msg.Truncated, msg.Entry.Size)
	}
	// Exactly at the limit fits; one byte over truncates.
	small := fromFields(envelopeFields("ticket:comment:added", map[string]any{"comment": map[string]any{"content": strings.Repeat("c", 200)}})...)
	size := mustMap(t, newTestMapper(t, Config{DefaultTopicARN: ticketARN}, nil), small).Entry.Size
	at := mustMap(t, newTestMapper(t, Config{DefaultTopicARN: ticketARN}, map[string]TopicInfo{ticketARN: {MaxMessageSize: size}}), small)
	if at.Truncated != nil || at.Entry.Size != size {
		t.Errorf("at the limit: truncated %q size %d", at.Truncated, at.Entry.Size)
	}
	over := mustMap(t, newTestMapper(t, Config{DefaultTopicARN: ticketARN}, map[string]TopicInfo{ticketARN: {MaxMessageSize: size - 1}}), small)
	if len(over.Truncated) != 1 || over.Entry.Size > size-1 {
		t.Errorf("one byte over: truncated %q size %d", over.Truncated, over.Entry.Size)
	}
}

func mustMap(t *testing.T, m *Mapper, ev *avro.Event) Message {
	t.Helper()
	msg, err := m.Map(ev, testSource)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, m, msg)
	return msg
}

// TestTruncationKeepsEverythingElse checks byte for byte that truncation
// changes only the replaced values and the metadata note: key order, number
// forms, escapes and whitespace of the rest survive.
func TestTruncationKeepsEverythingElse(t *testing.T) {
	big := strings.Repeat("x", 5000)
	payload := `{"zeta":1.50,"comment":{"contentMarkdown":"` + big + `","id":"C\u00e9","n":[1e3, -0],` +
		`"nested":[{"content":"` + big[:3000] + `"},{"content":"ok"}]},"alpha":"\"quoted\""}`
	fields := envelopeFields("ticket:comment:added", json.RawMessage(payload), field("metadata", json.RawMessage(`{ "b": 1 , "a": [ ] }`)))
	m := newTestMapper(t, Config{DefaultTopicARN: ticketARN}, map[string]TopicInfo{ticketARN: {MaxMessageSize: 2000}})
	msg := mustMap(t, m, fromFields(fields...))
	ph := `"` + DefaultPlaceholder + `"`
	wantPayload := `{"zeta":1.50,"comment":{"contentMarkdown":` + ph + `,"id":"C\u00e9","n":[1e3, -0],` +
		`"nested":[{"content":` + ph + `},{"content":"ok"}]},"alpha":"\"quoted\""}`
	wantMeta := `{ "b": 1 , "a": [ ] ,"truncatedFields":["payload.comment.contentMarkdown","payload.comment.nested[0].content"]}`
	if !strings.Contains(msg.Entry.Body, `"payload":`+wantPayload+`,"metadata":`+wantMeta+`}`) {
		t.Errorf("body:\n%s\nwant payload %s\nand metadata %s", msg.Entry.Body, wantPayload, wantMeta)
	}

	// Metadata that is not an object is left alone; the result still says
	// what was truncated.
	fields = replaceField(fields, "metadata", []string{"odd"})
	msg = mustMap(t, m, fromFields(fields...))
	if !strings.HasSuffix(msg.Entry.Body, `,"metadata":["odd"]}`) || len(msg.Truncated) != 2 {
		t.Errorf("non-object metadata: %s, truncated %q", msg.Entry.Body[len(msg.Entry.Body)-40:], msg.Truncated)
	}
	// Null metadata becomes an object in place.
	fields = replaceField(fields, "metadata", json.RawMessage("null"))
	msg = mustMap(t, m, fromFields(fields...))
	if !strings.HasSuffix(msg.Entry.Body, `,"metadata":{"truncatedFields":["payload.comment.contentMarkdown","payload.comment.nested[0].content"]}}`) {
		t.Errorf("null metadata: %s", msg.Entry.Body[len(msg.Entry.Body)-120:])
	}
	// Empty metadata object.
	fields = replaceField(fields, "metadata", map[string]any{})
	msg = mustMap(t, m, fromFields(fields...))
	if !strings.HasSuffix(msg.Entry.Body, `,"metadata":{"truncatedFields":["payload.comment.contentMarkdown","payload.comment.nested[0].content"]}}`) {
		t.Errorf("empty metadata: %s", msg.Entry.Body[len(msg.Entry.Body)-120:])
	}
}

func TestMapErrorKeepsKnownFields(t *testing.T) {
	m := newTestMapper(t, standardConfig(), nil)
	msg, err := m.Map(fromFields(envelopeFields("invoice:created", map[string]any{})...), testSource)
	if failure.ReasonOf(err) != failure.ReasonUnroutable {
		t.Fatalf("err = %v", err)
	}
	if msg.EventID != testEventID || msg.EventType != "invoice:created" || msg.OrgID != testOrgID || !msg.EventTime.Equal(testTime) || msg.Entry.Body != "" {
		t.Errorf("partial message %+v", msg)
	}
}

func TestMapConcurrent(t *testing.T) {
	m := newTestMapper(t, standardConfig(), nil)
	events := []*avro.Event{
		fromFields(envelopeFields("ticket:updated", map[string]any{"ticket": ticket("T1", "a", "b")})...),
		fromFields(envelopeFields("ticket:comment:added", bigComment(300<<10))...),
		fromFields(replaceField(envelopeFields("custom-object:deal:created", map[string]any{"deal": map[string]any{"id": "d"}}), "eventId", nil)...),
	}
	want := make([]string, len(events))
	for i, ev := range events {
		want[i] = mustMap(t, m, ev).Entry.Body
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(events)
				msg, err := m.Map(events[k], testSource)
				if err != nil || msg.Entry.Body != want[k] {
					t.Errorf("concurrent Map of event %d: %v", k, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestMapDoesNotModifyEvent(t *testing.T) {
	m := newTestMapper(t, standardConfig(), nil)
	ev := fromFields(envelopeFields("ticket:comment:added", bigComment(300<<10))...)
	before, _ := json.Marshal(ev)
	mustMap(t, m, ev)
	after, _ := json.Marshal(ev)
	if string(before) != string(after) {
		t.Error("Map modified its input")
	}
}

// TestEnvelopeLen checks that the length Map computes before writing the body
// is exact: truncation decisions and the single allocation rely on it.
func TestEnvelopeLen(t *testing.T) {
	fields := envelopeFields("custom-object:deal:created", map[string]any{"deal": map[string]any{"id": "d"}},
		field("metadata", nil), field("we\"ird\nkey", 1), field("", "empty name"), field("ünï", true), avro.Field{Name: "empty"})
	for _, env := range []envelope{
		{fields: fields},
		{fields: fields, custom: true, millis: -1},
		{fields: fields, custom: true, millis: 1795756110123, genID: []byte("gen")},
		{fields: replaceField(fields, "eventId", nil), custom: true, genID: []byte("gen")},
		{fields: fields[:1]},
		{fields: nil},
		{fields: nil, genID: []byte("gen"), extraMetadata: json.RawMessage(`{"a":1}`)},
		{fields: fields, override: make([]json.RawMessage, len(fields)), extraMetadata: json.RawMessage(`{}`)},
	} {
		var b strings.Builder
		env.writeTo(&b)
		if b.Len() != env.len() {
			t.Errorf("len() = %d, wrote %d: %s", env.len(), b.Len(), b.String())
		}
		if !json.Valid([]byte(b.String())) {
			t.Errorf("invalid JSON: %s", b.String())
		}
	}
}

func TestScanString(t *testing.T) {
	tests := []struct {
		in   string
		want int // -1: malformed
	}{
		{`""`, 2},
		{`"abc",`, 5},
		{`"a\"b"`, 6},
		{`"a\\"b"`, 5},
		{`"a\\\"b"x`, 8},
		{`"\\\\"`, 6},
		{`"unterminated`, -1},
		{`"escaped at end\"`, -1},
		{`"`, -1},
	}
	for _, tt := range tests {
		got, err := scanString([]byte(tt.in), 0)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("scanString(%s) = %d, want malformed", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("scanString(%s) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// TestMapAllocs holds the common path to its two allocations: one for the
// body and the strings built with it, one for the attribute slice.
func TestMapAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ev   *avro.Event
	}{
		{"standard", standardConfig(), fromFields(envelopeFields("ticket:updated", map[string]any{"ticket": ticket("T1", "Zoë", "d")})...)},
		{"fifo", Config{DefaultTopicARN: ticketFIFOARN}, fromFields(envelopeFields("ticket:updated", map[string]any{"ticket": ticket("T1", "Zoë", "d")})...)},
		{"fair group", Config{Routes: []Route{{Pattern: "*", TopicARN: ticketARN, FairGroup: true}}}, fromFields(envelopeFields("ticket:updated", map[string]any{"ticket": ticket("T1", "Zoë", "d")})...)},
		{"generated id", standardConfig(), fromFields(replaceField(envelopeFields("custom-object:deal:created", map[string]any{"deal": map[string]any{}}), "eventId", nil)...)},
		{"trace context", standardConfig(), fromFields(envelopeFields("ticket:updated", map[string]any{"ticket": ticket("T1", "Zoë", "d")})...)},
	} {
		m := newTestMapper(t, tc.cfg, nil)
		src := testSource
		if tc.name == "trace context" {
			src.TraceParent, src.TraceState = []byte(testTraceParent), []byte("congo=t61rcWkgMzE")
		}
		if n := testing.AllocsPerRun(100, func() {
			if _, err := m.Map(tc.ev, src); err != nil {
				t.Fatal(err)
			}
		}); n > 2 {
			t.Errorf("%s: %.0f allocations per Map, want 2", tc.name, n)
		}
	}
}

const testTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// The producer's trace context rides as two more String attributes after
// the six, when it is well formed; it counts against the size like them.
func TestTraceContextAttributes(t *testing.T) {
	m := newTestMapper(t, standardConfig(), nil)
	ev := fromFields(envelopeFields("ticket:created", map[string]any{})...)
	tests := []struct {
		name                  string
		traceParent, state    string
		wantParent, wantState string
	}{
		{"both", testTraceParent, "congo=t61rcWkgMzE", testTraceParent, "congo=t61rcWkgMzE"},
		{"traceparent alone", testTraceParent, "", testTraceParent, ""},
		{"bad tracestate dropped", testTraceParent, "k=v\n", testTraceParent, ""},
		{"bad traceparent drops both", "00-xyz", "congo=t61rcWkgMzE", "", ""},
		{"none", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := testSource
			if tt.traceParent != "" {
				src.TraceParent = []byte(tt.traceParent)
			}
			if tt.state != "" {
				src.TraceState = []byte(tt.state)
			}
			msg, err := m.Map(ev, src)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, m, msg)
			got := map[string]string{}
			for _, a := range msg.Entry.Attributes[len(attrNames):] {
				got[a.Name] = a.Value
			}
			if got[AttrTraceParent] != tt.wantParent || got[AttrTraceState] != tt.wantState {
				t.Errorf("trace attributes %q, want traceparent %q tracestate %q", got, tt.wantParent, tt.wantState)
			}
			if msg.Entry.Source != (sns.Source{Topic: src.Topic, Partition: src.Partition, Offset: src.Offset}) {
				t.Errorf("Entry.Source %+v, want the record's coordinates", msg.Entry.Source)
			}
		})
	}
	// An event that fits exactly without trace context is truncated, not
	// refused, with it.
	small := fromFields(envelopeFields("ticket:comment:added", map[string]any{"comment": map[string]any{"content": strings.Repeat("c", 200)}})...)
	size := mustMap(t, m, small).Entry.Size
	tight := newTestMapper(t, standardConfig(), map[string]TopicInfo{ticketARN: {MaxMessageSize: size}, customARN: {MaxMessageSize: size}})
	src := testSource
	src.TraceParent = []byte(testTraceParent)
	msg, err := tight.Map(small, src)
	if err != nil || msg.Truncated == nil || msg.Entry.Size > size {
		t.Errorf("at the limit with trace context: %v, truncated %q, size %d of %d", err, msg.Truncated, msg.Entry.Size, size)
	}
}
