package mapping

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
)

// DefaultPlaceholder is the text that replaces a truncated field, as stated
// by the Thena platform documentation.
const DefaultPlaceholder = "Payload too large. Use API instead"

// DefaultLargeFields returns the field names truncated when an event is too
// large: ticket description and the comment bodies. It returns a new slice on
// every call.
func DefaultLargeFields() []string {
	return []string{"description", "content", "contentHtml", "contentJson", "contentMarkdown"}
}

// Route sends the events whose type matches Pattern to TopicARN.
//
// Pattern is an exact event type ("ticket:created") or a glob in which each
// '*' matches any run of characters, ':' included ("ticket:*" matches
// "ticket:comment:added"; "*:comment:*" matches every comment event). No other
// character is special.
type Route struct {
	Pattern  string `yaml:"pattern"`
	TopicARN string `yaml:"topic_arn"`
	// Ordering is how the delivery engine orders this route's events of one
	// key: OrderingStrict (the default; empty means it) or OrderingRelaxed.
	// NewMapper refuses relaxed ordering on a FIFO topic.
	Ordering Ordering `yaml:"ordering"`
	// FairGroup sets the MessageGroupId of the route's messages on a
	// standard topic to the ordering key (the Kafka record key, else
	// orgId), for SQS fair queues subscribed to it: SNS forwards the group
	// id to SQS standard queues, which then keep one busy key from raising
	// the dwell time of the others. FIFO topics always get the group id;
	// there it changes nothing.
	FairGroup bool `yaml:"fair_group"`
	// LargeEvents is what becomes of an event over its topic's size limit:
	// LargeTruncate (the default; empty means it), LargeOffload or
	// LargeTruncateThenOffload. The offload policies need Offload.Bucket.
	LargeEvents LargeEvents `yaml:"large_events"`
	// Offload is where the offload policies store a too-large event.
	Offload Offload `yaml:"offload"`
}

// LargeEvents is a route's policy for events over the topic's size limit.
type LargeEvents string

const (
	// LargeTruncate replaces the configured large fields by the placeholder,
	// largest first, until the message fits; an event still too large is
	// dead-lettered as too_large. The Thena platform's documented behaviour.
	LargeTruncate LargeEvents = "truncate"
	// LargeOffload stores the whole JSON body in S3 and publishes the AWS
	// extended clients' pointer to it instead (a claim check): nothing is
	// truncated.
	LargeOffload LargeEvents = "offload"
	// LargeTruncateThenOffload truncates as LargeTruncate does, and offloads
	// the whole, untruncated body when truncation cannot make it fit.
	LargeTruncateThenOffload LargeEvents = "truncate_then_offload"
)

// Offload is where a route's too-large events go in S3.
type Offload struct {
	// Bucket is the S3 bucket; start-up checks that it exists and may be
	// used.
	Bucket string `yaml:"bucket"`
	// KeyPrefix starts every object key, e.g. "thena-events/". The rest of
	// the key is derived from the event id (OffloadKey), so a replay of an
	// event overwrites its object instead of adding one.
	KeyPrefix string `yaml:"key_prefix"`
	// SSE is the server-side encryption to ask for: empty (the bucket's
	// default), SSEAES256 or SSEKMS.
	SSE string `yaml:"sse"`
	// KMSKeyID is the KMS key of SSEKMS; empty means the account's
	// aws/s3 key.
	KMSKeyID string `yaml:"kms_key_id"`
}

// Server-side encryption of offloaded events (Offload.SSE), as S3 names it.
const (
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
)

// Offloads reports whether the route may offload events to S3.
func (r Route) Offloads() bool {
	return r.LargeEvents == LargeOffload || r.LargeEvents == LargeTruncateThenOffload
}

// Ordering is a route's delivery order per ordering key.
type Ordering string

const (
	// OrderingStrict delivers one key's events one call at a time, in
	// offset order: what subscribers of a FIFO topic see, and what a
	// standard topic gets as nearly as SNS allows.
	OrderingStrict Ordering = "strict"
	// OrderingRelaxed lets the delivery engine have several calls of one
	// key in flight. SNS standard topics do not promise delivery order
	// anyway; relaxed order trades the bridge's own ordering for the
	// throughput of a hot key. Only for standard topics.
	OrderingRelaxed Ordering = "relaxed"
)

// Relaxed reports whether the route's events may be delivered out of order
// (Ordering is OrderingRelaxed), for consumer.Outbound.Relaxed.
func (r Route) Relaxed() bool { return r.Ordering == OrderingRelaxed }

