package mapping

import (
	"strconv"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

const testBucket = "thena-large-events"

func offloadRoute(policy LargeEvents) Config {
	return Config{Routes: []Route{{Pattern: "*", TopicARN: ticketARN, LargeEvents: policy,
		Offload: Offload{Bucket: testBucket, KeyPrefix: "events/", SSE: SSEKMS, KMSKeyID: "alias/thena"}}}}
}

// An event over the limit on an offload route becomes the extended
// clients' pointer to its whole body, with the six attributes and
// ExtendedPayloadSize; the body stored is exactly what a topic big enough
// would have published.
func TestOffloadPublishesThePointer(t *testing.T) {
	// Comments whose text truncation cannot touch (not a large field).
	text := strings.Repeat("Ünïcödé ", 50<<10)
	big := fromFields(envelopeFields("ticket:comment:added", map[string]any{"comment": map[string]any{"id": "CM1", "summary": text}})...)
	whole := mustMap(t, newTestMapper(t, Config{DefaultTopicARN: ticketARN}, map[string]TopicInfo{ticketARN: {MaxMessageSize: 2 << 20}}), big)
	for _, policy := range []LargeEvents{LargeOffload, LargeTruncateThenOffload} {
		t.Run(string(policy), func(t *testing.T) {
			m := newTestMapper(t, offloadRoute(policy), nil)
			msg := mustMap(t, m, big)
			off := msg.Offload
			if off == nil {
				t.Fatal("not offloaded")
			}
			wantKey := "events/" + testEventID + ".json"
			if off.Bucket != testBucket || off.Key != wantKey || off.SSE != SSEKMS || off.KMSKeyID != "alias/thena" {
				t.Errorf("offload %s/%s sse %s kms %s", off.Bucket, off.Key, off.SSE, off.KMSKeyID)
			}
			if off.Body != whole.Entry.Body || msg.Truncated != nil {
				t.Errorf("stored body is not the whole event (truncated %q)", msg.Truncated)
			}
			wantBody := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + testBucket + `","s3Key":"` + wantKey + `"}]`
			if msg.Entry.Body != wantBody {
				t.Errorf("body %s, want %s", msg.Entry.Body, wantBody)
			}
			attrs := msg.Entry.Attributes
			if len(attrs) != len(attrNames)+1 {
				t.Fatalf("%d attributes", len(attrs))
			}
			for i := range attrNames {
				if attrs[i] != whole.Entry.Attributes[i] {
					t.Errorf("attribute %s = %q, want %q as without offload", attrs[i].Name, attrs[i].Value, whole.Entry.Attributes[i].Value)
				}
			}
			last := attrs[len(attrs)-1]
			if last.Name != AttrExtendedPayloadSize || !last.Number || last.Value != strconv.Itoa(len(off.Body)) {
				t.Errorf("size attribute %+v, want Number %d", last, len(off.Body))
			}
			if b, k, ok := ParsePointer(msg.Entry.Body); !ok || b != testBucket || k != wantKey {
				t.Errorf("ParsePointer: %q %q %v", b, k, ok)
			}
		})
	}
}

// truncate_then_offload truncates what truncation can fit and offloads,
// whole, what it cannot; truncate (the default) dead-letters it.
func TestTruncateThenOffload(t *testing.T) {
	fits := fromFields(envelopeFields("ticket:comment:added", bigComment(400<<10))...)
	// A large field truncation does not touch: nothing can make it fit.
	title := map[string]any{"ticket": map[string]any{"id": "T1", "title": strings.Repeat("t", 300<<10)}}
	never := fromFields(envelopeFields("ticket:updated", title)...)

	m := newTestMapper(t, offloadRoute(LargeTruncateThenOffload), nil)
	msg := mustMap(t, m, fits)
	if msg.Offload != nil || msg.Truncated == nil {
		t.Errorf("truncatable event: offload %v, truncated %q; want truncated in place", msg.Offload != nil, msg.Truncated)
	}
	msg = mustMap(t, m, never)
	if msg.Offload == nil || !strings.Contains(msg.Offload.Body, strings.Repeat("t", 300<<10)) || strings.Contains(msg.Offload.Body, TruncatedFieldsKey) {
		t.Errorf("untruncatable event: not offloaded whole")
	}

	_, err := newTestMapper(t, Config{Routes: []Route{{Pattern: "*", TopicARN: ticketARN}}}, nil).Map(never, testSource)
	if failure.ReasonOf(err) != failure.ReasonTooLarge {
		t.Errorf("default policy: %v, want too_large", err)
	}
	// Small events are never offloaded.
	if msg := mustMap(t, m, fromFields(envelopeFields("ticket:created", map[string]any{})...)); msg.Offload != nil {
		t.Error("a small event was offloaded")
	}
}

// The trace attributes and the size attribute together stay within SNS's
// ten, and a FIFO route keeps its ids.
func TestOffloadKeepsTraceAndFIFO(t *testing.T) {
	cfg := offloadRoute(LargeOffload)
	cfg.Routes[0].TopicARN = ticketFIFOARN
	m := newTestMapper(t, cfg, nil)
	src := testSource
	src.TraceParent, src.TraceState = []byte(testTraceParent), []byte("a=b")
	msg, err := m.Map(fromFields(envelopeFields("ticket:comment:added", bigComment(400<<10))...), src)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, m, msg)
	if len(msg.Entry.Attributes) != maxAttributes || msg.Entry.GroupID == "" || msg.Entry.DedupID != testEventID {
		t.Errorf("%d attributes, group %q, dedup %q", len(msg.Entry.Attributes), msg.Entry.GroupID, msg.Entry.DedupID)
	}
}

