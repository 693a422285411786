package main

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// newPublishing builds what the publishing contenders share: the bridge's
// Translator the way `bridge run` would with the local schemas (or the
// registry, when consumed records carry its ids and fromKafka), the default
// limits and the standard routes, and an SNS client of the sink.
func newPublishing(ctx context.Context, f workerFlags, fromKafka bool) (*translate.Translator, *awssns.Client, error) {
	var src avro.SchemaSource
	var err error
	if f.registry != "" && fromKafka {
		src, err = avro.NewRegistrySource(f.registry)
	} else {
		src, err = avro.NewLocalSource(os.DirFS(f.schemas))
	}
	if err != nil {
		return nil, nil, err
	}
	dec, err := avro.NewDecoder(src, avro.DefaultConfig())
	if err != nil {
		return nil, nil, err
	}
	mapper, err := mapping.NewMapper(mapping.Config{Routes: mapping.StandardRoutes(f.arnEvents, f.arnCustom)},
		map[string]mapping.TopicInfo{f.arnEvents: {}, f.arnCustom: {}})
	if err != nil {
		return nil, nil, err
	}
	tr, err := translate.New(dec, mapper, nil)
	if err != nil {
		return nil, nil, err
	}
	client, err := sns.NewClient(ctx, sns.ClientConfig{Region: bridgeproc.Region, Endpoint: f.snsEndpoint})
	return tr, client, err
}

func attributes(e *sns.Entry) map[string]types.MessageAttributeValue {
	m := make(map[string]types.MessageAttributeValue, len(e.Attributes))
	for _, a := range e.Attributes {
		m[a.Name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(a.Value)}
	}
	return m
}

// rawPublish publishes ready-made messages (a pool of generated events,
// decoded and mapped before the clock starts) with PublishBatch, ten per
// call, f.inflight calls in flight per topic: the ceiling the SDK and the
// sink set.
func rawPublish(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	tr, client, err := newPublishing(ctx, f, false)
	if err != nil {
		return workerResult{}, err
	}
	gen, err := eventgen.New(f.seed, eventgen.Options{Orgs: f.orgs, Zipf: f.zipf})
	if err != nil {
		return workerResult{}, err
	}
	var pool []sns.Entry
	for _, r := range gen.Mixed(f.pool) {
		m, _, err := tr.Message(ctx, &kgo.Record{Key: r.Key, Value: r.Value})
		if err != nil {
			return workerResult{}, fmt.Errorf("mapping a generated %s: %w", r.EventType, err)
		}
		pool = append(pool, m.Entry)
	}
	var done, failed atomic.Int64
	var sp span
	stop := progress(stderr, "raw-publish", f.events, &done)
	defer stop()

	queues := map[string]chan *awssns.PublishBatchInput{}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for _, arn := range []string{f.arnEvents, f.arnCustom} {
		q := make(chan *awssns.PublishBatchInput, f.inflight)
		queues[arn] = q
		for range f.inflight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for in := range q {
					out, err := client.PublishBatch(ctx, in)
					if err != nil {
						failed.Add(int64(len(in.PublishBatchRequestEntries)))
						firstErr.CompareAndSwap(nil, err)
						continue
					}
					failed.Add(int64(len(out.Failed)))
					done.Add(int64(len(out.Successful)))
					sp.mark()
				}
			}()
		}
	}
	batches := map[string]*awssns.PublishBatchInput{}
	sizes := map[string]int{}
	flush := func(arn string) {
		if b := batches[arn]; b != nil {
			select {
			case queues[arn] <- b:
			case <-ctx.Done():
			}
			delete(batches, arn)
			sizes[arn] = 0
		}
	}
	for i := int64(0); i < f.events && ctx.Err() == nil; i++ {
		e := &pool[i%int64(len(pool))]
		if sizes[e.TopicARN]+e.Size > snsMaxBatchBytes {
			flush(e.TopicARN)
		}
		b := batches[e.TopicARN]
		if b == nil {
			b = &awssns.PublishBatchInput{TopicArn: aws.String(e.TopicARN)}
			batches[e.TopicARN] = b
		}
		b.PublishBatchRequestEntries = append(b.PublishBatchRequestEntries, types.PublishBatchRequestEntry{
			Id:                aws.String(fmt.Sprint(len(b.PublishBatchRequestEntries))),
			Message:           aws.String(e.Body),
			MessageAttributes: attributes(e),
		})
		sizes[e.TopicARN] += e.Size
		if len(b.PublishBatchRequestEntries) == 10 {
			flush(e.TopicARN)
		}
	}
	for arn := range queues {
		flush(arn)
		close(queues[arn])
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return workerResult{}, fmt.Errorf("%d entries failed, first: %w", failed.Load(), err)
	}
	return workerResult{Events: done.Load(), FirstNano: sp.first.Load(), LastNano: sp.last.Load(), Errors: failed.Load()}, ctx.Err()
}

