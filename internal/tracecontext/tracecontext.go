// Package tracecontext holds the W3C Trace Context facts the bridge's
// packages share: the names of the two fields (Kafka record headers going
// in, SNS message attributes going out) and what counts as a value worth
// forwarding. It is a leaf: no OpenTelemetry, no I/O, nothing allocated.
//
//	Kafka headers traceparent/tracestate -> translate (reads) -> mapping (SNS attributes) -> sns (span parent)
//
// The bridge checks the form of a traceparent (https://www.w3.org/TR/trace-context/#traceparent-header)
// so that it never forwards bytes a subscriber's propagator would choke on,
// and bounds a tracestate by the specification's 512 characters; it does
// not interpret tracestate list members (subscribers' propagators do).
package tracecontext

// TraceParent and TraceState name the fields as Kafka record headers and
// as SNS message attributes: the names of the W3C headers, which the
// OpenTelemetry propagators use for every carrier (Kafka headers by the
// franz-go, Sarama and Java instrumentations, SNS and SQS message
// attributes by the AWS SDK instrumentations).
const (
	TraceParent = "traceparent"
	TraceState  = "tracestate"
)

// MaxTraceStateLen is the longest tracestate forwarded, the specification's
// limit: 512 characters.
const MaxTraceStateLen = 512

// traceParentLen is the length of a version 00 traceparent:
// "00-" 32 hex "-" 16 hex "-" 2 hex.
const traceParentLen = 55

// ValidTraceParent reports whether v is a traceparent the bridge forwards:
// version 00 exactly as the specification writes it (lower-case hex, a
// trace id and parent id that are not all zeros), or a later version
// (not ff) that begins with the same fields and, when longer, continues
// with '-' and printable ASCII (at most 256 bytes in all), as the
// specification asks a version 00 reader to accept.
func ValidTraceParent(v []byte) bool {
	if len(v) < traceParentLen || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return false
	}
	if !lowerHex(v[0:2]) || !lowerHex(v[3:35]) || !lowerHex(v[36:52]) || !lowerHex(v[53:55]) {
		return false
	}
	if v[0] == 'f' && v[1] == 'f' || allZero(v[3:35]) || allZero(v[36:52]) {
		return false
	}
	if v[0] == '0' && v[1] == '0' {
		return len(v) == traceParentLen
	}
	if len(v) == traceParentLen {
		return true
	}
	if v[traceParentLen] != '-' || len(v) > maxTraceParentLen {
		return false
	}
	for _, c := range v[traceParentLen:] {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// maxTraceParentLen bounds a later version's traceparent: the specification
// sets no limit, an SNS attribute should not carry an unbounded header.
const maxTraceParentLen = 256

// ValidTraceState reports whether v is a tracestate the bridge forwards
// beside a valid traceparent: 1 to MaxTraceStateLen printable ASCII
// characters (what the specification allows in list members and their
// separators), not only spaces and commas.
func ValidTraceState(v []byte) bool {
	if len(v) == 0 || len(v) > MaxTraceStateLen {
		return false
	}
	content := false
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return false
		}
		if c != ' ' && c != ',' && c != '\t' {
			content = true
		}
	}
	return content
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != '0' {
			return false
		}
	}
	return true
}