func TestOffloadKey(t *testing.T) {
	for _, tt := range []struct{ id, want string }{
		{"01HZX-abc_1.2", "p/01HZX-abc_1.2.json"},
		{"id with space", "p/" + sha256Hex("id with space") + ".json"},
		{"..", "p/" + sha256Hex("..") + ".json"},
		{strings.Repeat("x", 129), "p/" + sha256Hex(strings.Repeat("x", 129)) + ".json"},
		{"", "p/" + sha256Hex("") + ".json"},
	} {
		if got := OffloadKey("p/", tt.id); got != tt.want {
			t.Errorf("OffloadKey(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
	if _, _, ok := ParsePointer(`{"eventId":"x"}`); ok {
		t.Error("an event body parsed as a pointer")
	}
}

func TestOffloadConfigProblems(t *testing.T) {
	route := func(policy LargeEvents, o Offload) Config {
		return Config{Routes: []Route{{Pattern: "*", TopicARN: ticketARN, LargeEvents: policy, Offload: o}}}
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"offload", route(LargeOffload, Offload{Bucket: "b-1.x"}), ""},
		{"no bucket", route(LargeOffload, Offload{}), "Routes[0].Offload.Bucket"},
		{"bad bucket", route(LargeTruncateThenOffload, Offload{Bucket: "Big_Bucket"}), "Routes[0].Offload.Bucket"},
		{"unexpanded bucket", route(LargeOffload, Offload{Bucket: "${BUCKET}"}), "unexpanded"},
		{"bad sse", route(LargeOffload, Offload{Bucket: "bkt", SSE: "kms"}), "Routes[0].Offload.SSE"},
		{"kms key without kms", route(LargeOffload, Offload{Bucket: "bkt", KMSKeyID: "k"}), "Routes[0].Offload.KMSKeyID"},
		{"leading slash", route(LargeOffload, Offload{Bucket: "bkt", KeyPrefix: "/x"}), "Routes[0].Offload.KeyPrefix"},
		{"unknown policy", route("drop", Offload{}), "Routes[0].LargeEvents"},
		{"offload settings that do nothing", route("", Offload{Bucket: "bkt"}), "Routes[0].Offload: set, but LargeEvents is truncate"},
	} {
		err := tt.cfg.Validate()
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
