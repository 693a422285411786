package dlq

import (
	"cmp"
	"fmt"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"io"
	"slices"
	"time"
)

// Summary counts dead letters by reason and by event type. The zero value is
// ready to use; it is not safe for concurrent use.
type Summary struct {
	Total       int            `json:"total"`
	ByReason    map[string]int `json:"byReason"`
	ByEventType map[string]int `json:"byEventType"`
	// Oldest and Newest bound the bridge.failed_at times seen (zero when none).
	Oldest time.Time `json:"oldest,omitzero"`
	Newest time.Time `json:"newest,omitzero"`
}

// Add counts d.
func (s *Summary) Add(d deadletter.DeadLetter) {
	if s.ByReason == nil {
		s.ByReason, s.ByEventType = map[string]int{}, map[string]int{}
	}
	s.Total++
	s.ByReason[orDash(d.Reason)]++
	s.ByEventType[orDash(d.EventType)]++
	if t := d.FailedAt; !t.IsZero() {
		if s.Oldest.IsZero() || t.Before(s.Oldest) {
			s.Oldest = t
		}
		if t.After(s.Newest) {
			s.Newest = t
		}
	}
}

// Count is one line of a summary table.
type Count struct {
	Name  string
	Count int
}

// Sorted returns the counts of m, largest first, then by name.
func Sorted(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// WriteText prints the summary as two tables for people.
func (s *Summary) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%d dead letters", s.Total)
	if err != nil {
		return err
	}
	if !s.Oldest.IsZero() {
		fmt.Fprintf(w, ", failed between %s and %s", s.Oldest.Format(time.RFC3339), s.Newest.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	for _, t := range []struct {
		title string
		m     map[string]int
	}{{"by reason", s.ByReason}, {"by event type", s.ByEventType}} {
		fmt.Fprintf(w, "\n%s:\n", t.title)
		for _, c := range Sorted(t.m) {
			fmt.Fprintf(w, "  %8d  %s\n", c.Count, c.Name)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
