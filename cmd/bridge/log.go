package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"
)

// repeatWindow is how long an identical warning or error is counted rather
// than written again.
const repeatWindow = 10 * time.Second

// maxRepeatKeys bounds the memory of lines seen within the window; past it
// the memory starts afresh (a burst of distinct errors is written anyway).
const maxRepeatKeys = 4096

// newLogger returns the bridge's logger: JSON lines on w at level, each
// with a component ("bridge" unless the logger was given one), durations as
// Go duration strings ("1.5s", not nanoseconds), empty fields left out, and
// identical warnings and errors rate-limited (see logHandler).
func newLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: logAttr})
	return slog.New(newLogHandler(h, time.Now, repeatWindow))
}

// logAttr is the JSON handler's ReplaceAttr: durations as strings, and
// empty values (an empty string, a nil, an empty list) dropped.
func logAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 {
		switch a.Key {
		case slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey:
			return a
		}
	}
	switch v := a.Value; v.Kind() {
	case slog.KindDuration:
		return slog.String(a.Key, v.Duration().String())
	case slog.KindString:
		if v.String() == "" {
			return slog.Attr{}
		}
	case slog.KindAny:
		x := v.Any()
		if x == nil {
			return slog.Attr{}
		}
		if rv := reflect.ValueOf(x); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0 {
			return slog.Attr{}
		}
	}
	return a
}

// logHandler wraps the JSON handler. It adds component=bridge to a line
// whose logger has no component, and it keeps a failure that repeats from
// flooding the log: a warning or error identical to one written less than
// the window ago (same level, message and fields, the logger's own
// included) is counted, not written; the next identical one after the
// window is written with repeated=N, the number left out since the last
// one written. Safe for concurrent use.
type logHandler struct {
	next      slog.Handler
	component bool   // the logger's attributes include a component
	scope     string // the logger's attributes and groups, part of a line's identity
	repeats   *repeats
}

func newLogHandler(next slog.Handler, now func() time.Time, window time.Duration) *logHandler {
	return &logHandler{next: next, repeats: &repeats{now: now, window: window, last: map[string]*repeat{}}}
}

// Enabled implements slog.Handler.
func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	hasComponent := h.component
	r.Attrs(func(a slog.Attr) bool {
		hasComponent = hasComponent || a.Key == "component"
		return !hasComponent
	})
	var extra []slog.Attr
	if r.Level >= slog.LevelWarn {
		n, write := h.repeats.admit(h.identity(r))
		if !write {
			return nil
		}
		if n > 0 {
			extra = append(extra, slog.Int("repeated", n))
		}
	}
	if !hasComponent {
		extra = append(extra, slog.String("component", "bridge"))
	}
	if len(extra) > 0 {
		r = r.Clone()
		r.AddAttrs(extra...)
	}
	return h.next.Handle(ctx, r)
}

// identity is what makes two lines the same: everything but the time.
func (h *logHandler) identity(r slog.Record) string {
	var b strings.Builder
	b.WriteString(h.scope)
	b.WriteString(r.Level.String())
	b.WriteByte(0)
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteByte(0)
		b.WriteString(a.String())
		return true
	})
	return b.String()
}

// WithAttrs implements slog.Handler.
func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	var b strings.Builder
	b.WriteString(h.scope)
	for _, a := range attrs {
		c.component = c.component || a.Key == "component"
		b.WriteString(a.String())
		b.WriteByte(0)
	}
	c.scope = b.String()
	return &c
}

// WithGroup implements slog.Handler.
func (h *logHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.scope = h.scope + "group:" + name + "\x00"
	return &c
}

// repeats remembers when each line was last written and how many copies
// were left out since.
type repeats struct {
	mu     sync.Mutex
	now    func() time.Time
	window time.Duration
	last   map[string]*repeat
}

type repeat struct {
	at      time.Time
	skipped int
}

// admit says whether the line with identity key is written now and, if
// so, how many copies of it were left out before.
func (rs *repeats) admit(key string) (skipped int, write bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	now := rs.now()
	if r, ok := rs.last[key]; ok && now.Sub(r.at) < rs.window {
		r.skipped++
		return 0, false
	} else if ok {
		skipped = r.skipped
	}
	if len(rs.last) >= maxRepeatKeys {
		clear(rs.last)
	}
	rs.last[key] = &repeat{at: now}
	return skipped, true
}

// isTerminal reports whether w is a terminal, where a person reads.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
