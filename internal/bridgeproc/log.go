package bridgeproc

import (
	"bytes"
	"strings"
	"sync"
)

// LogBuffer collects what a bridge writes (its JSON log on stderr) from the
// goroutine that copies it, for reading while the bridge runs. It is safe
// for concurrent use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// LastLines returns the last n lines of text, for attaching the end of a
// bridge's log to a failure.
func LastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