// Config is the mapping configuration. The zero value of LargeFields and
// Placeholder means their defaults (DefaultLargeFields, DefaultPlaceholder).
//
// Topic ARNs arrive here after the config loader has expanded ${VAR}
// references; Validate rejects one that still contains "${".
type Config struct {
	// Routes are tried in order; the first match wins.
	Routes []Route `yaml:"routes"`
	// DefaultTopicARN receives events no route matches. Empty means such
	// events fail as unroutable and are dead-lettered.
	DefaultTopicARN string `yaml:"default_topic_arn"`
	// LargeFields are the names of string fields, at any depth of payload or
	// eventData, that may be replaced by Placeholder when a message is over its
	// topic's size limit. nil means DefaultLargeFields(); an empty non-nil
	// slice turns truncation off.
	LargeFields []string `yaml:"large_fields"`
	// Placeholder replaces a truncated field's value. Empty means
	// DefaultPlaceholder.
	Placeholder string `yaml:"placeholder"`
}

// StandardRoutes returns the routes of the Thena documentation (thena-events.md
// §3): custom object events to customObjectTopicARN; ticket, account,
// customer-contact, organization, comment and user events to ticketTopicARN.
// Every documented event type matches one of them, so no default route is
// needed; an undocumented family fails as unroutable instead of landing on the
// wrong topic.
func StandardRoutes(ticketTopicARN, customObjectTopicARN string) []Route {
	return []Route{
		{Pattern: "custom-object:*", TopicARN: customObjectTopicARN},
		{Pattern: "ticket:*", TopicARN: ticketTopicARN},
		{Pattern: "account:*", TopicARN: ticketTopicARN},
		{Pattern: "account-*", TopicARN: ticketTopicARN}, // account-health:changed, account-task:comment:created, ...
		{Pattern: "customer-contact:*", TopicARN: ticketTopicARN},
		{Pattern: "organization:*", TopicARN: ticketTopicARN},
		{Pattern: "user:*", TopicARN: ticketTopicARN},
	}
}

// withDefaults returns c with the defaults of LargeFields and Placeholder
// filled in. LargeFields is a slice, which cmp.Or cannot take, and an empty
// non-nil one means "truncate nothing", not "default".
func (c Config) withDefaults() Config {
	if c.LargeFields == nil {
		c.LargeFields = DefaultLargeFields()
	}
	c.Placeholder = cmp.Or(c.Placeholder, DefaultPlaceholder)
	return c
}

// TopicARNs returns every distinct topic ARN the configuration can publish
// to, in order of first appearance: the set whose TopicInfo the sns package
// reads at start-up.
func (c Config) TopicARNs() []string {
	var arns []string
	seen := make(map[string]bool)
	add := func(arn string) {
		if arn != "" && !seen[arn] {
			seen[arn] = true
			arns = append(arns, arn)
		}
	}
	for _, r := range c.Routes {
		add(r.TopicARN)
	}
	add(c.DefaultTopicARN)
	return arns
}

// Validate reports every problem in c, each naming the field, e.g.
// `mapping: Routes[1].TopicARN: "${TICKET_ARN}": contains an unexpanded "${" ...`.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("mapping: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(c.Routes) == 0 && c.DefaultTopicARN == "" {
		bad("Routes", "no routes and no DefaultTopicARN: every event would be unroutable")
	}
	seen := make(map[string]int, len(c.Routes))
	for i, r := range c.Routes {
		field := fmt.Sprintf("Routes[%d]", i)
		switch {
		case r.Pattern == "":
			bad(field+".Pattern", "empty")
		case seen[r.Pattern] > 0:
			bad(field+".Pattern", "%q repeats Routes[%d] and can never match", r.Pattern, seen[r.Pattern]-1)
		default:
			seen[r.Pattern] = i + 1
		}
		if err := checkTopicARN(r.TopicARN); err != nil {
			bad(field+".TopicARN", "%q: %v", r.TopicARN, err)
		}
		switch r.Ordering {
		case "", OrderingStrict, OrderingRelaxed:
		default:
			bad(field+".Ordering", "%q: want %s or %s", r.Ordering, OrderingStrict, OrderingRelaxed)
		}
		switch r.LargeEvents {
		case "", LargeTruncate, LargeOffload, LargeTruncateThenOffload:
		default:
			bad(field+".LargeEvents", "%q: want %s, %s or %s", r.LargeEvents, LargeTruncate, LargeOffload, LargeTruncateThenOffload)
		}
		if r.Offloads() {
			for _, p := range r.Offload.problems() {
				bad(field+".Offload."+p[0], "%s", p[1])
			}
		} else if r.Offload != (Offload{}) {
			bad(field+".Offload", "set, but LargeEvents is %s, which never offloads: set LargeEvents to %s or %s, or remove Offload",
				cmp.Or(r.LargeEvents, LargeTruncate), LargeOffload, LargeTruncateThenOffload)
		}
	}
	if c.DefaultTopicARN != "" {
		if err := checkTopicARN(c.DefaultTopicARN); err != nil {
			bad("DefaultTopicARN", "%q: %v", c.DefaultTopicARN, err)
		}
	}
	for i, name := range c.LargeFields {
		if name == "" {
			bad(fmt.Sprintf("LargeFields[%d]", i), "empty")
		}
	}
	if c.Placeholder != "" {
		if s := sanitize(c.Placeholder); s != c.Placeholder {
			bad("Placeholder", "%q: not valid UTF-8 or has characters SNS refuses", c.Placeholder)
		}
	}
	return errors.Join(errs...)
}

