package translate

import (
	"sync"

	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// suspectTimestamp counts a custom object event whose timestamp looks like
// seconds and warns once per event type: the producer has one bug, not one
// per event, and the log must not grow with the traffic.
func (t *Translator) suspectTimestamp(msg mapping.Message) {
	if t.suspect != nil {
		t.suspect.WithLabelValues(msg.EventType).Inc()
	}
	if t.log == nil || !t.warned.first(msg.EventType) {
		return
	}
	t.log.Warn("custom object timestamp looks like Unix seconds, not milliseconds; published as given (further events of this type are only counted in bridge_suspect_timestamps_total)",
		"event_type", msg.EventType, "event_id", msg.EventID, "timestamp_ms", msg.EventTime.UnixMilli())
}

// maxWarnedTypes bounds warnedTypes: event types come from outside, and a
// stream of ever new ones must not grow memory without end. Past it, new
// types are counted but not logged.
const maxWarnedTypes = 1000

// warnedTypes is the set of event types already warned about.
type warnedTypes struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// first reports whether eventType is new to the set, adding it, and false
// once the set is full.
func (w *warnedTypes) first(eventType string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.seen[eventType]; ok || len(w.seen) >= maxWarnedTypes {
		return false
	}
	if w.seen == nil {
		w.seen = make(map[string]struct{})
	}
	w.seen[eventType] = struct{}{}
	return true
}
