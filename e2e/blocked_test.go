//go:build integration

package e2e

import (
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/sns/snstest"
)

// TestBlockedTopicDoesNotHoldBackTheOther: 50 organizations produce 160
// ticket events/s and 40 custom object events/s to 12 partitions, every
// organization both kinds, and the custom object topic answers NotFound
// for 40 s (as SNS answers for a deleted topic; the double, since moto
// forgets a deleted topic's subscriptions) while the ticket topic stays
// healthy. Order is kept per organization and topic, so ticket delivery
// goes on during the outage: at least 90 % of the ticket events produced
// in it (but for its last 5 s) are accepted before it ends. The custom
// object topic's breaker opens, the ticket topic's stays closed; nothing
// is dead-lettered or lost; the custom object events arrive once the topic
// is back, each organization's in order, like its ticket events.
func TestBlockedTopicDoesNotHoldBackTheOther(t *testing.T) {
	const (
		ticketRate = 160.0
		customRate = 40.0
		warmUp     = 5 * time.Second
		outage     = 40 * time.Second
		after      = 5 * time.Second
	)
	topic, dlq := sourceTopic(t, 12)
	s := newSink(t, false)
	customARN := s.addTopic(t, "-custom", false)
	b := testenv.StartBridge(t, "bridge", doubleConfig(t, topic, s, [2]string{"custom-object:*", customARN}))

	g, err := eventgen.New(31, eventgen.Options{Orgs: 50})
	if err != nil {
		t.Fatal(err)
	}
	total := warmUp + outage + after
	tickets := prepare(t, int(ticketRate*total.Seconds())+1, func() eventgen.Record { return g.TicketUpdated(600) })
	customs := prepare(t, int(customRate*total.Seconds())+1, func() eventgen.Record { return must(g.Record("custom-object:deal:updated")) })
	isTicket := make(map[string]bool, len(tickets))
	for _, e := range tickets {
		isTicket[e.id] = true
	}

	start := time.Now().Add(100 * time.Millisecond)
	rate := func(perSecond float64) func(time.Duration) int {
		return func(elapsed time.Duration) int { return int(perSecond * elapsed.Seconds()) }
	}
	prod := produceAtRates(t, start, total,
		scheduled{tickets, rate(ticketRate), []string{topic}},
		scheduled{customs, rate(customRate), []string{topic}})

	time.Sleep(time.Until(start.Add(warmUp)))
	end := s.srv.Inject(&snstest.Fault{TopicARN: customARN, Code: "NotFound", Message: "Topic does not exist"})
	cut := time.Now()
	var customBreaker, ticketBreaker float64
	for time.Since(cut) < outage {
		if m, err := b.Scrape(); err == nil {
			customBreaker = max(customBreaker, m.Sum("bridge_sns_breaker_state", `topic_arn="`+customARN+`"`))
			ticketBreaker = max(ticketBreaker, m.Sum("bridge_sns_breaker_state", `topic_arn="`+s.arn+`"`))
		}
		time.Sleep(min(time.Second, time.Until(cut.Add(outage))))
	}
	end()
	restored := time.Now()

	<-prod.done
	sentAt, err := prod.result()
	if err != nil {
		t.Fatalf("producing: %v", err)
	}
	produced := prod.positions(topic)
	if !waitFor(2*time.Minute, func() bool { return len(s.missing(produced)) == 0 }) {
		t.Fatalf("events never accepted: %s", describe(s.missing(produced)))
	}

	// Tickets during the outage.
	var inOutage, onTime, delivered, customsHeld int
	for _, p := range produced {
		a, _ := s.firstAccepted(p.eventID)
		at := sentAt[p.eventID]
		if !isTicket[p.eventID] {
			if at.After(cut) && at.Before(restored) {
				customsHeld++
				if a.at.Before(restored) {
					t.Errorf("custom object event %s accepted at %v, during the outage", p.eventID, a.at.Sub(cut))
				}
			}
			continue
		}
		if a.at.After(cut) && a.at.Before(restored) {
			delivered++
		}
		if at.After(cut) && at.Before(restored.Add(-5*time.Second)) {
			inOutage++
			if a.at.Before(restored) {
				onTime++
			}
		}
	}
	t.Logf("during the %v outage: %d ticket events delivered (%.0f/s); %d of the %d produced in it, but for its last 5 s, delivered before it ended; %d custom object events held",
		restored.Sub(cut).Round(time.Millisecond), delivered, float64(delivered)/restored.Sub(cut).Seconds(), onTime, inOutage, customsHeld)
	if inOutage == 0 || float64(onTime) < 0.9*float64(inOutage) {
		t.Errorf("only %d of the %d ticket events produced during the custom object topic's outage were delivered before it ended", onTime, inOutage)
	}
	if customsHeld == 0 {
		t.Errorf("no custom object event was produced during the outage")
	}
	s.checkOrder(t, produced, 0)

	if customBreaker != 2 || ticketBreaker != 0 {
		t.Errorf("during the outage bridge_sns_breaker_state reached %v for the custom object topic (want 2, open) and %v for the ticket topic (want 0, closed)", customBreaker, ticketBreaker)
	}
	logPauses(t, checkNothingDeadLettered(t, b, dlq))
	if err := b.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping the bridge: %v", err)
	}
}