// checkTopicARN accepts arn:<partition>:sns:<region>:<12-digit account>:<name>,
// where name is 1-256 letters, digits, '-' and '_', with a ".fifo" suffix
// counted in the 256 for FIFO topics (the SNS CreateTopic rules).
func checkTopicARN(arn string) error {
	if arn == "" {
		return errors.New("empty")
	}
	if strings.Contains(arn, "${") {
		return errors.New(`contains an unexpanded "${": set the environment variable it names`)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" {
		return errors.New("not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
	}
	if !strings.HasPrefix(parts[1], "aws") {
		return fmt.Errorf("partition %q is not an AWS partition", parts[1])
	}
	if !isRegion(parts[3]) {
		return fmt.Errorf("region %q is not a region such as us-east-1", parts[3])
	}
	if len(parts[4]) != 12 || !allDigits(parts[4]) {
		return fmt.Errorf("account %q is not a 12-digit account id", parts[4])
	}
	name := parts[5]
	if len(name) > 256 {
		return fmt.Errorf("topic name is %d characters, SNS allows 256", len(name))
	}
	base := strings.TrimSuffix(name, ".fifo")
	if base == "" {
		return errors.New("empty topic name")
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("topic name %q has %q; SNS allows letters, digits, '-', '_' and a .fifo suffix", name, c)
		}
	}
	return nil
}

// isRegion accepts lower-case words joined by '-' and ending in a number:
// us-east-1, eu-central-2, us-gov-west-1.
func isRegion(s string) bool {
	words := strings.Split(s, "-")
	if len(words) < 3 || !allDigits(words[len(words)-1]) {
		return false
	}
	for _, w := range words[:len(words)-1] {
		if !allBetween(w, 'a', 'z') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool { return allBetween(s, '0', '9') }

// allBetween reports whether s is not empty and every byte of it is in
// [lo, hi].
func allBetween(s string, lo, hi byte) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return true
}

// problems returns each problem of o as a field name and what is wrong.
func (o Offload) problems() [][2]string {
	var out [][2]string
	if err := checkBucket(o.Bucket); err != nil {
		out = append(out, [2]string{"Bucket", fmt.Sprintf("%q: %v", o.Bucket, err)})
	}
	switch {
	case len(o.KeyPrefix) > maxKeyPrefix:
		out = append(out, [2]string{"KeyPrefix", fmt.Sprintf("%d bytes; at most %d leave room for the event id in S3's 1024", len(o.KeyPrefix), maxKeyPrefix)})
	case strings.HasPrefix(o.KeyPrefix, "/"):
		out = append(out, [2]string{"KeyPrefix", fmt.Sprintf("%q starts with '/', which S3 keeps as part of the key; leave it out", o.KeyPrefix)})
	case sanitize(o.KeyPrefix) != o.KeyPrefix:
		out = append(out, [2]string{"KeyPrefix", fmt.Sprintf("%q: not valid UTF-8 or has control characters", o.KeyPrefix)})
	}
	switch o.SSE {
	case "", SSEAES256, SSEKMS:
	default:
		out = append(out, [2]string{"SSE", fmt.Sprintf("%q: want empty (the bucket's default), %s or %s", o.SSE, SSEAES256, SSEKMS)})
	}
	if o.KMSKeyID != "" && o.SSE != SSEKMS {
		out = append(out, [2]string{"KMSKeyID", fmt.Sprintf("set, but SSE is %q: a KMS key needs SSE %s", o.SSE, SSEKMS)})
	}
	return out
}

// maxKeyPrefix leaves room in S3's 1024-byte keys for what OffloadKey
// appends (at most 128 characters of id, or a 64-digit hash, and ".json").
const maxKeyPrefix = 512

// checkBucket applies S3's general purpose bucket naming rules: 3 to 63
// lower-case letters, digits, '.' and '-', starting and ending with a
// letter or digit.
func checkBucket(b string) error {
	switch {
	case b == "":
		return errors.New("empty: the offload policies need a bucket")
	case strings.Contains(b, "${"):
		return errors.New(`contains an unexpanded "${": set the environment variable it names`)
	case len(b) < 3 || len(b) > 63:
		return fmt.Errorf("%d characters; S3 bucket names have 3 to 63", len(b))
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("has %q; S3 bucket names have lower-case letters, digits, '.' and '-'", c)
		}
	}
	if first, last := b[0], b[len(b)-1]; first == '.' || first == '-' || last == '.' || last == '-' {
		return errors.New("must start and end with a letter or digit")
	}
	return nil
}
