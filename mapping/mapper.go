package mapping

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/internal/tracecontext"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// The message attributes every message carries, in this order. All are of
// SNS type String. Subscribers filter on them (thena-events.md §2).
const (
	AttrEventName      = "event_name"              // eventType
	AttrEventID        = "event_id"                // eventId, generated for custom objects without one
	AttrEventTimestamp = "event_timestamp"         // event time: ISO-8601 UTC with milliseconds; custom objects: the body's Unix milliseconds
	AttrUserID         = "context_user_id"         // actor.id
	AttrUserType       = "context_user_type"       // actor.type
	AttrOrganizationID = "context_organization_id" // orgId
)

// attrNames is the fixed attribute order.
var attrNames = [6]string{AttrEventName, AttrEventID, AttrEventTimestamp, AttrUserID, AttrUserType, AttrOrganizationID}

// The attributes a message may carry beyond the six, after them in this
// order: the producer's W3C trace context (String), and on an offloaded
// event the extended clients' payload size (Number).
const (
	AttrTraceParent = tracecontext.TraceParent
	AttrTraceState  = tracecontext.TraceState
)

// maxAttributes is the most attributes Map puts on a message: the six,
// traceparent, tracestate and the offload pointer's ExtendedPayloadSize.
const maxAttributes = len(attrNames) + 2 + 1

// SNS takes at most sns.MaxMessageAttributes attributes per message. The
// bridge's set is fixed by code, not by configuration, so no route can
// exceed it: a change that would let a message carry more stops the build
// here instead of failing publishes.
const _ = uint(sns.MaxMessageAttributes - maxAttributes)

// attrOverhead is what the attributes' names and type add to every message's
// size (sns.MessageSize of the attributes without values), so that Map knows a
// message's size from its value lengths before it builds anything.
var attrOverhead = func() int {
	var attrs [len(attrNames)]sns.Attribute
	for i, name := range attrNames {
		attrs[i].Name = name
	}
	return sns.MessageSize("", attrs[:])
}()

// TimestampLayout is the form of the event_timestamp attribute of every
// event but custom objects: ISO-8601 in UTC with exactly three fractional
// digits, e.g. "2026-11-27T05:08:30.123Z". A custom object event's attribute
// is its body's timestamp, Unix milliseconds in decimal, e.g.
// "1795756110123" (thena-events.md §2); ParseEventTimestamp reads both.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// SecondsThreshold is the custom object timestamp below which Map sets
// Message.TimestampLooksLikeSeconds: 10^11 ms is March 1973, while 10^11 s is
// the year 5138, so a smaller value is almost surely Unix seconds written
// where milliseconds belong.
const SecondsThreshold = 100_000_000_000

// ParseEventTimestamp parses an event_timestamp attribute value as Map
// writes it: TimestampLayout, or decimal Unix milliseconds (custom objects).
func ParseEventTimestamp(v string) (time.Time, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Parse(TimestampLayout, v)
}

// CustomObjectPrefix starts the type of every custom object event
// ("custom-object:{type}:created|updated|deleted"). Those events get the
// custom object envelope.
const CustomObjectPrefix = "custom-object:"

// TruncatedFieldsKey is the key Map adds to the envelope's metadata object
// when it truncated fields: an array of their paths, e.g.
// {"metadata": {"truncatedFields": ["payload.comment.content"]}}.
const TruncatedFieldsKey = "truncatedFields"

// TopicInfo is what the sns package learnt about a topic at start-up
// (sns.Topics): FIFO-ness, which must agree with the ARN's ".fifo" suffix,
// and MaximumMessageSize (0 means sns.DefaultMaxMessageSize).
type TopicInfo = sns.TopicInfo

// Source is where an event was read from. Map uses it for the FIFO group id
// (Key) and for the eventId of custom object events that have none.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
	// Key is the Kafka record key, the organization id by convention.
	Key []byte
	// TraceParent and TraceState are the record's W3C trace context
	// headers (nil when absent). Map forwards them as the traceparent and
	// tracestate attributes when tracecontext accepts them (tracestate
	// only beside a valid traceparent) and drops them otherwise.
	TraceParent, TraceState []byte
}

