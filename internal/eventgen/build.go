package eventgen

import (
	"fmt"
	"maps"
	"slices"
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

func ref(p person) map[string]any {
	return map[string]any{"id": p.id, "email": p.email, "name": p.name()}
}

// ticket returns a Ticket with a description of about descLen bytes; full
// sets every optional field.
func (g *Generator) ticket(o *org, descLen int, full bool) map[string]any {
	c := o.contacts[g.rng.IntN(len(o.contacts))]
	tm := o.teams[g.rng.IntN(len(o.teams))]
	status, prio, sent := g.rng.IntN(len(ticketStatuses)), g.rng.IntN(len(priorities)), g.rng.IntN(len(sentiments))
	t := map[string]any{
		"id":                       g.id(),
		"ticketId":                 fmt.Sprintf("%s-%d", tm.identifier, 1+g.rng.IntN(20000)),
		"title":                    g.one(subjects),
		"description":              g.text(descLen),
		"customerContactFirstName": c.first,
		"customerContactLastName":  c.last,
		"customerContactEmail":     c.email,
		"priorityId":               fmt.Sprintf("%s-PRIO-%d", o.id[:8], prio),
		"statusId":                 fmt.Sprintf("%s-STAT-%d", o.id[:8], status),
		"statusName":               ticketStatuses[status],
		"priorityName":             priorities[prio],
		"sentimentId":              fmt.Sprintf("%s-SENT-%d", o.id[:8], sent),
		"sentimentName":            sentiments[sent],
		"source":                   g.one(sources),
		"createdAt":                g.past(30),
		"teamId":                   tm.id,
		"teamName":                 tm.name,
		"teamIdentifier":           tm.identifier,
		"isEscalated":              g.rng.IntN(8) == 0,
		"customer":                 ref(c),
		"assignedTo":               nil,
		"assignedAgent":            nil,
		"isArchived":               false,
	}
	if g.rng.IntN(5) > 0 {
		a := o.agents[g.rng.IntN(len(o.agents))]
		t["assignedTo"], t["assignedAgent"] = a.id, ref(a)
	}
	if !full {
		return t
	}
	sub := o.teams[g.rng.IntN(len(o.teams))]
	t["subTeamId"], t["subTeamName"], t["subTeamIdentifier"] = sub.id, sub.name+" Tier 2", sub.identifier+"2"
	t["tags"] = g.tags()
	cf := map[string]any{}
	for _, uid := range o.fieldUIDs[:1+g.rng.IntN(len(o.fieldUIDs))] {
		cf[uid] = g.one([]string{"Gold", "Silver", "EU", "US", "Renewal Q1", "Self-serve", "42"})
	}
	t["customFields"] = cf
	t["metadata"] = map[string]any{"typeName": g.one(ticketTypes), "channelId": g.id()}
	t["aiGeneratedTitle"] = "Customer " + strings.ToLower(g.one(subjects))
	t["aiGeneratedSummary"] = g.text(120)
	t["lastCustomerComment"] = g.past(2)
	t["lastVendorComment"] = g.past(2)
	t["proactiveChannels"] = []any{g.one([]string{"email", "slack"})}
	t["isProactive"] = g.rng.IntN(10) == 0
	return t
}

func (g *Generator) tags() []any {
	n := 1 + g.rng.IntN(4)
	tags := make([]any, 0, n)
	for _, i := range g.rng.Perm(len(tagWords))[:n] {
		tags = append(tags, tagWords[i])
	}
	return tags
}

// derivePrevious returns the state of ticket t before an eventType change.
func (g *Generator) derivePrevious(o *org, t map[string]any, eventType string) map[string]any {
	p := maps.Clone(t)
	other := func(list []string, cur string) string {
		for {
			if s := g.one(list); s != cur {
				return s
			}
		}
	}
	switch eventType {
	case "ticket:archived":
		t["isArchived"], p["isArchived"] = true, false
	case "ticket:unarchived":
		t["isArchived"], p["isArchived"] = false, true
	case "ticket:status:changed":
		name := other(ticketStatuses, t["statusName"].(string))
		p["statusName"], p["statusId"] = name, o.id[:8]+"-STAT-"+fmt.Sprint(slices.Index(ticketStatuses, name))
	case "ticket:priority:changed":
		name := other(priorities, t["priorityName"].(string))
		p["priorityName"], p["priorityId"] = name, o.id[:8]+"-PRIO-"+fmt.Sprint(slices.Index(priorities, name))
	case "ticket:sentiment:changed":
		name := other(sentiments, t["sentimentName"].(string))
		p["sentimentName"], p["sentimentId"] = name, o.id[:8]+"-SENT-"+fmt.Sprint(slices.Index(sentiments, name))
	case "ticket:assigned":
		a := o.agents[g.rng.IntN(len(o.agents))]
		t["assignedTo"], t["assignedAgent"] = a.id, ref(a)
		p["assignedTo"], p["assignedAgent"] = nil, nil
	case "ticket:escalated":
		t["isEscalated"], p["isEscalated"] = true, false
	case "ticket:type:changed":
		if md, ok := t["metadata"].(map[string]any); ok {
			pm := maps.Clone(md)
			pm["typeName"] = other(ticketTypes, md["typeName"].(string))
			p["metadata"] = pm
		} else {
			t["metadata"] = map[string]any{"typeName": g.one(ticketTypes)}
		}
	case "ticket:tag:updated":
		p["tags"] = g.tags()
	case "ticket:migrated":
		tm := o.teams[g.rng.IntN(len(o.teams))]
		p["teamId"], p["teamName"], p["teamIdentifier"] = g.id(), tm.name+" (legacy)", tm.identifier+"L"
	default: // ticket:updated and others: an edit
		p["title"] = g.one(subjects)
		p["description"] = g.text(len(t["description"].(string)) / 2)
	}
	return p
}

func (g *Generator) customFieldChanges(o *org, verb string) []any {
	changes := []any{}
	for _, uid := range o.fieldUIDs[:1+g.rng.IntN(2)] {
		c := map[string]any{"fieldUid": uid, "changeType": verb}
		if verb != "added" {
			c["previousValues"] = []any{g.one([]string{"Gold", "EU", "Q1"})}
		}
		if verb != "removed" {
			c["newValues"] = []any{g.one([]string{"Silver", "US", "Q2"}), g.one([]string{"Renewal", "Expansion"})}
		}
		changes = append(changes, c)
	}
	return changes
}

func (g *Generator) jsonMap() map[string]any {
	return map[string]any{
		"tier":      g.one([]string{"gold", "silver", "bronze"}),
		"seats":     int64(5 + g.rng.IntN(500)),
		"arr":       float64(g.rng.IntN(2_000_000)) + 0.5,
		"renewsOn":  g.past(1)[:10],
		"champions": []any{g.id(), g.id()},
		"flags":     map[string]any{"beta": g.rng.IntN(2) == 0, "sso": true, "note": nil},
	}
}

func (g *Generator) accountObj(o *org, full bool) map[string]any {
	a := o.accounts[g.rng.IntN(len(o.accounts))]
	m := map[string]any{
		"id": a.id, "name": a.name,
		"status": g.one(accountStatuses), "health": g.one(healths), "classification": g.one(classifications),
		"createdAt": g.past(400), "updatedAt": g.past(5),
	}
	if full {
		m["domain"], m["industry"], m["size"] = a.domain, g.one(industries), g.one(sizes)
		m["metadata"] = g.jsonMap()
		cf := map[string]any{}
		for _, uid := range o.fieldUIDs[:1+g.rng.IntN(len(o.fieldUIDs))] {
			cf[uid] = []any{g.one([]string{"Gold", "EU", "Partner", "Expansion"})}
		}
		m["customFields"] = cf
	}
	return m
}

func (g *Generator) contactObj(o *org, full bool) map[string]any {
	c := o.contacts[g.rng.IntN(len(o.contacts))]
	m := map[string]any{
		"id": c.id, "firstName": c.first, "email": c.email, "contactType": g.one(contactTypes),
		"accountIds": []any{c.accountID}, "createdAt": g.past(300), "updatedAt": g.past(3),
	}
	if full {
		m["lastName"] = c.last
		m["phoneNumber"] = fmt.Sprintf("+1-555-%04d", g.rng.IntN(10000))
		m["avatarUrl"] = "https://cdn.thena.ai/avatars/" + c.id + ".png"
		m["customFields"] = map[string]any{o.fieldUIDs[0]: []any{g.one([]string{"Decision maker", "Champion", "Billing"})}}
		m["metadata"] = map[string]any{"linkedin": "https://linkedin.com/in/" + strings.ToLower(c.first+c.last), "score": int64(g.rng.IntN(100))}
	}
	return m
}

func (g *Generator) orgObj(o *org, full bool) map[string]any {
	m := map[string]any{
		"id": o.id, "name": o.name, "subdomain": o.subdomain, "plan": o.plan, "status": "ACTIVE",
		"createdAt": o.createdAt, "updatedAt": g.past(10),
	}
	if full {
		m["domain"] = o.domain
		m["settings"] = map[string]any{"timezone": g.one(timezones), "businessHours": map[string]any{"start": "09:00", "end": "17:00"}, "csatEnabled": true}
		m["metadata"] = map[string]any{"region": g.one([]string{"us-east-1", "eu-west-1"}), "seats": int64(10 + g.rng.IntN(300))}
	}
	return m
}

// comment returns a comment on entity ("ticket", "account-task", ...).
func (g *Generator) comment(o *org, entity string, contentLen int, full bool) map[string]any {
	author := o.agents[g.rng.IntN(len(o.agents))]
	authorType := "AGENT"
	if entity == "ticket" && g.rng.IntN(3) == 0 {
		author, authorType = o.contacts[g.rng.IntN(len(o.contacts))], "CUSTOMER"
	}
	body := g.text(contentLen)
	m := map[string]any{
		"id":          g.id(),
		"commentType": g.one(commentTypes),
		"metadata": map[string]any{
			"mentions":      []any{},
			"userReactions": []any{},
			"replies":       []any{},
		},
		"author":            map[string]any{"id": author.id, "name": author.name(), "email": author.email, "type": authorType},
		"commentVisibility": g.one([]string{"public", "private"}),
		"createdAt":         g.past(1),
		"updatedAt":         g.past(1),
		"entityId":          g.id(),
	}
	if full || g.rng.IntN(4) > 0 {
		m["content"] = body
		m["contentHtml"] = "<p>" + body + "</p>"
		m["contentMarkdown"] = body
		m["contentJson"] = fmt.Sprintf(`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":%q}]}]}`, body)
	}
	if entity == "ticket" {
		m["teamId"] = o.teams[g.rng.IntN(len(o.teams))].id
		if authorType == "CUSTOMER" {
			m["customerContactId"] = author.id
		}
	} else {
		m["accountId"] = o.accounts[g.rng.IntN(len(o.accounts))].id
	}
	if full {
		m["parentCommentId"] = g.id()
		mention := o.agents[g.rng.IntN(len(o.agents))]
		m["metadata"] = map[string]any{
			"mentions":      []any{map[string]any{"userId": mention.id, "name": mention.name()}},
			"userReactions": []any{map[string]any{"emoji": g.one(emojis), "userIds": []any{g.id()}}},
			"replies":       []any{g.id()},
		}
	}
	return m
}

func (g *Generator) userObj(o *org, full bool) map[string]any {
	u := o.agents[g.rng.IntN(len(o.agents))]
	m := map[string]any{
		"id": u.id, "email": u.email, "name": u.name(), "userType": u.userType, "status": "ACTIVE",
		"createdAt": g.past(200), "updatedAt": g.past(2),
	}
	if full {
		m["avatarUrl"] = "https://cdn.thena.ai/avatars/" + u.id + ".png"
		m["timezone"] = g.one(timezones)
		m["roles"] = []any{g.one([]string{"admin", "agent", "viewer"})}
		m["metadata"] = map[string]any{"title": g.one([]string{"Support Engineer", "Team Lead", "CSM"}), "onCall": g.rng.IntN(2) == 0}
	}
	return m
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
