package mapping

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// golden is what a golden file records about one mapped message.
type golden struct {
	TopicARN   string          `json:"topicArn"`
	Route      string          `json:"route"`
	EventID    string          `json:"eventId"`
	EventTime  string          `json:"eventTime"`
	Attributes []sns.Attribute `json:"attributes"`
	GroupID    string          `json:"groupId,omitempty"`
	DedupID    string          `json:"dedupId,omitempty"`
	Size       int             `json:"size"`
	Truncated  []string        `json:"truncated,omitempty"`
	Body       json.RawMessage `json:"body"`
}

func goldenOf(t *testing.T, msg Message) []byte {
	t.Helper()
	g := golden{
		TopicARN:   msg.Entry.TopicARN,
		Route:      msg.Route.Pattern,
		EventID:    msg.EventID,
		EventTime:  msg.EventTime.Format(TimestampLayout),
		Attributes: msg.Entry.Attributes,
		GroupID:    msg.Entry.GroupID,
		DedupID:    msg.Entry.DedupID,
		Size:       msg.Entry.Size,
		Truncated:  msg.Truncated,
		Body:       json.RawMessage(msg.Entry.Body),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		t.Fatalf("encoding golden: %v", err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/name.golden.json, rewriting it
// under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mapping -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first differing lines, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			out.WriteString("line " + itoa(i+1) + ":\n  want " + clip(wl) + "\n  got  " + clip(gl) + "\n")
			shown++
		}
	}
	return out.String()
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// checkInvariants asserts what must hold for every message Map returns,
// whatever the input.
func checkInvariants(t testing.TB, m *Mapper, msg Message) {
	t.Helper()
	e := msg.Entry
	if !json.Valid([]byte(e.Body)) {
		t.Errorf("body is not valid JSON: %.300q", e.Body)
	}
	if !utf8.ValidString(e.Body) || !cleanString(e.Body) {
		t.Errorf("body has characters SNS refuses: %.300q", e.Body)
	}
	if len(e.Attributes) < len(attrNames) || len(e.Attributes) > maxAttributes {
		t.Fatalf("got %d attributes, want %d to %d", len(e.Attributes), len(attrNames), maxAttributes)
	}
	for i, a := range e.Attributes {
		if i < len(attrNames) && a.Name != attrNames[i] {
			t.Errorf("attribute %d is %q, want %q", i, a.Name, attrNames[i])
		}
		if i >= len(attrNames) && a.Name != AttrTraceParent && a.Name != AttrTraceState && a.Name != AttrExtendedPayloadSize {
			t.Errorf("attribute %d is %q, want one of the six, trace context or ExtendedPayloadSize", i, a.Name)
		}
		if a.Number != (a.Name == AttrExtendedPayloadSize) {
			t.Errorf("attribute %s: Number %v", a.Name, a.Number)
		}
		if a.Value == "" || !cleanString(a.Value) {
			t.Errorf("attribute %s = %q: empty or has characters SNS refuses", a.Name, a.Value)
		}
	}
	if got := sns.MessageSize(e.Body, e.Attributes); e.Size != got {
		t.Errorf("Entry.Size = %d, sns.MessageSize = %d", e.Size, got)
	}
	var route *compiledRoute
	for i := range m.routes {
		if m.routes[i].Route == msg.Route {
			route = &m.routes[i]
		}
	}
	if route == nil && msg.Route.Pattern == "" {
		route = m.def
	}
	if route == nil || route.topic.arn != e.TopicARN || msg.Route.TopicARN != e.TopicARN {
		t.Errorf("TopicARN %q is not that of route %+v", e.TopicARN, msg.Route)
	} else {
		if e.Size > route.topic.maxSize {
			t.Errorf("size %d is over the topic's limit %d", e.Size, route.topic.maxSize)
		}
		if grouped := route.topic.fifo || route.FairGroup; grouped != (e.GroupID != "") || route.topic.fifo != (e.DedupID != "") {
			t.Errorf("FIFO %t, fair_group %t but GroupID %q, DedupID %q", route.topic.fifo, route.FairGroup, e.GroupID, e.DedupID)
		}
		for _, id := range []string{e.GroupID, e.DedupID} {
			if id != "" && !usableSNSID(id) {
				t.Errorf("group or dedup id %q is not acceptable to SNS", id)
			}
		}
	}
	if msg.EventID == "" || e.Attributes[1].Value != msg.EventID {
		t.Errorf("EventID %q, event_id attribute %q", msg.EventID, e.Attributes[1].Value)
	}
}

// bigComment is a ticket:comment:added payload whose comment is n bytes of
// text in every content form.
func bigComment(n int) map[string]any {
	text := strings.Repeat("Ünïcödé comment text. ", n/24+1)[:n]
	text = strings.ToValidUTF8(text, "")
	return map[string]any{
		"comment": map[string]any{
			"id": "CM1", "content": text, "contentHtml": "<p>" + text + "</p>",
			"contentMarkdown": "short", "commentType": "comment",
			"metadata": map[string]any{"mentions": []any{}},
		},
	}
}

type mapCase struct {
	name   string
	cfg    Config
	topics map[string]TopicInfo
	event  *avro.Event
	src    Source
	check  func(t *testing.T, msg Message)
}

func goldenCases() []mapCase {
	fifoTopics := map[string]TopicInfo{ticketFIFOARN: {FIFO: true}}
	fifoCfg := Config{Routes: []Route{{Pattern: "ticket:*", TopicARN: ticketFIFOARN}}}

	unicode := ticket("SY7BWX0K10YKRDE5FAHNBHFBS986H", "Ошибка входа — ログインできません 😀",
		"Le client écrit : « impossible de se connecter » <script>&amp;</script>\n\ttabs and newlines")

	customEvent := func(eventID any) *avro.Event {
		fields := envelopeFields("custom-object:deal:created", map[string]any{
			"deal": map[string]any{"id": "deal-123", "name": "Enterprise Software License", "value": 50000,
				"stage": "proposal", "accountId": "account-456", "ownerId": "user-789",
				"customFields": map[string]any{"region": "EMEA"}},
		})
		if eventID == nil {
			fields = replaceField(fields, "eventId", nil)
		} else {
			fields = replaceField(fields, "eventId", eventID)
		}
		return fromFields(fields...)
	}

	// Bytes no JSON encoder produces: invalid UTF-8, a raw control
	// character, the non-character U+FFFF.
	invalid := envelopeFields("ticket:updated",
		[]byte("{\"ticket\":{\"id\":\"T1\",\"title\":\"bad \xff\xfe byte, control \x01, nonchar \xef\xbf\xbf, ok \u00e9 \\u0001\"}}"))
	invalidEvent := fromFields(invalid...)
	invalidEvent.Header.Actor.ID = "U\xffX\x02"
	invalidEvent.Header.Actor.Type = "AGENT\xef\xbf\xbe"

	withMeta := envelopeFields("user:mentioned", map[string]any{
		"user": map[string]any{"id": "U9", "email": "grace@example.com", "name": "Grace", "userType": "ORG_USER",
			"status": "ACTIVE", "organization": map[string]any{"id": testOrgID, "name": nil},
			"teams": []any{map[string]any{"id": "TM1", "name": "Support"}}},
	}, field("metadata", map[string]any{"mentionedUserId": "U9", "mentionedByUserId": "U3", "entityId": "T1",
		"entityType": "TICKET", "commentId": "CM1", "timestamp": testTimestamp, "organizationId": testOrgID}))

	bigWithMeta := envelopeFields("ticket:comment:added", bigComment(400<<10),
		field("metadata", map[string]any{"source": "web", "truncatedFields": []string{"stale"}}))

	manyLarge := envelopeFields("ticket:updated", map[string]any{
		"ticket":         ticket("T1", "t", strings.Repeat("d", 5000)),
		"previousTicket": ticket("T1", "t", strings.Repeat("p", 3000)),
		"items": []any{
			map[string]any{"description": strings.Repeat("i", 2000)},
			map[string]any{"description": "small"},
		},
	})

	return []mapCase{
		{name: "ticket_created_unicode", cfg: standardConfig(), event: fromFields(envelopeFields("ticket:created", map[string]any{
			"ticket":  unicode,
			"comment": map[string]any{"id": "CM1", "content": "Bonjour 👋", "contentHtml": "<p>Bonjour 👋</p>", "contentJson": `{"type":"doc"}`, "customerContactId": "CC1", "createdAt": testTimestamp},
		})...), src: testSource},
		{name: "ticket_updated_standard", cfg: standardConfig(), event: fromFields(envelopeFields("ticket:updated", map[string]any{
			"ticket": ticket("T1", "new title", "d"), "previousTicket": ticket("T1", "old title", "d"),
		})...), src: testSource},
		{name: "ticket_updated_fifo_key", cfg: fifoCfg, topics: fifoTopics, event: fromFields(envelopeFields("ticket:updated", map[string]any{
			"ticket": ticket("T1", "x", "d"), "previousTicket": ticket("T1", "y", "d"),
		})...), src: Source{Topic: testSourceTopic, Partition: 1, Offset: 7, Key: []byte("KAFKA-KEY-ORG")}},
		{name: "ticket_deleted_fifo_no_key", cfg: fifoCfg, topics: fifoTopics, event: fromFields(envelopeFields("ticket:deleted", map[string]any{
			"previousTicket": ticket("T1", "x", "d"),
		})...), src: Source{Topic: testSourceTopic}},
		{name: "fifo_odd_ids_hashed", cfg: fifoCfg, topics: fifoTopics, event: fromFields(replaceField(envelopeFields("ticket:archived", map[string]any{
			"ticket": ticket("T1", "x", "d"),
		}), "eventId", strings.Repeat("E", 129))...), src: Source{Topic: testSourceTopic, Key: []byte("org with spaces")}},
		{name: "custom_object_null_event_id", cfg: standardConfig(), event: customEvent(json.RawMessage("null")), src: testSource},
		{name: "custom_object_absent_event_id", cfg: standardConfig(), event: customEvent(nil), src: testSource},
		{name: "custom_object_with_event_id", cfg: standardConfig(), event: customEvent("CO-EVT-1"), src: testSource},
		{name: "user_mentioned_metadata", cfg: standardConfig(), event: fromFields(withMeta...), src: testSource},
		{name: "metadata_null_omitted", cfg: standardConfig(), event: fromFields(envelopeFields("organization:member-joined", map[string]any{
			"organization": map[string]any{"id": testOrgID, "name": "Acme", "subdomain": "acme", "plan": "pro", "status": "active",
				"createdAt": testTimestamp, "updatedAt": testTimestamp},
			"user": map[string]any{"id": "U9", "email": "grace@example.com", "name": "Grace", "userType": "ORG_USER", "status": "ACTIVE"},
		}, field("metadata", nil))...), src: testSource},
		{name: "extra_fields_pass_through", cfg: standardConfig(), event: fromFields(append(envelopeFields("account:created", map[string]any{
			"account": map[string]any{"id": "A1", "name": "Acme", "status": "active", "health": "good", "classification": "enterprise",
				"createdAt": testTimestamp, "updatedAt": testTimestamp},
		}), field("schemaVersion", 3), field("traceId", "abc"))...), src: testSource},
		{name: "invalid_characters_replaced", cfg: standardConfig(), event: invalidEvent, src: testSource},
		{name: "default_route", cfg: Config{Routes: []Route{{Pattern: "ticket:*", TopicARN: ticketARN}}, DefaultTopicARN: fallbackARN},
			event: fromFields(envelopeFields("account-health:changed", map[string]any{"account": map[string]any{"id": "A1", "health": "poor"}})...), src: testSource},
		{name: "comment_400KiB_truncated", cfg: standardConfig(), event: fromFields(envelopeFields("ticket:comment:added", bigComment(400<<10))...), src: testSource,
			check: func(t *testing.T, msg Message) {
				// contentHtml is the larger by its tags, so it goes first.
				want := []string{"payload.comment.contentHtml", "payload.comment.content"}
				if strings.Join(msg.Truncated, ",") != strings.Join(want, ",") {
					t.Errorf("Truncated = %q, want %q", msg.Truncated, want)
				}
			}},
		{name: "truncated_metadata_kept", cfg: standardConfig(), event: fromFields(bigWithMeta...), src: testSource},
		{name: "truncated_largest_first_until_fits", cfg: Config{DefaultTopicARN: ticketARN},
			topics: map[string]TopicInfo{ticketARN: {MaxMessageSize: 9000}}, event: fromFields(manyLarge...), src: testSource,
			check: func(t *testing.T, msg Message) {
				// About 11.5 KB against 9000 bytes: the largest alone is enough.
				if len(msg.Truncated) != 1 || msg.Truncated[0] != "payload.ticket.description" {
					t.Errorf("Truncated = %q, want only the largest", msg.Truncated)
				}
			}},
		{name: "truncated_small_topic_nested_array", cfg: Config{Routes: []Route{{Pattern: "*", TopicARN: ticketARN}}},
			topics: map[string]TopicInfo{ticketARN: {MaxMessageSize: 3000}}, event: fromFields(manyLarge...), src: testSource,
			check: func(t *testing.T, msg Message) {
				want := []string{"payload.ticket.description", "payload.previousTicket.description", "payload.items[0].description"}
				if strings.Join(msg.Truncated, ",") != strings.Join(want, ",") {
					t.Errorf("Truncated = %q, want %q", msg.Truncated, want)
				}
			}},
	}
}

func TestMapGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMapper(t, tc.cfg, tc.topics)
			msg, err := m.Map(tc.event, tc.src)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			checkInvariants(t, m, msg)
			if tc.check != nil {
				tc.check(t, msg)
			}
			checkGolden(t, tc.name, goldenOf(t, msg))
		})
	}
}