// Message is one mapped event: the SNS entry to publish and what the delivery
// engine, the dead-letter headers and the metrics need to know about it. It
// shares no mutable memory with the input event: the body is a copy.
type Message struct {
	Entry sns.Entry
	// EventID is the eventId sent (the generated one for a custom object
	// event without one). EventType and OrgID are as sent in the attributes.
	EventID   string
	EventType string
	OrgID     string
	// EventTime is the event's timestamp, in UTC.
	EventTime time.Time
	// TimestampLooksLikeSeconds is set for a custom object event whose
	// timestamp is below SecondsThreshold: most likely Unix seconds where
	// the contract says milliseconds. The event is published with the
	// value as given (body and attribute); the flag lets the caller count
	// it and tell the producer.
	TimestampLooksLikeSeconds bool
	// Route is the route that matched; its Pattern is empty when the default
	// route was used.
	Route Route
	// Offload is set when the event was over its topic's limit on a route
	// that offloads: Entry is the pointer message, and Offload the object
	// that must be stored in S3 before Entry is published.
	Offload *OffloadedEvent
	// Truncated holds the paths of the fields replaced by the placeholder, in
	// the order they were replaced (largest first), e.g.
	// "payload.comment.content" or "payload.items[2].description". It is nil
	// when nothing was truncated.
	Truncated []string
}

// Mapper maps decoded events to SNS messages. It is immutable after
// NewMapper and safe for concurrent use.
type Mapper struct {
	routes      []compiledRoute
	def         *compiledRoute
	large       map[string]struct{}
	placeholder []byte // JSON text of the placeholder, quotes included
}

type topic struct {
	arn     string
	fifo    bool
	maxSize int
}

// NewMapper validates cfg and builds a Mapper. topics holds what SNS reported
// for each topic ARN (see Config.TopicARNs); an ARN absent from it is taken to
// be FIFO when it ends in ".fifo" (sns.IsFIFO), with sns.DefaultMaxMessageSize.
func NewMapper(cfg Config, topics map[string]TopicInfo) (*Mapper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	resolve := func(field, arn string) (topic, error) {
		info, ok := topics[arn]
		if !ok {
			info = TopicInfo{FIFO: sns.IsFIFO(arn)}
		}
		if info.FIFO != sns.IsFIFO(arn) {
			return topic{}, fmt.Errorf("mapping: %s %q: TopicInfo.FIFO is %t but the name says otherwise (FIFO topic names end in .fifo)", field, arn, info.FIFO)
		}
		if info.MaxMessageSize < 0 {
			return topic{}, fmt.Errorf("mapping: %s %q: TopicInfo.MaxMessageSize %d is negative", field, arn, info.MaxMessageSize)
		}
		if info.MaxMessageSize == 0 {
			info.MaxMessageSize = sns.DefaultMaxMessageSize
		}
		return topic{arn: arn, fifo: info.FIFO, maxSize: info.MaxMessageSize}, nil
	}
	m := &Mapper{large: make(map[string]struct{}, len(cfg.LargeFields))}
	for i, r := range cfg.Routes {
		t, err := resolve(fmt.Sprintf("Routes[%d].TopicARN", i), r.TopicARN)
		if err != nil {
			return nil, err
		}
		if r.Relaxed() && t.fifo {
			return nil, fmt.Errorf("mapping: Routes[%d].Ordering: route %q to FIFO topic %q has ordering %s: a FIFO topic delivers each message group in order, which only strict ordering can feed; use strict, or route to a standard topic", i, r.Pattern, r.TopicARN, OrderingRelaxed)
		}
		m.routes = append(m.routes, compileRoute(r, t))
	}
	if cfg.DefaultTopicARN != "" {
		t, err := resolve("DefaultTopicARN", cfg.DefaultTopicARN)
		if err != nil {
			return nil, err
		}
		m.def = &compiledRoute{Route: Route{TopicARN: cfg.DefaultTopicARN}, topic: t}
	}
	for _, f := range cfg.LargeFields {
		m.large[f] = struct{}{}
	}
	m.placeholder, _ = json.Marshal(cfg.Placeholder) // a string always marshals
	return m, nil
}

// route returns the first route matching eventType, the default route, or nil.
func (m *Mapper) route(eventType string) *compiledRoute {
	for i := range m.routes {
		if m.routes[i].matches(eventType) {
			return &m.routes[i]
		}
	}
	return m.def
}

