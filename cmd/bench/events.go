package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// generate calls fn with the n events of seed, in order, chunk by chunk, so
// that a million events never sit in memory at once.
func generate(seed int64, orgs int, n int64, fn func([]eventgen.Record) error) error {
	gen, err := eventgen.New(seed, eventgen.Options{Orgs: orgs})
	if err != nil {
		return err
	}
	const chunk = 10000
	for done := int64(0); done < n; {
		k := int64(chunk)
		if n-done < k {
			k = n - done
		}
		if err := fn(gen.Mixed(int(k))); err != nil {
			return err
		}
		done += k
	}
	return nil
}

// produce writes records to topic asynchronously, waits for every
// acknowledgement and returns the first error.
type producer struct {
	cl       *kgo.Client
	wg       sync.WaitGroup
	firstErr atomic.Value
	acked    atomic.Int64
}

func newProducer(brokers []string) (*producer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(2*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(20000))
	if err != nil {
		return nil, err
	}
	return &producer{cl: cl}, nil
}

func (p *producer) produce(ctx context.Context, r *kgo.Record) {
	p.wg.Add(1)
	p.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			p.firstErr.CompareAndSwap(nil, err)
		} else {
			p.acked.Add(1)
		}
		p.wg.Done()
	})
}

func (p *producer) err() error {
	err, _ := p.firstErr.Load().(error)
	return err
}

// close waits for every outstanding record and closes the client.
func (p *producer) close() error {
	p.wg.Wait()
	p.cl.Close()
	return p.err()
}

// liveTemplate is a generated event whose timestamp can be set to now:
// tsAt and tsLen locate the timestamp's zig-zag varint in the value.
type liveTemplate struct {
	key, value  []byte
	tsAt, tsLen int
}

// eventMillis reads the event time from a generated event's natural form: an
// ISO-8601 string, or Unix milliseconds for custom object events.
func eventMillis(natural map[string]any) (int64, error) {
	switch v := natural["timestamp"].(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, err
		}
		return t.UnixMilli(), nil
	case json.Number:
		return v.Int64()
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case float64:
		if v != math.Trunc(v) {
			return 0, fmt.Errorf("timestamp %v is not whole milliseconds", v)
		}
		return int64(v), nil
	case time.Time:
		return v.UnixMilli(), nil
	}
	return 0, fmt.Errorf("timestamp of type %T", natural["timestamp"])
}

func zigzag(v int64) []byte {
	return binary.AppendUvarint(nil, uint64(v<<1)^uint64(v>>63))
}

// newLiveTemplate finds the event timestamp in r's Avro body. Every Thena
// schema has eventId, eventType and then timestamp as its first fields, so
// the first occurrence of the timestamp's encoding after the two (ASCII)
// strings is the field.
func newLiveTemplate(r eventgen.Record) (liveTemplate, error) {
	ms, err := eventMillis(r.Natural)
	if err != nil {
		return liveTemplate{}, err
	}
	enc := zigzag(ms)
	i := bytes.Index(r.Value[5:], enc)
	if i < 0 {
		return liveTemplate{}, errors.New("event timestamp not found in the record value")
	}
	return liveTemplate{key: r.Key, value: r.Value, tsAt: 5 + i, tsLen: len(enc)}, nil
}

// at returns the template's value with its event timestamp set to ms.
func (t *liveTemplate) at(ms int64) []byte {
	enc := zigzag(ms)
	v := make([]byte, 0, len(t.value)-t.tsLen+len(enc))
	v = append(v, t.value[:t.tsAt]...)
	v = append(v, enc...)
	return append(v, t.value[t.tsAt+t.tsLen:]...)
}

// produceLive writes fresh events at f.rate per second for f.duration, each
// stamped with the current time, as a service publishing events would.
func produceLive(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	gen, err := eventgen.New(f.seed, eventgen.Options{Orgs: f.orgs})
	if err != nil {
		return workerResult{}, err
	}
	var tpls []liveTemplate
	for _, r := range gen.Mixed(f.pool) {
		t, err := newLiveTemplate(r)
		if err != nil {
			return workerResult{}, fmt.Errorf("%s: %w", r.EventType, err)
		}
		tpls = append(tpls, t)
	}
	p, err := newProducer(strings.Split(f.brokers, ","))
	if err != nil {
		return workerResult{}, err
	}
	var sent atomic.Int64
	stop := progress(stderr, fmt.Sprintf("produce-live %d/s", f.rate), int64(float64(f.rate)*f.duration.Seconds()), &sent)
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	var sp span
	for {
		now := <-tick.C
		elapsed := now.Sub(start)
		if elapsed >= f.duration || ctx.Err() != nil || p.err() != nil {
			break
		}
		target := int64(elapsed.Seconds() * float64(f.rate))
		ms := time.Now().UnixMilli()
		for n := sent.Load(); n < target; n++ {
			t := &tpls[n%int64(len(tpls))]
			p.produce(ctx, &kgo.Record{Topic: f.topic, Key: t.key, Value: t.at(ms)})
			sent.Add(1)
		}
		sp.mark()
	}
	tick.Stop()
	stop()
	if err := p.close(); err != nil {
		return workerResult{}, err
	}
	return workerResult{Events: p.acked.Load(), FirstNano: start.UnixNano(), LastNano: sp.last.Load()}, ctx.Err()
}
