package eventgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The entities events carry (tickets, accounts, contacts, organizations,
// comments, users) as natural JSON maps; build.go puts them in payloads.

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