// Map maps one decoded event read from src. Every error is a *failure.Error
// of class Permanent: missing_field (a required envelope field is absent or
// empty), unroutable, or too_large. With an error, the Message still carries
// what is known of EventID, EventType, OrgID and EventTime (for the
// dead-letter headers); its Entry is empty. Map does not modify ev and keeps
// no reference to it.
//
// Required: eventType, orgId, timestamp, actor.id, actor.type, and eventId
// except for custom object events. The values are taken from ev.Header; the
// body is built from ev.Fields, which the decoder derived the header from.
func (m *Mapper) Map(ev *avro.Event, src Source) (Message, error) {
	h := &ev.Header
	var field string
	custom := strings.HasPrefix(h.EventType, CustomObjectPrefix)
	switch {
	case h.EventType == "":
		field = "eventType"
	case h.OrgID == "":
		field = "orgId"
	case !h.HasTimestamp:
		field = "timestamp"
	case h.Actor.ID == "":
		field = "actor.id"
	case h.Actor.Type == "":
		field = "actor.type"
	case h.EventID == "" && !custom:
		field = "eventId"
	}
	if field != "" {
		return known(h), failure.Permanentf(failure.ReasonMissingField,
			"required envelope field %s is absent or empty (eventType %q, eventId %q)",
			field, sanitize(h.EventType), sanitize(h.EventID))
	}
	r := m.route(h.EventType)
	if r == nil {
		return known(h), failure.Permanentf(failure.ReasonUnroutable,
			"no route matches event type %q and there is no default route", sanitize(h.EventType))
	}

	fields := ev.Fields
	for i := range fields {
		if !cleanBytes(fields[i].Value) {
			fields = sanitizeFields(ev.Fields)
			break
		}
	}
	ts := h.Timestamp.UTC()
	env := envelope{fields: fields, custom: custom, millis: ts.UnixMilli()}
	var idBuf [uuidLen]byte
	if h.EventID == "" {
		env.genID = appendEventID(idBuf[:0], src)
	}

	// Attribute values that exist as strings already are used as they are;
	// the strings Map must build share one allocation with the body.
	eventType, orgID := sanitize(h.EventType), sanitize(h.OrgID)
	actorID, actorType := sanitize(h.Actor.ID), sanitize(h.Actor.Type)
	eventID := sanitize(h.EventID)
	var tsBuf [len(TimestampLayout) + 8]byte
	var tsText []byte
	if custom {
		tsText = strconv.AppendInt(tsBuf[:0], env.millis, 10)
	} else {
		tsText = appendTimestamp(tsBuf[:0], ts)
	}

	attrValueLen := len(eventType) + len(tsText) + len(actorID) + len(actorType) + len(orgID)
	if env.genID != nil {
		attrValueLen += len(env.genID)
	} else {
		attrValueLen += len(eventID)
	}
	// The trace attributes count against the size like the six, so that
	// an event with trace context is truncated (never refused) to fit.
	traceParent, traceState := traceContext(src)
	nAttrs := len(attrNames)
	if traceParent != nil {
		nAttrs++
		attrValueLen += traceAttrSize(AttrTraceParent, traceParent)
	}
	if traceState != nil {
		nAttrs++
		attrValueLen += traceAttrSize(AttrTraceState, traceState)
	}

	bodyLen := env.len()
	var truncated []string
	var off *OffloadedEvent
	var pointer, payloadSize string
	if bodyLen+attrOverhead+attrValueLen > r.topic.maxSize {
		offload := r.LargeEvents == LargeOffload
		if !offload {
			orig := env
			var err error
			truncated, bodyLen, err = m.truncate(&env, r.topic.maxSize, r.topic.maxSize-attrOverhead-attrValueLen)
			switch {
			case err != nil && r.LargeEvents == LargeTruncateThenOffload:
				env, truncated, offload = orig, nil, true // offload the whole event, not the truncated one
			case err != nil:
				msg := known(h)
				msg.EventID, msg.Route = eventIDOr(msg.EventID, env.genID), r.Route
				return msg, err
			}
		}
		if offload {
			var whole strings.Builder
			whole.Grow(bodyLen)
			env.writeTo(&whole)
			o := r.Offload
			off = &OffloadedEvent{Bucket: o.Bucket, Key: OffloadKey(o.KeyPrefix, eventIDOr(eventID, env.genID)),
				Body: whole.String(), SSE: o.SSE, KMSKeyID: o.KMSKeyID}
			pointer = PointerBody(off.Bucket, off.Key)
			payloadSize = strconv.Itoa(len(off.Body))
			bodyLen = len(pointer)
			nAttrs++
		}
	}

	// One allocation for the body and every string built here.
	var groupKey []byte
	extra := len(tsText) + len(env.genID) + len(traceParent) + len(traceState)
	grouped := r.topic.fifo || r.FairGroup
	if grouped {
		groupKey = src.Key
		if len(groupKey) == 0 {
			groupKey = []byte(orgID) // does not escape: appended below
		}
		extra += snsIDLen(groupKey)
	}
	if r.topic.fifo && env.genID == nil && !usableSNSID(h.EventID) {
		extra += hashedIDLen
	}
	var b strings.Builder
	b.Grow(bodyLen + extra)
	if off != nil {
		b.WriteString(pointer)
	} else {
		env.writeTo(&b)
	}
	body := b.Len()
	b.Write(tsText)
	tsEnd := b.Len()
	b.Write(env.genID)
	idEnd := b.Len()
	b.Write(traceParent)
	b.Write(traceState)
	traceEnd := b.Len()
	groupEnd := traceEnd
	if grouped {
		writeSNSID(&b, groupKey)
		groupEnd = b.Len()
	}
	var dedupEnd int
	if r.topic.fifo {
		if env.genID == nil && !usableSNSID(h.EventID) {
			writeSNSID(&b, []byte(h.EventID))
		}
		dedupEnd = b.Len()
	}
	all := b.String()

	msg := Message{
		EventType: eventType,
		OrgID:     orgID,
		EventID:   eventID,
		EventTime: ts,
		Route:     r.Route,
		Truncated: truncated,
		Offload:   off,

		TimestampLooksLikeSeconds: custom && env.millis < SecondsThreshold,
	}
	if env.genID != nil {
		msg.EventID = all[tsEnd:idEnd]
	}
	// One allocation for the attributes, as many as this message carries
	// (room for ExtendedPayloadSize is left to an offload, which copies).
	attrs := make([]sns.Attribute, len(attrNames), nAttrs)
	attrs[0] = sns.Attribute{Name: AttrEventName, Value: eventType}
	attrs[1] = sns.Attribute{Name: AttrEventID, Value: msg.EventID}
	attrs[2] = sns.Attribute{Name: AttrEventTimestamp, Value: all[body:tsEnd]}
	attrs[3] = sns.Attribute{Name: AttrUserID, Value: actorID}
	attrs[4] = sns.Attribute{Name: AttrUserType, Value: actorType}
	attrs[5] = sns.Attribute{Name: AttrOrganizationID, Value: orgID}
	if traceParent != nil {
		attrs = append(attrs, sns.Attribute{Name: AttrTraceParent, Value: all[idEnd : idEnd+len(traceParent)]})
	}
	if traceState != nil {
		attrs = append(attrs, sns.Attribute{Name: AttrTraceState, Value: all[traceEnd-len(traceState) : traceEnd]})
	}
	if off != nil {
		attrs = append(attrs, sns.Attribute{Name: AttrExtendedPayloadSize, Value: payloadSize, Number: true})
	}
	msg.Entry = sns.Entry{
		TopicARN:   r.topic.arn,
		Body:       all[:body],
		Attributes: attrs,
		Source:     sns.Source{Topic: src.Topic, Partition: src.Partition, Offset: src.Offset},
	}
	if grouped {
		msg.Entry.GroupID = all[traceEnd:groupEnd]
	}
	if r.topic.fifo {
		switch {
		case env.genID != nil:
			msg.Entry.DedupID = msg.EventID
		case dedupEnd > groupEnd:
			msg.Entry.DedupID = all[groupEnd:dedupEnd]
		default:
			msg.Entry.DedupID = h.EventID
		}
	}
	msg.Entry.Size = sns.MessageSize(msg.Entry.Body, msg.Entry.Attributes)
	if msg.Entry.Size > r.topic.maxSize {
		// truncate guarantees the fit; an offload pointer fits any real
		// topic. Reaching this is a bug or a topic limit of a few hundred
		// bytes, and SNS would refuse the message anyway.
		return known(h), failure.Permanentf(failure.ReasonTooLarge,
			"%s is %d bytes, over the topic's limit of %d", eventType, msg.Entry.Size, r.topic.maxSize)
	}
	return msg, nil
}

