package eventgen

import (
	"fmt"
	"maps"
	"strings"
)

// envelope wraps payload in the event envelope of eventType.
func (g *Generator) envelope(o *org, eventType string, payload map[string]any, withMeta bool) map[string]any {
	at := g.tick()
	actor := o.agents[g.rng.IntN(len(o.agents))]
	actorType := "AGENT"
	switch {
	case strings.HasPrefix(eventType, "ticket:") && g.rng.IntN(4) == 0:
		actor, actorType = o.contacts[g.rng.IntN(len(o.contacts))], "CUSTOMER"
	case g.rng.IntN(12) == 0:
		actor = person{id: g.id(), email: "automations@" + o.domain}
		actorType = "BOT"
	}
	ev := map[string]any{
		"eventId":   g.eventID(at),
		"eventType": eventType,
		"timestamp": iso(at),
		"orgId":     o.id,
		"actor":     map[string]any{"id": actor.id, "type": actorType, "email": actor.email},
		"payload":   payload,
	}
	if withMeta {
		ev["metadata"] = map[string]any{
			"source":     g.one([]string{"web", "api", "workflow", "slack"}),
			"requestId":  g.id(),
			"retryCount": int64(g.rng.IntN(3)),
			"sampled":    g.rng.IntN(2) == 0,
		}
	}
	return ev
}

func (g *Generator) customObjectEvent(o *org, eventType, objectType string, full bool) map[string]any {
	at := g.tick()
	actor := o.agents[g.rng.IntN(len(o.agents))]
	obj := map[string]any{"id": strings.ToLower(objectType) + "-" + g.id()}
	switch objectType {
	case "deal":
		obj["name"] = g.one(dealProducts)
		obj["value"] = int64(1000 * (5 + g.rng.IntN(200)))
		obj["stage"] = g.one(dealStages)
		obj["accountId"] = o.accounts[g.rng.IntN(len(o.accounts))].id
		obj["ownerId"] = actor.id
		obj["customFields"] = map[string]any{"region": g.one([]string{"EMEA", "NA", "APAC"}), "probability": float64(g.rng.IntN(100)) / 100}
	case "invoice":
		obj["number"] = fmt.Sprintf("INV-%06d", g.rng.IntN(1_000_000))
		obj["amount"] = float64(g.rng.IntN(5_000_000)) / 100
		obj["currency"] = g.one([]string{"USD", "EUR", "GBP"})
		obj["paid"] = g.rng.IntN(2) == 0
		obj["dueDate"] = g.past(1)[:10]
		obj["lineItems"] = []any{
			map[string]any{"sku": "SEAT", "quantity": int64(1 + g.rng.IntN(50)), "unitPrice": 49.0},
			map[string]any{"sku": "SUPPORT-PREMIUM", "quantity": int64(1), "unitPrice": 1200.0},
		}
	default:
		obj["name"] = objectType + " " + g.id()[:6]
		obj["attributes"] = g.jsonMap()
	}
	ev := map[string]any{
		"eventType": eventType,
		"timestamp": at.UnixMilli(),
		"orgId":     o.id,
		"actor":     map[string]any{"id": actor.id, "type": "AGENT", "email": actor.email},
		"eventData": map[string]any{objectType: obj},
	}
	if full || g.rng.IntN(3) > 0 {
		ev["eventId"] = g.eventID(at)
	}
	if full {
		ev["metadata"] = map[string]any{"source": "api", "schemaVersion": int64(3)}
	}
	return ev
}

