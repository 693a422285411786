package dlq

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Partition names one partition of a topic.
type Partition struct {
	Topic     string
	Partition int32
}

func (p Partition) String() string { return fmt.Sprintf("%s/%d", p.Topic, p.Partition) }

// Span is the offsets [Start, End) of one partition that a read covers.
type Span struct {
	Start, End int64
}

// Bounds is what a read covers, per partition.
type Bounds map[Partition]Span

// Records is how many offsets the bounds cover.
func (b Bounds) Records() int64 {
	var n int64
	for _, s := range b {
		if s.End > s.Start {
			n += s.End - s.Start
		}
	}
	return n
}

// Partitions returns the partitions in topic, then partition order.
func (b Bounds) Partitions() []Partition {
	ps := make([]Partition, 0, len(b))
	for p := range b {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Partition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return ps
}

// DefaultIdleTimeout is how long Read waits for a record before it gives up
// on partitions that have not reached their end offset.
const DefaultIdleTimeout = 30 * time.Second

// Reader reads dead-letter topics partition by partition, without a consumer
// group: it never joins, commits for or otherwise disturbs the bridge's group.
// It is safe for concurrent use.
type Reader struct {
	opts []kgo.Opt
	cl   *kgo.Client
	adm  *kadm.Client
	// IdleTimeout replaces DefaultIdleTimeout when positive.
	IdleTimeout time.Duration
}

// NewReader returns a Reader whose clients use opts (seed brokers, TLS,
// SASL, client id). It does not connect until used; Close releases it.
func NewReader(opts ...kgo.Opt) (*Reader, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &Reader{opts: opts, cl: cl, adm: kadm.NewClient(cl)}, nil
}

// Close closes the Reader's admin connection.
func (r *Reader) Close() { r.cl.Close() }

// Bounds returns, for every partition of topics, the start offset and the end
// offset (high watermark) as they are now. A missing topic is an error that
// names it.
func (r *Reader) Bounds(ctx context.Context, topics ...string) (Bounds, error) {
	starts, err := r.adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing start offsets of %v: %w", topics, err)
	}
	ends, err := r.adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets of %v: %w", topics, err)
	}
	b := Bounds{}
	var errs []error
	for _, t := range topics {
		ps, ok := ends[t]
		if !ok {
			errs = append(errs, fmt.Errorf("dead-letter topic %q does not exist", t))
			continue
		}
		for p, end := range ps {
			if end.Err != nil {
				if errors.Is(end.Err, kerr.UnknownTopicOrPartition) {
					errs = append(errs, fmt.Errorf("dead-letter topic %q does not exist", t))
				} else {
					errs = append(errs, fmt.Errorf("end offset of %s/%d: %w", t, p, end.Err))
				}
				continue
			}
			start, ok := starts.Lookup(t, p)
			if !ok || start.Err != nil {
				errs = append(errs, fmt.Errorf("start offset of %s/%d: %v", t, p, cmp.Or(start.Err, errors.New("not listed"))))
				continue
			}
			b[Partition{t, p}] = Span{Start: start.Offset, End: end.Offset}
		}
	}
	return b, errors.Join(errs...)
}

// Read calls fn with every record in b, in offset order within each
// partition (partitions interleave), and returns once every partition has
// reached its end offset, fn returns an error (returned as is), or ctx
// ends. Partitions whose span is empty are not read. A partition that yields
// nothing for IdleTimeout before reaching its end is an error.
func (r *Reader) Read(ctx context.Context, b Bounds, fn func(deadletter.DeadLetter) error) error {
	assign := map[string]map[int32]kgo.Offset{}
	left := map[Partition]int64{} // end offset of every partition still to read
	for p, s := range b {
		if s.End <= s.Start {
			continue
		}
		if assign[p.Topic] == nil {
			assign[p.Topic] = map[int32]kgo.Offset{}
		}
		assign[p.Topic][p.Partition] = kgo.NewOffset().At(s.Start)
		left[p] = s.End
	}
	if len(left) == 0 {
		return nil
	}
	// Control records (transaction markers) come through so that their
	// offsets count towards the end; fn never sees them.
	cl, err := kgo.NewClient(append(slices.Clone(r.opts), kgo.ConsumePartitions(assign), kgo.KeepControlRecords())...)
	if err != nil {
		return err
	}
	defer cl.Close()
	idle := cmp.Or(r.IdleTimeout, DefaultIdleTimeout)
	for len(left) > 0 {
		pollCtx, cancel := context.WithTimeout(ctx, idle)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		if pollCtx.Err() != nil && fetches.NumRecords() == 0 {
			var stuck []string
			for p, end := range left {
				stuck = append(stuck, fmt.Sprintf("%s (end offset %d)", p, end))
			}
			slices.Sort(stuck)
			return fmt.Errorf("no record arrived for %s from %v", idle, stuck)
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = errors.Join(ferr, fmt.Errorf("fetching %s/%d: %w", t, p, err))
			}
		})
		if ferr != nil {
			return ferr
		}
		var stop error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			p := Partition{fp.Topic, fp.Partition}
			end, ok := left[p]
			if !ok || stop != nil {
				return
			}
			for _, rec := range fp.Records {
				if rec.Offset >= end {
					break
				}
				if rec.Attrs.IsControl() {
					continue
				}
				if err := fn(deadletter.Parse(rec)); err != nil {
					stop = err
					return
				}
				if rec.Offset == end-1 {
					break
				}
			}
			if n := len(fp.Records); n > 0 && fp.Records[n-1].Offset >= end-1 {
				delete(left, p)
				cl.PauseFetchPartitions(map[string][]int32{p.Topic: {p.Partition}})
			}
		})
		if stop != nil {
			return stop
		}
	}
	return nil
}

// ErrNoRecord is returned by Get when no record has the requested offset.
var ErrNoRecord = errors.New("no such dead letter")

// Get reads the one record at offset of topic/partition.
func (r *Reader) Get(ctx context.Context, topic string, partition int32, offset int64) (deadletter.DeadLetter, error) {
	b, err := r.Bounds(ctx, topic)
	if err != nil {
		return deadletter.DeadLetter{}, err
	}
	s, ok := b[Partition{topic, partition}]
	switch {
	case !ok:
		return deadletter.DeadLetter{}, fmt.Errorf("%w: %s has no partition %d", ErrNoRecord, topic, partition)
	case offset < s.Start:
		return deadletter.DeadLetter{}, fmt.Errorf("%w: offset %d of %s/%d is gone (the partition starts at %d)", ErrNoRecord, offset, topic, partition, s.Start)
	case offset >= s.End:
		return deadletter.DeadLetter{}, fmt.Errorf("%w: offset %d of %s/%d is past the end (%d)", ErrNoRecord, offset, topic, partition, s.End)
	}
	var got deadletter.DeadLetter
	found := errors.New("found")
	err = r.Read(ctx, Bounds{Partition{topic, partition}: {Start: offset, End: s.End}}, func(d deadletter.DeadLetter) error {
		got = d
		return found
	})
	if !errors.Is(err, found) {
		if err == nil {
			err = fmt.Errorf("%w at offset %d of %s/%d", ErrNoRecord, offset, topic, partition)
		}
		return deadletter.DeadLetter{}, err
	}
	if got.Record.Offset != offset {
		return deadletter.DeadLetter{}, fmt.Errorf("%w at offset %d of %s/%d (the next record is at %d)", ErrNoRecord, offset, topic, partition, got.Record.Offset)
	}
	return got, nil
}
