package main

import (
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
)

// The delivery engine's part of /readyz: out of the group, owned work that
// does not move, and decoding stalled everywhere each make the replica
// unready, past their bounds; idleness, a short stall and one stalled
// partition among moving ones do not.
func TestConsumerReadiness(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hs := defaultSettings().HTTP
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tc := range []struct {
		name string
		h    consumer.Health
		want string // a part of the reason; "" ready
	}{
		{"joined, idle for an hour", consumer.Health{InGroup: true, Owned: 3, LastProgress: ago(time.Hour)}, ""},
		{"joined, moving", consumer.Health{InGroup: true, Owned: 3, Waiting: 500, LastProgress: ago(time.Second)}, ""},
		{"not joined yet", consumer.Health{}, "not a member of the consumer group"},
		{"group lost", consumer.Health{InGroup: false, Waiting: 0, LastProgress: ago(time.Second)}, "not a member of the consumer group"},
		{"waiting, nothing finished for the bound", consumer.Health{InGroup: true, Owned: 3, Waiting: 12, LastProgress: ago(hs.ReadyStallTimeout + time.Second)},
			"12 records waiting and none published or dead-lettered for 2m1s"},
		{"waiting, nothing finished, within the bound", consumer.Health{InGroup: true, Owned: 3, Waiting: 12, LastProgress: ago(hs.ReadyStallTimeout - time.Second)}, ""},
		{"decoding stalled everywhere past the bound", consumer.Health{InGroup: true, Owned: 3, Waiting: 3, LastProgress: ago(time.Second),
			TranslateStalled: 3, TranslateStalledSince: ago(hs.ReadyTranslateStallTimeout + time.Second)}, "decoding stalled on every partition with work for 11s"},
		{"decoding stalled everywhere, briefly", consumer.Health{InGroup: true, Owned: 3, Waiting: 3, LastProgress: ago(time.Second),
			TranslateStalled: 3, TranslateStalledSince: ago(time.Second)}, ""},
		{"one partition stalled, others moving", consumer.Health{InGroup: true, Owned: 3, Waiting: 40, LastProgress: ago(time.Second),
			TranslateStalled: 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := consumerUnready(tc.h, now, hs)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("consumerUnready(%+v) = %q, want %q", tc.h, got, tc.want)
			}
		})
	}
}
