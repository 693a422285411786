package consumer

// What a record costs in the byte bounds (Config.MaxBufferedBytes and
// MaxBufferedBytesPerPartition), and the copy that makes the count true.

import (
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// heldCost is what a finished record costs while it waits in the ledger
// behind an unfinished one: its item, with the record and the entry let go.
const heldCost = int64(unsafe.Sizeof(item{}))

// recordOverhead is the bookkeeping of a fetched record besides its bytes:
// the item, the record struct, its header slice and a share of its scope.
const recordOverhead = heldCost + int64(unsafe.Sizeof(kgo.Record{})) + 128

// recordCost is what a fetched record costs until it is translated: its key,
// value and headers, and its bookkeeping.
func recordCost(r *kgo.Record) int64 {
	n := recordOverhead + int64(len(r.Key)+len(r.Value))
	for _, h := range r.Headers {
		n += int64(len(h.Key)+len(h.Value)) + int64(unsafe.Sizeof(h))
	}
	return n
}

// entrySize is e's size as SNS counts it (Entry.Size, set by mapping), or
// at least its body's when Size is not set.
func entrySize(e *sns.Entry) int { return max(e.Size, len(e.Body)) }

// entryCost is what a record's translated entry adds: its size, the struct
// and the attribute slice.
func entryCost(e *sns.Entry) int64 {
	if e == nil {
		return 0
	}
	// Sizeof does not evaluate its operand: e.Attributes[0] is safe when empty.
	return int64(entrySize(e)) + int64(unsafe.Sizeof(*e)) + int64(len(e.Attributes))*int64(unsafe.Sizeof(e.Attributes[0]))
}

// detach copies r out of the fetch's memory. franz-go decodes a batch's
// records into one slice, with keys, values and header values pointing into
// the (decompressed) batch: one record held by the engine would keep its whole
// batch alive, and a finished record could not give its memory back while an
// unfinished neighbour waits. The copy is what the byte bounds count.
func detach(r *kgo.Record) *kgo.Record {
	c := *r
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Value)
	}
	buf := make([]byte, 0, n)
	own := func(b []byte) []byte {
		if b == nil {
			return nil // a nil key (keyless record) stays nil, for the dead letter
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	c.Key = own(r.Key)
	c.Value = own(r.Value)
	if r.Headers != nil {
		c.Headers = make([]kgo.RecordHeader, len(r.Headers))
		for i, h := range r.Headers {
			// Header keys are strings franz-go already copied.
			c.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: own(h.Value)}
		}
	}
	return &c
}

// maxPollRecords bounds one poll whatever the byte budget: handing a poll
// over holds the rebalance back.
const maxPollRecords = 10_000

// pollSizer turns a byte budget into the most records one poll may take,
// from what recent records cost. PollRecords counts records, not bytes, so
// this is what keeps one poll near the budget. It is used by the poll loop
// alone.
type pollSizer struct{ mean float64 }

func newPollSizer() *pollSizer { return &pollSizer{mean: float64(recordOverhead + 1<<10)} }

// records is how many records fit in bytes, counting each record twice: its
// entry adds about as much again once translated.
func (s *pollSizer) records(bytes int64) int {
	return int(min(max(float64(bytes)/(2*s.mean), 1), maxPollRecords))
}

// observe updates the mean cost from a poll's records.
func (s *pollSizer) observe(fs kgo.Fetches) {
	var n, total int64
	fs.EachRecord(func(r *kgo.Record) {
		n++
		total += recordCost(r)
	})
	if n > 0 {
		s.mean = 0.8*s.mean + 0.2*float64(total)/float64(n)
	}
}
