package translate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// recordingStore is a PayloadStore that keeps what it is given, or fails.
type recordingStore struct {
	mu   sync.Mutex
	puts []*mapping.OffloadedEvent
	err  error
}

func (s *recordingStore) Put(_ context.Context, ev *mapping.OffloadedEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.puts = append(s.puts, ev)
	return nil
}

// offloadTranslator routes everything to a standard topic of maxSize bytes
// that offloads what is over it.
func offloadTranslator(t *testing.T, maxSize int, opts ...Option) *Translator {
	t.Helper()
	routing := mapping.Config{Routes: []mapping.Route{{Pattern: "*", TopicARN: ticketARN, LargeEvents: mapping.LargeOffload,
		Offload: mapping.Offload{Bucket: "thena-large", KeyPrefix: "ev/"}}}}
	return newSizedTranslator(t, routing, maxSize, nil, opts...)
}

// Translate stores an offloaded event before it returns the pointer, and
// a store that fails holds the event back (transient or systemic, never a
// dead letter) with what the dead-letter headers need.
func TestTranslateStoresOffloadedEvents(t *testing.T) {
	r, err := generator(t, 9).Record("ticket:updated")
	if err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Topic: "thena.events", Key: r.Key, Value: r.Value}
	store := &recordingStore{}
	out, err := offloadTranslator(t, 600, WithPayloadStore(store)).Translate(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(store.puts) != 1 {
		t.Fatalf("%d objects stored", len(store.puts))
	}
	put := store.puts[0]
	if put.Bucket != "thena-large" || put.Key != "ev/"+out.EventID+".json" || !strings.HasPrefix(put.Body, `{"eventId":`) {
		t.Errorf("stored s3://%s/%s (%.40s...)", put.Bucket, put.Key, put.Body)
	}
	if out.Entry.Body != mapping.PointerBody(put.Bucket, put.Key) {
		t.Errorf("published %s", out.Entry.Body)
	}
	if want := "s3://" + put.Bucket + "/" + put.Key; out.OffloadObject != want {
		t.Errorf("Outbound.OffloadObject %q, want %q (the dead-letter header)", out.OffloadObject, want)
	}

	store.err = &failure.Error{Class: failure.Transient, Reason: "s3_unavailable", Err: errors.New("slow down")}
	out, err = offloadTranslator(t, 600, WithPayloadStore(store)).Translate(context.Background(), rec)
	if failure.ClassOf(err) != failure.Transient || out.Entry != nil || out.EventID == "" || out.RoutedARN != ticketARN {
		t.Errorf("failing store: %v, outbound %+v", err, out)
	}
	_, err = offloadTranslator(t, 600).Translate(context.Background(), rec)
	if failure.ClassOf(err) != failure.Systemic {
		t.Errorf("no store: %v, want systemic", err)
	}
}

// `bridge translate` shows the pointer, where the event would go and the
// Number attribute, and stores nothing.
func TestExplainShowsThePointer(t *testing.T) {
	r, err := generator(t, 9).Record("ticket:updated")
	if err != nil {
		t.Fatal(err)
	}
	store := &recordingStore{}
	out := offloadTranslator(t, 600, WithPayloadStore(store)).Explain(context.Background(), &kgo.Record{Topic: "thena.events", Key: r.Key, Value: r.Value}, 600)
	if !out.OK || out.Offload == nil || out.Offload.Key != "ev/"+out.EventID+".json" || out.Offload.Size <= 600 {
		t.Fatalf("Explain: %+v", out)
	}
	if string(out.Body) != mapping.PointerBody("thena-large", out.Offload.Key) {
		t.Errorf("body %s", out.Body)
	}
	last := out.Attributes[len(out.Attributes)-1]
	if last.Name != mapping.AttrExtendedPayloadSize || last.DataType != "Number" {
		t.Errorf("last attribute %+v", last)
	}
	if len(store.puts) != 0 {
		t.Error("Explain stored the event")
	}
}
