package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLogger is the bridge's logger writing to a buffer, on a clock the
// test moves.
type testLogger struct {
	*slog.Logger
	buf bytes.Buffer
	mu  sync.Mutex
	now time.Time
}

func newTestLogger() *testLogger {
	l := &testLogger{now: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)}
	h := slog.NewJSONHandler(&l.buf, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: logAttr})
	l.Logger = slog.New(newLogHandler(h, l.clock, repeatWindow))
	return l
}

func (l *testLogger) clock() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *testLogger) advance(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = l.now.Add(d)
}

// lines returns the log lines written so far, decoded.
func (l *testLogger) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// Every line has a component; durations read as Go durations; empty
// fields are left out.
func TestLogLineShape(t *testing.T) {
	l := newTestLogger()
	l.Info("partition paused", "backoff", 1500*time.Millisecond, "sns_code", "", "err", nil, "partitions", []int32{}, "offset", 42)
	l.With("component", "consumer").Warn("fetch error", "topic", "thena.events", "partition", 3, "err", errors.New("broker gone"))
	lines := l.lines(t)
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	first, second := lines[0], lines[1]
	if first["component"] != "bridge" || second["component"] != "consumer" {
		t.Errorf("components %v and %v, want bridge (the default) and consumer", first["component"], second["component"])
	}
	if first["backoff"] != "1.5s" {
		t.Errorf("backoff = %v, want the duration string 1.5s", first["backoff"])
	}
	for _, k := range []string{"sns_code", "err", "partitions"} {
		if _, ok := first[k]; ok {
			t.Errorf("empty field %s written: %v", k, first)
		}
	}
	if first["offset"] != float64(42) || second["err"] != "broker gone" || second["partition"] != float64(3) {
		t.Errorf("fields lost: %v %v", first, second)
	}
}

// An identical warning or error within the window is counted, not
// written; the next one after it carries the count. Lines that differ in
// any field, or in their logger's fields, are not the same line.
func TestRepeatedErrorsAreCounted(t *testing.T) {
	l := newTestLogger()
	p3 := l.With("component", "consumer", "topic", "thena.events", "partition", 3)
	p4 := l.With("component", "consumer", "topic", "thena.events", "partition", 4)
	fail := errors.New("NOT_LEADER_FOR_PARTITION")
	for range 50 {
		p3.Warn("fetch error", "err", fail)
		p4.Warn("fetch error", "err", fail)
		l.Info("partitions assigned") // not a warning: never held back
		l.advance(100 * time.Millisecond)
	}
	p3.Warn("fetch error", "err", errors.New("another cause")) // differs: written
	l.advance(repeatWindow)
	p3.Warn("fetch error", "err", fail)

	var fetch3, fetch4, infos int
	var repeated []any
	for _, m := range l.lines(t) {
		switch {
		case m["msg"] == "partitions assigned":
			infos++
		case m["partition"] == float64(3):
			fetch3++
			repeated = append(repeated, m["repeated"])
		case m["partition"] == float64(4):
			fetch4++
		}
	}
	if infos != 50 {
		t.Errorf("%d info lines, want all 50", infos)
	}
	if fetch4 != 1 {
		t.Errorf("partition 4: %d fetch error lines within the window, want 1", fetch4)
	}
	// 50 in 5s: the first written, 49 counted; "another cause" written;
	// the one after the window carries the 49.
	if fetch3 != 3 || repeated[0] != nil || repeated[1] != nil || repeated[2] != float64(49) {
		t.Errorf("partition 3: %d lines, repeated %v; want 3 lines, the last with repeated 49", fetch3, repeated)
	}
}

// The handler is safe for concurrent use (run with -race).
func TestLogHandlerConcurrentUse(t *testing.T) {
	l := newTestLogger()
	var mu sync.Mutex
	h := slog.NewJSONHandler(lockedWriter{&mu, &l.buf}, &slog.HandlerOptions{ReplaceAttr: logAttr})
	log := slog.New(newLogHandler(h, l.clock, repeatWindow))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			sub := log.With("worker", i)
			for range 100 {
				sub.Error("publish failed", "err", "timeout")
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(l.buf.String(), "publish failed"); n != 8 {
		t.Errorf("%d lines written, want each worker's first (8): the other 99 of each are repeats within the window", n)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
