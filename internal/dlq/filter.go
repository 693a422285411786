package dlq

import (
	"fmt"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"path"
	"slices"
	"strings"
	"time"
)

// Filter selects dead letters. The zero Filter selects every record; each
// set field narrows the selection (all of them must match).
type Filter struct {
	// Reasons are bridge.error.reason values; any of them matches.
	Reasons []string
	// EventType is a glob on bridge.event.type (path.Match syntax: '*' is
	// any run of characters, ':' included, '?' one character, [a-z] a class).
	EventType string
	// OrgID is an exact bridge.event.org_id.
	OrgID string
	// SourcePartition, when HasSourcePartition, is an exact
	// bridge.source.partition.
	SourcePartition    int32
	HasSourcePartition bool
	// Since and Until bound bridge.failed_at: Since <= failed_at < Until.
	// A record without a readable bridge.failed_at matches no time bound.
	Since, Until time.Time
}

// Validate reports a malformed event type glob or an empty time window.
func (f Filter) Validate() error {
	if f.EventType != "" {
		if _, err := path.Match(f.EventType, ""); err != nil {
			return fmt.Errorf("-event-type %q is not a valid glob: %w", f.EventType, err)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("-since %s is not before -until %s", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	return nil
}

// Match reports whether d is selected.
func (f Filter) Match(d deadletter.DeadLetter) bool {
	if len(f.Reasons) > 0 && !slices.Contains(f.Reasons, d.Reason) {
		return false
	}
	if f.EventType != "" {
		if ok, _ := path.Match(f.EventType, d.EventType); !ok {
			return false
		}
	}
	if f.OrgID != "" && d.OrgID != f.OrgID {
		return false
	}
	if f.HasSourcePartition && d.SourcePartition != f.SourcePartition {
		return false
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		if d.FailedAt.IsZero() {
			return false
		}
		if !f.Since.IsZero() && d.FailedAt.Before(f.Since) {
			return false
		}
		if !f.Until.IsZero() && !d.FailedAt.Before(f.Until) {
			return false
		}
	}
	return true
}

// ParseReasons splits a comma-separated list of reasons, dropping blanks.
func ParseReasons(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// ParseTime reads a time bound: an RFC 3339 time ("2026-11-27T03:00:00Z"),
// or a duration ("2h", "90m") meaning that long before now.
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-27T03:00:00Z) nor a positive duration (2h, 90m)", s)
	}
	return now.Add(-d).UTC(), nil
}
