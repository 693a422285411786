package dlq

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress draws a replay's progress on a writer (stderr): on a terminal, a
// bar redrawn in place a few times a second; otherwise a plain line every
// few seconds, which reads well in logs. Replay drives it from its own loop;
// it is not safe for concurrent use.
type Progress struct {
	W io.Writer
	// Terminal redraws one line in place; otherwise each update is a new line.
	Terminal bool
	// Every is how often Replay updates it: default 250ms on a terminal, 5s otherwise.
	Every time.Duration

	start time.Time
	drawn bool
}

// ProgressState is what a progress line shows.
type ProgressState struct {
	// Total is how many records the replay covers; Scanned how many it has
	// looked at (selected or not).
	Total, Scanned            int64
	Replayed, Skipped, Failed int64
	DryRun                    bool
}

func (p *Progress) interval() time.Duration {
	switch {
	case p.Every > 0:
		return p.Every
	case p.Terminal:
		return 250 * time.Millisecond
	default:
		return 5 * time.Second
	}
}

// Render returns the progress text for s at now, without line control.
func (p *Progress) Render(now time.Time, s ProgressState) string {
	if p.start.IsZero() {
		p.start = now
	}
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.Scanned) / elapsed
	}
	left := max(s.Total-s.Scanned, 0)
	pct := 100.0
	if s.Total > 0 {
		pct = 100 * float64(min(s.Scanned, s.Total)) / float64(s.Total)
	}
	eta := "-"
	if rate > 0 && left > 0 {
		eta = (time.Duration(float64(left)/rate*float64(time.Second)) + time.Second/2).Truncate(time.Second).String()
	}
	verb := "replayed"
	if s.DryRun {
		verb = "would replay"
	}
	counts := fmt.Sprintf("%s %d, skipped %d, failed %d", verb, s.Replayed, s.Skipped, s.Failed)
	if !p.Terminal {
		return fmt.Sprintf("replay: %d/%d records (%.0f%%), %.0f/s, %d left, ETA %s; %s", s.Scanned, s.Total, pct, rate, left, eta, counts)
	}
	const width = 24
	fill := int(pct / 100 * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	return fmt.Sprintf("[%s] %d/%d %3.0f%%  %.0f/s  %d left  ETA %s  %s", bar, s.Scanned, s.Total, pct, rate, left, eta, counts)
}

// Update draws s.
func (p *Progress) Update(now time.Time, s ProgressState) {
	line := p.Render(now, s)
	if p.Terminal {
		fmt.Fprintf(p.W, "\r\x1b[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.W, line)
}

// Clear removes the bar so that other output starts on a clean line; the
// next Update draws it again.
func (p *Progress) Clear() {
	if p.Terminal && p.drawn {
		fmt.Fprint(p.W, "\r\x1b[K")
		p.drawn = false
	}
}

// Finish draws s one last time and ends the line.
func (p *Progress) Finish(now time.Time, s ProgressState) {
	p.Update(now, s)
	if p.Terminal {
		fmt.Fprintln(p.W)
		p.drawn = false
	}
}
