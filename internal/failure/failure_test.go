package failure

import (
	"errors"
	"fmt"
	"testing"
)

func TestClassSurvivesWrapping(t *testing.T) {
	base := &Error{Class: Permanent, Reason: ReasonUnroutable, Code: "X", Err: errors.New("no route for billing:x")}
	wrapped := fmt.Errorf("translating record 7: %w", base)
	joined := errors.Join(errors.New("other"), wrapped)
	for name, err := range map[string]error{"direct": base, "wrapped": wrapped, "joined": joined} {
		t.Run(name, func(t *testing.T) {
			if ClassOf(err) != Permanent || ReasonOf(err) != ReasonUnroutable || CodeOf(err) != "X" || !IsPermanent(err) {
				t.Errorf("class %v reason %q code %q", ClassOf(err), ReasonOf(err), CodeOf(err))
			}
		})
	}
}

// An error nobody classified must never be dead-lettered.
func TestUnclassifiedIsNotPermanent(t *testing.T) {
	err := errors.New("connection reset")
	if ClassOf(err) != Unknown || IsPermanent(err) || ReasonOf(err) != "" {
		t.Errorf("unclassified error: class %v", ClassOf(err))
	}
	if IsPermanent(nil) {
		t.Error("nil is permanent")
	}
}

func TestMessagesNameReasonAndCause(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{Permanentf(ReasonTooLarge, "%d bytes over", 12), "too_large (permanent): 12 bytes over"},
		{Transientf(ReasonRegistry, "HTTP %d", 503), "registry (transient): HTTP 503"},
		{&Error{Class: Systemic, Reason: ReasonTopicMissing, Code: "NotFound", Err: errors.New("topic x")}, "topic_missing (systemic, NotFound): topic x"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
