// Package failure is the bridge's one classifier of errors. Every stage of the
// pipeline (consumer, avro, mapping, sns) wraps what went wrong in an *Error
// that carries its Class, and the delivery engine decides what to do from the
// class alone: retry a transient error, dead-letter a permanent one, and stop
// the flow to a topic on a systemic one.
package failure

import (
	"errors"
	"fmt"
)

// Class is what the delivery engine does about an error.
type Class int

const (
	// Unknown is the class of an error no stage classified. The engine treats
	// it as Transient, so an unclassified error can never cause a dead letter.
	Unknown Class = iota
	// Transient errors (network, timeouts, 5xx, throttling, breaker open) are
	// retried with backoff for as long as the partition stays owned.
	Transient
	// Permanent errors belong to one event (undecodable bytes, unknown schema,
	// no route, too large, rejected by SNS validation). The event is
	// dead-lettered at once and the partition moves on.
	Permanent
	// Systemic errors belong to a destination (topic missing, not
	// authorized). They are never dead-lettered: the topic's breaker opens and
	// its partitions pause until the cause is fixed.
	Systemic
)

// String returns the class as it appears in metrics and dead-letter headers.
func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Systemic:
		return "systemic"
	default:
		return "unknown"
	}
}

// Reasons name why an event failed. They appear in the bridge.error.reason
// dead-letter header and in metric labels, so they are stable strings.
const (
	ReasonUndecodable   = "undecodable"    // bytes are not valid Avro for the writer schema
	ReasonBadMagic      = "bad_magic"      // not Confluent wire format (magic byte or length)
	ReasonUnknownSchema = "unknown_schema" // schema id not in the registry (404) or local directory
	ReasonSchemaInvalid = "schema_invalid" // the writer schema itself cannot be parsed or compiled
	ReasonMissingField  = "missing_field"  // a required envelope field is absent or empty
	ReasonUnroutable    = "unroutable"     // no route matches the event type and there is no default
	ReasonTooLarge      = "too_large"      // over the topic's size limit even after truncation
	ReasonSNSRejected   = "sns_rejected"   // SNS refused the entry for a per-event reason
	ReasonRegistry      = "registry"       // the schema registry could not be reached or answered 5xx
	ReasonSNSUnavail    = "sns_unavailable"
	ReasonThrottled     = "throttled"
	ReasonBreakerOpen   = "breaker_open"
	ReasonTopicMissing  = "topic_missing"
	ReasonForbidden     = "forbidden"
	ReasonKafka         = "kafka"
)

// DeadLetterReasons returns the reasons an event is dead-lettered for: the
// Permanent ones, which the bridge.error.reason header and the reason label
// of bridge_dead_letters_total take. It returns a new slice each call.
func DeadLetterReasons() []string {
	return []string{ReasonUndecodable, ReasonBadMagic, ReasonUnknownSchema, ReasonSchemaInvalid,
		ReasonMissingField, ReasonUnroutable, ReasonTooLarge, ReasonSNSRejected}
}

// Error is a classified error. Code is the remote error code when there is one
// (an SNS error code such as "InvalidParameter"), empty otherwise.
type Error struct {
	Class  Class
	Reason string
	Code   string
	Err    error
}

// Error returns a message that names the reason and the cause.
func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s (%s, %s): %v", e.Reason, e.Class, e.Code, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", e.Reason, e.Class, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns a classified error wrapping err.
func New(class Class, reason string, err error) *Error {
	return &Error{Class: class, Reason: reason, Err: err}
}

// Permanentf returns a Permanent error with a formatted cause.
func Permanentf(reason, format string, args ...any) *Error {
	return &Error{Class: Permanent, Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Transientf returns a Transient error with a formatted cause.
func Transientf(reason, format string, args ...any) *Error {
	return &Error{Class: Transient, Reason: reason, Err: fmt.Errorf(format, args...)}
}

// ClassOf returns the class of the first *Error in err's chain, or Unknown.
func ClassOf(err error) Class {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Class
	}
	return Unknown
}

// ReasonOf returns the reason of the first *Error in err's chain, or "".
func ReasonOf(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return ""
}

// CodeOf returns the remote error code of the first *Error in err's chain, or "".
func CodeOf(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return ""
}

// IsPermanent reports whether err should be dead-lettered.
func IsPermanent(err error) bool { return ClassOf(err) == Permanent }
