package eventgen

import (
	"slices"
	"strings"
)

// Schema full names of the event families in schemas/.
const (
	TicketEvent       = "com.thena.events.TicketEvent"
	AccountEvent      = "com.thena.events.AccountEvent"
	OrganizationEvent = "com.thena.events.OrganizationEvent"
	CommentEvent      = "com.thena.events.CommentEvent"
	UserEvent         = "com.thena.events.UserEvent"
	CustomObjectEvent = "com.thena.events.CustomObjectEvent"
)

// Kind is where an event type sits in the schemas: its family's record
// schema and the payload record it carries (empty for custom objects, which
// carry eventData instead of a payload).
type Kind struct {
	Schema  string
	Payload string
}

// catalog lists every documented event type with its Kind, in the order of
// the event catalog. schemas/README.md holds the same table; a test keeps
// them equal.
var catalog = []struct {
	Type string
	Kind
}{
	{"ticket:created", Kind{TicketEvent, "TicketCreatedPayload"}},
	{"ticket:updated", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:deleted", Kind{TicketEvent, "TicketDeletedPayload"}},
	{"ticket:archived", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:unarchived", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:status:changed", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:priority:changed", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:assigned", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:type:changed", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:sentiment:changed", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:escalated", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:custom_field_value:added", Kind{TicketEvent, "TicketCustomFieldPayload"}},
	{"ticket:custom_field_value:removed", Kind{TicketEvent, "TicketCustomFieldPayload"}},
	{"ticket:custom_field_value:changed", Kind{TicketEvent, "TicketCustomFieldPayload"}},
	{"ticket:tag:updated", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:migrated", Kind{TicketEvent, "TicketUpdatedPayload"}},
	{"ticket:comment:added", Kind{CommentEvent, "CommentPayload"}},
	{"ticket:comment:updated", Kind{CommentEvent, "CommentUpdatedPayload"}},
	{"ticket:comment:deleted", Kind{CommentEvent, "CommentPayload"}},
	{"ticket:comment:reaction:added", Kind{CommentEvent, "CommentReactionPayload"}},
	{"ticket:comment:reaction:removed", Kind{CommentEvent, "CommentReactionPayload"}},
	{"ticket:csat:sent", Kind{TicketEvent, "TicketCsatPayload"}},
	{"ticket:csat:received", Kind{TicketEvent, "TicketCsatPayload"}},
	{"ticket:sla:breached", Kind{TicketEvent, "TicketSlaPayload"}},
	{"ticket:sla:breach_warning", Kind{TicketEvent, "TicketSlaPayload"}},

	{"account:created", Kind{AccountEvent, "AccountCreatedPayload"}},
	{"account:updated", Kind{AccountEvent, "AccountUpdatedPayload"}},
	{"account:deleted", Kind{AccountEvent, "AccountDeletedPayload"}},
	{"account-health:changed", Kind{AccountEvent, "AccountUpdatedPayload"}},
	{"account-status:changed", Kind{AccountEvent, "AccountUpdatedPayload"}},
	{"account-classification:changed", Kind{AccountEvent, "AccountUpdatedPayload"}},
	{"account-industry:changed", Kind{AccountEvent, "AccountUpdatedPayload"}},
	{"account-custom_field_value:added", Kind{AccountEvent, "AccountCustomFieldPayload"}},
	{"account-custom_field_value:removed", Kind{AccountEvent, "AccountCustomFieldPayload"}},
	{"account-custom_field_value:changed", Kind{AccountEvent, "AccountCustomFieldPayload"}},
	{"customer-contact:created", Kind{AccountEvent, "CustomerContactCreatedPayload"}},
	{"customer-contact:updated", Kind{AccountEvent, "CustomerContactUpdatedPayload"}},
	{"customer-contact:deleted", Kind{AccountEvent, "CustomerContactDeletedPayload"}},
	{"customer-contact:type:changed", Kind{AccountEvent, "CustomerContactUpdatedPayload"}},
	{"customer-contact:custom_field_value:added", Kind{AccountEvent, "CustomerContactCustomFieldPayload"}},
	{"customer-contact:custom_field_value:removed", Kind{AccountEvent, "CustomerContactCustomFieldPayload"}},
	{"customer-contact:custom_field_value:changed", Kind{AccountEvent, "CustomerContactCustomFieldPayload"}},

	{"organization:created", Kind{OrganizationEvent, "OrganizationCreatedPayload"}},
	{"organization:updated", Kind{OrganizationEvent, "OrganizationUpdatedPayload"}},
	{"organization:deleted", Kind{OrganizationEvent, "OrganizationDeletedPayload"}},
	{"organization:member-joined", Kind{OrganizationEvent, "OrganizationMemberJoinedPayload"}},

	{"ticket:comment:created", Kind{CommentEvent, "CommentPayload"}},
	{"account-task:comment:created", Kind{CommentEvent, "CommentPayload"}},
	{"account-task:comment:updated", Kind{CommentEvent, "CommentUpdatedPayload"}},
	{"account-task:comment:deleted", Kind{CommentEvent, "CommentPayload"}},
	{"account-activity:comment:created", Kind{CommentEvent, "CommentPayload"}},
	{"account-activity:comment:updated", Kind{CommentEvent, "CommentUpdatedPayload"}},
	{"account-activity:comment:deleted", Kind{CommentEvent, "CommentPayload"}},
	{"account-note:comment:created", Kind{CommentEvent, "CommentPayload"}},
	{"account-note:comment:updated", Kind{CommentEvent, "CommentUpdatedPayload"}},
	{"account-note:comment:deleted", Kind{CommentEvent, "CommentPayload"}},

	{"user:mentioned", Kind{UserEvent, "UserMentionedPayload"}},
	{"user:created", Kind{UserEvent, "UserCreatedPayload"}},
	{"user:updated", Kind{UserEvent, "UserUpdatedPayload"}},
	{"user:deleted", Kind{UserEvent, "UserDeletedPayload"}},

	{"custom-object:deal:created", Kind{CustomObjectEvent, ""}},
	{"custom-object:deal:updated", Kind{CustomObjectEvent, ""}},
	{"custom-object:deal:deleted", Kind{CustomObjectEvent, ""}},
	{"custom-object:invoice:created", Kind{CustomObjectEvent, ""}},
	{"custom-object:invoice:updated", Kind{CustomObjectEvent, ""}},
	{"custom-object:invoice:deleted", Kind{CustomObjectEvent, ""}},
}

// AllTypes returns every documented event type, each once: 25 ticket
// (including ticket:comment:* and reactions), 17 account and customer
// contact, 4 organization, the comment types not already listed
// (ticket:comment:created and the account task, activity and note comment
// types), 4 user, and custom object events for the object types deal and
// invoice (any custom-object:{type}:{created,updated,deleted} is accepted by
// Event).
func AllTypes() []string {
	types := make([]string, len(catalog))
	for i, e := range catalog {
		types[i] = e.Type
	}
	return types
}

// KindOf returns the schema and payload record of eventType, including any
// custom-object:{type}:{created,updated,deleted}.
func KindOf(eventType string) (Kind, bool) {
	if i := slices.IndexFunc(catalog, func(e struct {
		Type string
		Kind
	}) bool {
		return e.Type == eventType
	}); i >= 0 {
		return catalog[i].Kind, true
	}
	if objectType, verb, ok := customObject(eventType); ok && objectType != "" && verb != "" {
		return Kind{Schema: CustomObjectEvent}, true
	}
	return Kind{}, false
}

// customObject splits custom-object:{type}:{verb}.
func customObject(eventType string) (objectType, verb string, ok bool) {
	rest, ok := strings.CutPrefix(eventType, "custom-object:")
	if !ok {
		return "", "", false
	}
	objectType, verb, ok = strings.Cut(rest, ":")
	if !ok || objectType == "" || strings.Contains(verb, ":") {
		return "", "", false
	}
	switch verb {
	case "created", "updated", "deleted":
		return objectType, verb, true
	}
	return "", "", false
}