func TestMapErrors(t *testing.T) {
	base := func(eventType string) []avro.Field {
		return envelopeFields(eventType, map[string]any{"ticket": ticket("T1", "x", "d")})
	}
	withActor := func(actor any) *avro.Event {
		return fromFields(replaceField(base("ticket:created"), "actor", actor)...)
	}
	// A payload whose large part is no truncatable field.
	hugeOther := envelopeFields("ticket:created", map[string]any{"ticket": map[string]any{"id": "T1", "title": strings.Repeat("t", 300<<10)}})

	tests := []struct {
		name       string
		cfg        Config
		topics     map[string]TopicInfo
		event      *avro.Event
		wantReason string
		wantInErr  string
	}{
		{"missing eventType", standardConfig(), nil, fromFields(replaceField(base("ticket:created"), "eventType", nil)...), failure.ReasonMissingField, "eventType"},
		{"empty eventType", standardConfig(), nil, fromFields(replaceField(base("ticket:created"), "eventType", "")...), failure.ReasonMissingField, "eventType"},
		{"missing orgId", standardConfig(), nil, fromFields(replaceField(base("ticket:created"), "orgId", nil)...), failure.ReasonMissingField, "orgId"},
		{"missing timestamp", standardConfig(), nil, fromFields(replaceField(base("ticket:created"), "timestamp", nil)...), failure.ReasonMissingField, "timestamp"},
		{"missing actor", standardConfig(), nil, fromFields(replaceField(base("ticket:created"), "actor", nil)...), failure.ReasonMissingField, "actor.id"},
		{"empty actor id", standardConfig(), nil, withActor(map[string]any{"id": "", "type": "AGENT"}), failure.ReasonMissingField, "actor.id"},
		{"missing actor type", standardConfig(), nil, withActor(map[string]any{"id": "U1"}), failure.ReasonMissingField, "actor.type"},
		{"missing eventId", standardConfig(), nil, fromFields(replaceField(base("ticket:created"), "eventId", nil)...), failure.ReasonMissingField, "eventId"},
		{"null eventId", standardConfig(), nil, fromFields(replaceField(base("ticket:created"), "eventId", json.RawMessage("null"))...), failure.ReasonMissingField, "eventId"},
		{"unroutable", standardConfig(), nil, fromFields(base("invoice:created")...), failure.ReasonUnroutable, `"invoice:created"`},
		{"unroutable with routes that almost match", Config{Routes: []Route{{Pattern: "ticket:created", TopicARN: ticketARN}}}, nil,
			fromFields(base("ticket:created:v2")...), failure.ReasonUnroutable, "ticket:created:v2"},
		{"too large, nothing to truncate", standardConfig(), nil, fromFields(hugeOther...), failure.ReasonTooLarge, "after truncating 0 of 0"},
		{"too large after truncation", standardConfig(), nil, fromFields(append(envelopeFields("ticket:comment:added", bigComment(300<<10)),
			field("attachments", strings.Repeat("a", 270<<10)))...), failure.ReasonTooLarge, "after truncating 2 of 2"},
		{"truncation turned off", Config{Routes: StandardRoutes(ticketARN, customARN), LargeFields: []string{}}, nil,
			fromFields(envelopeFields("ticket:comment:added", bigComment(300<<10))...), failure.ReasonTooLarge, "0 of 0"},
		{"attributes alone over a tiny limit", Config{DefaultTopicARN: ticketARN}, map[string]TopicInfo{ticketARN: {MaxMessageSize: 100}},
			fromFields(base("ticket:created")...), failure.ReasonTooLarge, "over its topic's limit of 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMapper(t, tt.cfg, tt.topics)
			msg, err := m.Map(tt.event, testSource)
			if err == nil {
				t.Fatalf("Map succeeded with a %d-byte message, want %s", msg.Entry.Size, tt.wantReason)
			}
			if failure.ClassOf(err) != failure.Permanent || failure.ReasonOf(err) != tt.wantReason {
				t.Errorf("error %v: class %s reason %q, want permanent %q", err, failure.ClassOf(err), failure.ReasonOf(err), tt.wantReason)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantInErr)
			}
		})
	}
}
