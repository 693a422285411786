package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// generate calls fn with the events of sh, in order, chunk by chunk, so
// that a million events never sit in memory at once.
func generate(sh shape, fn func([]eventgen.Record) error) error {
	gen, err := eventgen.New(sh.Seed, sh.genOptions())
	if err != nil {
		return err
	}
	n := sh.Events
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

// produceLive writes fresh events at f.rate per second for f.duration, each
// stamped with the current time, as a service publishing events would.
func produceLive(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	gen, err := eventgen.New(f.seed, eventgen.Options{Orgs: f.orgs, Zipf: f.zipf})
	if err != nil {
		return workerResult{}, err
	}
	var tpls []eventgen.Template
	for _, r := range gen.Mixed(f.pool) {
		t, err := eventgen.NewTemplate(r)
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
			p.produce(ctx, &kgo.Record{Topic: f.topic, Key: t.Key(), Value: t.At(ms)})
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
