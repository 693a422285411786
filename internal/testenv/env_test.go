package testenv

import (
	"regexp"
	"strings"
	"testing"
)

// Names end up as Kafka topics, SNS topics and SQS queues, whose rules differ: SQS allows at most
// 80 characters, SNS and SQS only letters, digits, '-' and '_'.
func TestNameIsValidEverywhereAndUnique(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	tests := []struct {
		name   string
		prefix string
		maxLen int
	}{
		{"plain", "", 80},
		{"sub/test with spaces, dots.and:colons", "q", 75},
		{strings.Repeat("very-long-test-name-", 20), "group", 80},
		{"tiny-limit", "prefix", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := Name(t, tt.prefix, tt.maxLen), Name(t, tt.prefix, tt.maxLen)
			for _, n := range []string{a, b} {
				if len(n) > tt.maxLen {
					t.Errorf("Name = %q: %d bytes, limit %d", n, len(n), tt.maxLen)
				}
				if !valid.MatchString(n) {
					t.Errorf("Name = %q: not only letters, digits, '-' and '_'", n)
				}
				if tt.prefix != "" && tt.maxLen > 20 && !strings.HasPrefix(n, tt.prefix+"-") {
					t.Errorf("Name = %q: does not start with prefix %q", n, tt.prefix)
				}
			}
			if a == b {
				t.Errorf("two calls gave the same name %q", a)
			}
		})
	}
}