// snsMaxBatchBytes is SNS's limit for a whole PublishBatch call: the same
// 256 KiB as one message.
const snsMaxBatchBytes = sns.DefaultMaxMessageSize

// perMessage is the one-Publish-per-event peer, the way Watermill's and
// Bento's SNS outputs work: consume as a group member, decode and map each
// record, send it with one Publish call, commit what is done. Records are
// spread over 2*inflight goroutines by key (so each key stays in order, as in
// the bridge) and each topic allows f.inflight Publish calls at once.
func perMessage(ctx context.Context, f workerFlags, stderr io.Writer) (workerResult, error) {
	tr, client, err := newPublishing(ctx, f, true)
	if err != nil {
		return workerResult{}, err
	}
	g, err := joinGroup(f)
	if err != nil {
		return workerResult{}, err
	}
	defer g.close()
	var done, failed atomic.Int64
	var sp span
	stop := progress(stderr, "per-message", f.events, &done)
	defer stop()
	sem := map[string]chan struct{}{f.arnEvents: make(chan struct{}, f.inflight), f.arnCustom: make(chan struct{}, f.inflight)}

	var firstErr atomic.Value
	var pending sync.WaitGroup
	lanes := make([]chan *kgo.Record, 2*f.inflight)
	var lanesDone sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan *kgo.Record, 256)
		lanesDone.Add(1)
		go func(in chan *kgo.Record) {
			defer lanesDone.Done()
			for rec := range in {
				if err := publishOne(ctx, tr, client, sem, rec); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				} else {
					done.Add(1)
					sp.mark()
				}
				pending.Done()
			}
		}(lanes[i])
	}
	defer func() {
		for _, l := range lanes {
			close(l)
		}
		lanesDone.Wait()
	}()
	seed := maphash.MakeSeed()
	var seen int64
	for seen < f.events {
		fs, err := g.poll(ctx)
		if err != nil {
			return workerResult{}, err
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			pending.Add(1)
			lanes[maphash.Bytes(seed, r.Key)%uint64(len(lanes))] <- r
		})
		// Commit only what is published: wait for this poll's records.
		pending.Wait()
		if err, _ := firstErr.Load().(error); err != nil {
			return workerResult{}, fmt.Errorf("%d events failed, first: %w", failed.Load(), err)
		}
		if err := g.commitDue(ctx); err != nil {
			return workerResult{}, err
		}
	}
	if err := g.commit(ctx); err != nil {
		return workerResult{}, err
	}
	return workerResult{Events: done.Load(), FirstNano: sp.first.Load(), LastNano: sp.last.Load(), Errors: failed.Load()}, nil
}

func publishOne(ctx context.Context, tr *translate.Translator, client *awssns.Client, sem map[string]chan struct{}, rec *kgo.Record) error {
	m, _, err := tr.Message(ctx, rec)
	if err != nil {
		return err
	}
	s := sem[m.Entry.TopicARN]
	s <- struct{}{}
	defer func() { <-s }()
	_, err = client.Publish(ctx, &awssns.PublishInput{
		TopicArn:          aws.String(m.Entry.TopicARN),
		Message:           aws.String(m.Entry.Body),
		MessageAttributes: attributes(&m.Entry),
	})
	return err
}