// build returns the natural form of one event of eventType.
func (g *Generator) build(o *org, eventType string, kind Kind, full bool) map[string]any {
	if kind.Schema == CustomObjectEvent {
		objectType, _, _ := customObject(eventType)
		return g.customObjectEvent(o, eventType, objectType, full)
	}
	descLen := 80 + g.rng.IntN(500)
	var payload map[string]any
	var meta map[string]any
	verb := eventType[strings.LastIndexByte(eventType, ':')+1:]
	switch kind.Payload {
	case "TicketCreatedPayload":
		payload = map[string]any{"ticket": g.ticket(o, descLen, full)}
		if full || g.rng.IntN(3) > 0 {
			c := o.contacts[g.rng.IntN(len(o.contacts))]
			body := g.text(descLen / 2)
			payload["comment"] = map[string]any{
				"id": g.id(), "content": body, "contentHtml": "<p>" + body + "</p>",
				"contentJson":       fmt.Sprintf(`{"type":"doc","content":[{"type":"text","text":%q}]}`, body),
				"customerContactId": c.id, "createdAt": g.past(1),
			}
		}
	case "TicketUpdatedPayload":
		t := g.ticket(o, descLen, full)
		payload = map[string]any{"ticket": t, "previousTicket": g.derivePrevious(o, t, eventType)}
	case "TicketCsatPayload":
		csat := map[string]any{"surveyId": g.id(), "channel": g.one([]string{"email", "slack"}), "sentAt": g.past(1)}
		if eventType == "ticket:csat:received" {
			csat["rating"], csat["maxRating"] = int64(1+g.rng.IntN(5)), int64(5)
			csat["receivedAt"] = iso(g.clock)
			if full || g.rng.IntN(2) == 0 {
				csat["feedback"] = g.one(sentences)
			}
		}
		payload = map[string]any{"ticket": g.ticket(o, descLen, full), "csat": csat}
	case "TicketSlaPayload":
		sla := map[string]any{
			"policyId": g.id(), "policyName": g.one([]string{"Enterprise 1h", "Standard 8h", "VIP 15m"}),
			"metric": g.one([]string{"first_response", "next_response", "update", "resolution"}), "dueAt": g.past(1),
		}
		if verb == "breached" {
			sla["breachedAt"] = iso(g.clock)
		} else {
			sla["remainingMinutes"] = int64(5 + g.rng.IntN(55))
		}
		payload = map[string]any{"ticket": g.ticket(o, descLen, full), "sla": sla}
	case "AccountUpdatedPayload":
		a := g.accountObj(o, full)
		p := maps.Clone(a)
		switch eventType {
		case "account-health:changed":
			p["health"] = g.one(healths)
		case "account-status:changed":
			p["status"] = g.one(accountStatuses)
		case "account-classification:changed":
			p["classification"] = g.one(classifications)
		case "account-industry:changed":
			p["industry"] = g.one(industries)
		default:
			p["name"] = a["name"].(string) + " Inc."
		}
		payload = map[string]any{"account": a, "previousAccount": p}
	case "CustomerContactUpdatedPayload":
		c := g.contactObj(o, full)
		p := maps.Clone(c)
		if eventType == "customer-contact:type:changed" {
			p["contactType"] = "LEAD"
		} else {
			p["email"] = "old." + c["email"].(string)
		}
		payload = map[string]any{"customerContact": c, "previousCustomerContact": p}
	case "OrganizationUpdatedPayload":
		cur := g.orgObj(o, full)
		prev := maps.Clone(cur)
		prev["plan"] = g.one(plans)
		payload = map[string]any{"organization": cur, "previousOrganization": prev}
	case "OrganizationMemberJoinedPayload":
		ob := g.orgObj(o, full)
		delete(ob, "metadata")
		u := g.newPerson(o.domain, "USER")
		user := map[string]any{"id": u.id, "email": u.email, "name": u.name(), "userType": u.userType, "status": "ACTIVE"}
		if full {
			user["roles"] = []any{"agent"}
		}
		payload = map[string]any{"organization": ob, "user": user}
	case "CommentPayload", "CommentUpdatedPayload", "CommentReactionPayload":
		entity := eventType[:strings.Index(eventType, ":")]
		c := g.comment(o, entity, descLen/2, full)
		payload = map[string]any{"comment": c}
		switch kind.Payload {
		case "CommentUpdatedPayload":
			p := maps.Clone(c)
			if content, ok := c["content"].(string); ok {
				p["content"] = content[:len(content)/2]
			}
			p["updatedAt"] = c["createdAt"]
			payload["previousComment"] = p
		case "CommentReactionPayload":
			u := o.agents[g.rng.IntN(len(o.agents))]
			r := map[string]any{"emoji": g.one(emojis), "userId": u.id}
			if full {
				r["userName"] = u.name()
			}
			payload["reaction"] = r
		}
	case "UserMentionedPayload":
		u := o.agents[g.rng.IntN(len(o.agents))]
		by := o.agents[g.rng.IntN(len(o.agents))]
		var orgName any = o.name
		if g.rng.IntN(5) == 0 {
			orgName = nil
		}
		teams := []any{}
		for _, t := range o.teams[:1+g.rng.IntN(len(o.teams))] {
			teams = append(teams, map[string]any{"id": t.id, "name": t.name})
		}
		user := map[string]any{
			"id": u.id, "email": u.email, "name": u.name(), "userType": u.userType, "status": "ACTIVE",
			"organization": map[string]any{"id": o.id, "name": orgName}, "teams": teams,
		}
		if full {
			user["metadata"] = map[string]any{"notificationChannel": "slack"}
		}
		payload = map[string]any{"user": user}
		entityType := g.one([]string{"TICKET", "ACCOUNT_TASK", "ACCOUNT_ACTIVITY", "ACCOUNT_NOTE"})
		meta = map[string]any{
			"mentionedUserId": u.id, "mentionedByUserId": by.id, "entityId": g.id(), "entityType": entityType,
			"commentId": g.id(), "timestamp": iso(g.clock), "organizationId": o.id,
		}
		if entityType == "TICKET" {
			meta["teamId"] = o.teams[0].id
		}
	case "UserUpdatedPayload":
		u := g.userObj(o, full)
		p := maps.Clone(u)
		p["status"] = "INVITED"
		payload = map[string]any{"user": u, "previousUser": p}
	default:
		if payload = g.entityPayload(o, kind.Payload, verb, descLen, full); payload == nil {
			panic("eventgen: no builder for payload " + kind.Payload)
		}
	}
	ev := g.envelope(o, eventType, payload, full && meta == nil)
	if meta != nil {
		ev["metadata"] = meta
	}
	return ev
}

// entityPayload builds the payloads that carry one entity (a ticket, an
// account, a customer contact, an organization, a user): <Entity>Created
// holds it, <Entity>Deleted holds it as it was, <Entity>CustomField holds it,
// itself before, and the custom fields that changed. It returns nil for
// other payloads.
func (g *Generator) entityPayload(o *org, payload, verb string, descLen int, full bool) map[string]any {
	var entity, change string
	for _, c := range []string{"Created", "Deleted", "CustomField"} {
		if e, ok := strings.CutSuffix(payload, c+"Payload"); ok {
			entity, change = e, c
		}
	}
	var obj map[string]any
	switch entity {
	case "Ticket":
		obj = g.ticket(o, descLen, full)
	case "Account":
		obj = g.accountObj(o, full)
	case "CustomerContact":
		obj = g.contactObj(o, full)
	case "Organization":
		obj = g.orgObj(o, full)
	case "User":
		obj = g.userObj(o, full)
	default:
		return nil
	}
	key, previous := strings.ToLower(entity[:1])+entity[1:], "previous"+entity
	switch change {
	case "Created":
		return map[string]any{key: obj}
	case "Deleted":
		return map[string]any{previous: obj}
	}
	return map[string]any{key: obj, previous: maps.Clone(obj), "changedCustomFields": g.customFieldChanges(o, verb)}
}
