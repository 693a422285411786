//go:build integration

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// goldenMessage is what mapping/testdata/eventgen_<type>.golden.json records
// about the message the bridge's mapping makes of one generated event.
type goldenMessage struct {
	EventID    string `json:"eventId"`
	Attributes []struct {
		Name  string `json:"Name"`
		Value string `json:"Value"`
	} `json:"attributes"`
	Body json.RawMessage `json:"body"`
}

// catalogSeed and catalogOrgs are those of mapping's TestMapEventgenCatalog:
// the same generator, asked for eventgen.AllTypes() in the same order, makes
// the events its golden files describe.
const (
	catalogSeed = 20261127
	catalogOrgs = 3
)

// TestEndToEndEveryFamily: one event of every documented type, produced as
// Confluent-framed Avro with the registry's schema ids, reaches the queues
// subscribed (raw delivery) to the ticket topic (FIFO) and the custom object
// topic with exactly the body and the six String attributes the bridge's
// mapping golden files promise; a subscription filtering on event_name gets
// only its types; on the FIFO topic each organization's events arrive in the
// order they were produced, grouped by organization and de-duplicated by
// event id.
func TestEndToEndEveryFamily(t *testing.T) {
	topic, dlq := sourceTopic(t, 3)
	ticketARN := testenv.SNSTopic(t, true, nil)
	customARN := testenv.SNSTopic(t, false, nil)
	ticketQ := testenv.SubscribeQueue(t, ticketARN, "")
	filterTypes := []string{"ticket:created", "ticket:updated"}
	filterQ := testenv.SubscribeQueue(t, ticketARN, `{"event_name":["ticket:created","ticket:updated"]}`)
	customQ := testenv.SubscribeQueue(t, customARN, "")

	g, err := eventgen.New(catalogSeed, eventgen.Options{Orgs: catalogOrgs})
	if err != nil {
		t.Fatal(err)
	}
	var recs []eventgen.Record
	goldens := map[int]goldenMessage{} // by index in recs
	for _, et := range eventgen.AllTypes() {
		r, err := g.Record(et)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		raw, err := os.ReadFile(filepath.Join("..", "mapping", "testdata", "eventgen_"+strings.ReplaceAll(et, ":", "_")+".golden.json"))
		if err != nil {
			t.Fatalf("golden file of %s: %v", et, err)
		}
		var gm goldenMessage
		if err := json.Unmarshal(raw, &gm); err != nil {
			t.Fatal(err)
		}
		// A custom object event without an eventId gets one made from its
		// Kafka position, known once it is produced.
		if id, ok := r.Natural["eventId"].(string); ok && id != gm.EventID {
			t.Fatalf("generated %s has event id %v, its golden file %s: the generator no longer makes the golden events", et, id, gm.EventID)
		}
		goldens[len(recs)-1] = gm
	}
	// More ticket events, so each organization has a real sequence to keep.
	for range 30 {
		recs = append(recs, must(g.Record("ticket:updated")))
	}

	var wantTicket, wantCustom, wantFiltered int
	order := map[string][]string{} // org key -> event ids in produce order
	for _, r := range recs {
		switch {
		case strings.HasPrefix(r.EventType, "custom-object:"):
			wantCustom++
		default:
			wantTicket++
			order[string(r.Key)] = append(order[string(r.Key)], r.Natural["eventId"].(string))
			if slices.Contains(filterTypes, r.EventType) {
				wantFiltered++
			}
		}
	}
	produced := produce(t, testenv.KafkaClient(t), topic, recs)
	golden := map[string]goldenMessage{} // by the event id the bridge publishes
	for i, gm := range goldens {
		if _, ok := recs[i].Natural["eventId"].(string); !ok {
			p := produced[i]
			id := mapping.GeneratedEventID(mapping.Source{Topic: p.Topic, Partition: p.Partition, Offset: p.Offset})
			gm.Body = json.RawMessage(strings.ReplaceAll(string(gm.Body), gm.EventID, id))
			for j := range gm.Attributes {
				gm.Attributes[j].Value = strings.ReplaceAll(gm.Attributes[j].Value, gm.EventID, id)
			}
			gm.EventID = id
		}
		golden[gm.EventID] = gm
	}

	cfg := baseConfig(t, topic, testenv.SNSEndpoint(t), [2]string{"custom-object:*", customARN}, [2]string{"*", ticketARN})
	b := testenv.StartBridge(t, "bridge", cfg)

	ticket := testenv.Receive(t, ticketQ.URL, wantTicket, 3*time.Minute)
	custom := testenv.Receive(t, customQ.URL, wantCustom, time.Minute)
	filtered := testenv.Receive(t, filterQ.URL, wantFiltered, time.Minute)
	// Whatever else arrives within a few seconds would be a duplicate or a
	// type the filter should have kept out.
	ticket = append(ticket, testenv.Receive(t, ticketQ.URL, 0, 3*time.Second)...)
	filtered = append(filtered, testenv.Receive(t, filterQ.URL, 0, 2*time.Second)...)

	check := func(queue string, msgs []testenv.Message, want int, fifo bool) {
		t.Helper()
		seen := map[string]int{}
		for _, m := range msgs {
			id := m.Attributes["event_id"]
			seen[id]++
			if fifo && (m.MessageDeduplicationID != id || m.MessageGroupID == "") {
				t.Errorf("%s: %s has MessageDeduplicationId %q and MessageGroupId %q; want the event id and the organization", queue, id, m.MessageDeduplicationID, m.MessageGroupID)
			}
			gm, ok := golden[id]
			if !ok {
				continue
			}
			if got, want := m.Body, jsonCompact(t, gm.Body); got != want {
				t.Errorf("%s: body of %s differs from the mapping golden file:\n got %s\nwant %s", queue, id, got, want)
			}
			if len(m.Attributes) != len(gm.Attributes) {
				t.Errorf("%s: %s has %d message attributes, want %d: %v", queue, id, len(m.Attributes), len(gm.Attributes), m.Attributes)
			}
			for _, a := range gm.Attributes {
				if m.Attributes[a.Name] != a.Value || m.AttributeTypes[a.Name] != "String" {
					t.Errorf("%s: %s attribute %s = %q (%s), want %q (String)", queue, id, a.Name, m.Attributes[a.Name], m.AttributeTypes[a.Name], a.Value)
				}
			}
			delete(golden, id)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s arrived %d times", queue, id, n)
			}
		}
		if len(seen) != want {
			t.Errorf("%s: %d distinct events arrived, want %d", queue, len(seen), want)
		}
	}
	check("ticket queue (FIFO)", ticket, wantTicket, true)
	check("custom object queue", custom, wantCustom, false)
	for id, gm := range golden {
		t.Errorf("event %s (%s) never arrived", id, gm.Attributes[0].Value)
	}

	// The filter policy: only the chosen types, all of them.
	for _, m := range filtered {
		if !slices.Contains(filterTypes, m.Attributes["event_name"]) {
			t.Errorf("filtered queue received a %s", m.Attributes["event_name"])
		}
	}
	if len(filtered) != wantFiltered {
		t.Errorf("filtered queue received %d messages, want %d", len(filtered), wantFiltered)
	}

	// Order per organization on the FIFO topic, and the group is the organization.
	got := map[string][]string{}
	for _, m := range ticket {
		if m.MessageGroupID != m.Attributes["context_organization_id"] {
			t.Errorf("%s: MessageGroupId %q, organization %q", m.Attributes["event_id"], m.MessageGroupID, m.Attributes["context_organization_id"])
		}
		got[m.MessageGroupID] = append(got[m.MessageGroupID], m.Attributes["event_id"])
	}
	for org, want := range order {
		if !slices.Equal(got[org], want) {
			t.Errorf("organization %s: events arrived in order\n%v\nwant\n%v", org, got[org], want)
		}
	}

	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d good events were dead-lettered", len(dead))
	}
	if err := b.Stop(30 * time.Second); err != nil {
		t.Errorf("stopping the bridge: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
