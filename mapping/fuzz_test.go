package mapping

import (
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// quoteRaw quotes s as a JSON string, escaping only what JSON structure
// needs ('"', '\', and tab, LF and CR, which SNS accepts but a JSON string
// may not hold raw), so that invalid UTF-8 and the other control characters
// reach Map as raw bytes. Map promises the character rules, not to repair
// JSON: the decoder promises valid JSON apart from the bytes of strings.
func quoteRaw(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s) + `"`
}

// fuzzEvent builds an event whose header strings and payload text are
// arbitrary bytes.
func fuzzEvent(eventType, eventID, orgID, actorID, actorType, content string, withMeta bool) *avro.Event {
	idJSON := "null"
	if eventID != "" {
		idJSON = quoteRaw(eventID)
	}
	payloadName := "payload"
	if strings.HasPrefix(eventType, CustomObjectPrefix) {
		payloadName = "eventData"
	}
	fields := []avro.Field{
		{Name: "eventId", Value: []byte(idJSON)},
		{Name: "eventType", Value: []byte(quoteRaw(eventType))},
		{Name: "timestamp", Value: []byte(`"` + testTimestamp + `"`)},
		{Name: "orgId", Value: []byte(quoteRaw(orgID))},
		{Name: "actor", Value: []byte(`{"id":` + quoteRaw(actorID) + `,"type":` + quoteRaw(actorType) + `,"email":null}`)},
		{Name: payloadName, Value: []byte(`{"comment":{"content":` + quoteRaw(content) + `,"contentHtml":` + quoteRaw(content+content) +
			`,"n":[1,{"description":` + quoteRaw(content) + `}]},` + quoteRaw(content) + `:` + quoteRaw(content) + `}`)},
	}
	if withMeta {
		fields = append(fields, avro.Field{Name: "metadata", Value: []byte(`{"k":` + quoteRaw(content) + `}`)})
	}
	return &avro.Event{Fields: fields, Header: avro.Header{
		EventID: eventID, EventType: eventType, OrgID: orgID,
		Timestamp: testTime, HasTimestamp: true,
		Actor: avro.Actor{ID: actorID, Type: actorType},
	}}
}

func FuzzMap(f *testing.F) {
	f.Add("ticket:created", testEventID, testOrgID, "U1", "AGENT", "hello", []byte(testOrgID), uint8(0), false)
	f.Add("custom-object:deal:created", "", testOrgID, "U1", "AGENT", "Zoë 日本 😀", []byte{}, uint8(1), true)
	f.Add("ticket:comment:added", strings.Repeat("E", 200), "org 1", "U\xff", "AGENT\x00", strings.Repeat("x", 3000), []byte{0xff}, uint8(2), true)
	f.Add("", "", "", "", "", "", []byte(nil), uint8(0), false)
	f.Add("invoice:created", "e", "o", "a", "t", "\"\\", []byte("k"), uint8(1), false)
	f.Add("ticket:updated", "e\ufffe", "o\x01", "a", "t", "\xed\xa0\x80\xef\xbf\xbf", []byte("k"), uint8(2), false)

	mappers := []*Mapper{
		newTestMapper(f, standardConfig(), nil),
		newTestMapper(f, Config{Routes: []Route{{Pattern: "*", TopicARN: ticketFIFOARN}}}, nil),
		newTestMapper(f, Config{Routes: []Route{{Pattern: "ticket:*", TopicARN: ticketARN}}, DefaultTopicARN: customARN},
			map[string]TopicInfo{ticketARN: {MaxMessageSize: 2048}, customARN: {MaxMessageSize: 1200}}),
	}
	f.Fuzz(func(t *testing.T, eventType, eventID, orgID, actorID, actorType, content string, key []byte, mode uint8, withMeta bool) {
		m := mappers[int(mode)%len(mappers)]
		src := testSource
		src.Key = key
		ev := fuzzEvent(eventType, eventID, orgID, actorID, actorType, content, withMeta)
		msg, err := m.Map(ev, src)
		if err != nil {
			if failure.ClassOf(err) != failure.Permanent {
				t.Fatalf("error of class %s: %v", failure.ClassOf(err), err)
			}
			return
		}
		checkInvariants(t, m, msg)
	})
}

// FuzzCleanBytes checks the fast character check against the plain rule:
// utf8.DecodeRune and the XML character ranges.
func FuzzCleanBytes(f *testing.F) {
	for _, s := range []string{"", "ascii only, long enough to be skipped", "a\xef\xbf\xbe", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe0\x80\xaf", "\xc0\xaf", "Zoë 日本 😀 \uFFFD\uE000", "tab\tnl\n\x01", "\xf0\x9f\x98"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := cleanBytes(b), cleanString(string(b)); got != want {
			t.Fatalf("cleanBytes(%q) = %t, the plain rule says %t", b, got, want)
		}
	})
}
