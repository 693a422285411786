package mapping

import "strings"

// matchGlob reports whether s matches pattern, where each '*' in pattern
// matches any run of bytes (':' included) and every other byte matches
// itself. It runs in O(len(s)*stars) without allocating: on a mismatch it
// backtracks only to the last '*', the classic wildcard algorithm.
func matchGlob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// compiledRoute is a Route with what Map needs about its topic resolved at
// construction, so that routing costs a few string comparisons.
type compiledRoute struct {
	Route
	prefix string // set when Pattern is "prefix*" with no other '*'
	kind   patternKind
	topic  topic
}

type patternKind uint8

const (
	exact patternKind = iota
	prefix
	glob
)

func compileRoute(r Route, t topic) compiledRoute {
	c := compiledRoute{Route: r, topic: t, kind: glob}
	switch n := strings.Count(r.Pattern, "*"); {
	case n == 0:
		c.kind = exact
	case n == 1 && strings.HasSuffix(r.Pattern, "*"):
		c.kind = prefix
		c.prefix = r.Pattern[:len(r.Pattern)-1]
	}
	return c
}

func (c *compiledRoute) matches(eventType string) bool {
	switch c.kind {
	case exact:
		return eventType == c.Pattern
	case prefix:
		return strings.HasPrefix(eventType, c.prefix)
	default:
		return matchGlob(c.Pattern, eventType)
	}
}
