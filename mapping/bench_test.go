package mapping

import (
	"testing"
)

// BenchmarkMapTicketUpdated maps a ticket:updated event of about 2 KiB, the
// common case. The pipeline's budget is 10 µs per event per core for decode,
// map and size together; mapping's share is meant to stay under 3 µs.
func BenchmarkMapTicketUpdated(b *testing.B) {
	m := newTestMapper(b, standardConfig(), nil)
	prev := ticket("SY7BWX0K10YKRDE5FAHNBHFBS986H", "Cannot log in after the password reset",
		"The customer reports that after resetting the password the login page loops back to itself. "+
			"Browser: Firefox 132 on macOS. Cleared cookies, same result. Urgent: payroll run today.")
	cur := ticket("SY7BWX0K10YKRDE5FAHNBHFBS986H", "Cannot log in after the password reset",
		"The customer reports that after resetting the password the login page loops back to itself. "+
			"Browser: Firefox 132 on macOS. Cleared cookies, same result. Urgent: payroll run today.")
	cur["statusId"], cur["statusName"] = "ST2", "In progress"
	cur["assignedTo"] = "U3N8W5K1P7R2Q"
	cur["assignedAgent"] = map[string]any{"id": "U3N8W5K1P7R2Q", "email": "ada.lovelace@example.com", "name": "Ada Lovelace"}
	cur["tags"] = []string{"login", "urgent", "payroll"}
	ev := fromFields(envelopeFields("ticket:updated", map[string]any{"ticket": cur, "previousTicket": prev})...)
	msg, err := m.Map(ev, testSource)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg.Entry.Body)))
	b.ReportMetric(float64(len(msg.Entry.Body)), "body-bytes")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(ev, testSource); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMapCustomObjectGeneratedID maps a custom object event without an
// eventId: the path that hashes the record's position.
func BenchmarkMapCustomObjectGeneratedID(b *testing.B) {
	m := newTestMapper(b, Config{Routes: []Route{{Pattern: "custom-object:*", TopicARN: ticketFIFOARN}}}, nil)
	fields := replaceField(envelopeFields("custom-object:deal:updated", map[string]any{
		"deal": map[string]any{"id": "deal-123", "name": "Enterprise Software License", "value": 50000, "stage": "proposal"},
	}), "eventId", nil)
	ev := fromFields(fields...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(ev, testSource); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMapTruncate400KiB maps a 400 KiB comment that must be truncated:
// the rare path, for scale.
func BenchmarkMapTruncate400KiB(b *testing.B) {
	m := newTestMapper(b, standardConfig(), nil)
	ev := fromFields(envelopeFields("ticket:comment:added", bigComment(400<<10))...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(ev, testSource); err != nil {
			b.Fatal(err)
		}
	}
}
