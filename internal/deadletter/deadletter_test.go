package deadletter

import (
	"regexp"
	"testing"
)

func TestPatternExcludesOnlyDeadLetterTopics(t *testing.T) {
	for _, tc := range []struct {
		template, topic string
		match           bool
	}{
		{"{topic}.dlq", "thena.events.dlq", true},
		{"{topic}.dlq", "thena.events", false},
		{"{topic}.dlq", "thena.events.dlqx", false},
		{"dlq.{topic}", "dlq.thena.events", true},
		{"bridge-dead-letters", "bridge-dead-letters", true},
		{"bridge-dead-letters", "thena.events", false},
	} {
		re := regexp.MustCompile(Pattern(tc.template))
		if got := re.MatchString(tc.topic); got != tc.match {
			t.Errorf("template %q, topic %q: match %v, want %v", tc.template, tc.topic, got, tc.match)
		}
	}
}