// traceContext returns the trace context Map forwards from src: a
// traceparent tracecontext accepts, and beside it a tracestate it accepts.
func traceContext(src Source) (traceParent, traceState []byte) {
	if src.TraceParent == nil || !tracecontext.ValidTraceParent(src.TraceParent) {
		return nil, nil
	}
	if src.TraceState != nil && tracecontext.ValidTraceState(src.TraceState) {
		traceState = src.TraceState
	}
	return src.TraceParent, traceState
}

// traceAttrSize is what one trace attribute adds to the message size.
func traceAttrSize(name string, value []byte) int {
	a := [1]sns.Attribute{{Name: name}}
	return sns.MessageSize("", a[:]) + len(value)
}

// appendTimestamp appends t (in UTC) in TimestampLayout. It formats by hand:
// time.Time.AppendFormat costs more than the rest of the attributes together.
func appendTimestamp(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimestampLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

func writeSNSID(b *strings.Builder, s []byte) {
	var buf [hashedIDLen]byte
	if usableSNSID(string(s)) {
		b.Write(s)
		return
	}
	b.Write(appendSNSID(buf[:0], s))
}

// known returns the Message fields Map knows from the header alone, for the
// dead-letter headers of an event that fails.
func known(h *avro.Header) Message {
	msg := Message{EventID: sanitize(h.EventID), EventType: sanitize(h.EventType), OrgID: sanitize(h.OrgID)}
	if h.HasTimestamp {
		msg.EventTime = h.Timestamp.UTC()
	}
	return msg
}

func eventIDOr(id string, generated []byte) string {
	if generated != nil {
		return string(generated)
	}
	return id
}
