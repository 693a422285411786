package dlq

import (
	"cmp"
	"context"
	"errors"
	"io"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
)

// Destination receives replayed dead letters: the source topic, or SNS.
type Destination interface {
	// Send hands d over and returns; it may block while the destination is
	// full. done receives the outcome exactly once, possibly from another
	// goroutine and before Send returns: nil when the destination
	// acknowledged d; a *failure.Error of class Permanent when it rejected d
	// for good (the replay counts d as failed and goes on); any other error
	// stops the replay. ctx ending abandons d (done gets ctx's error).
	Send(ctx context.Context, d deadletter.DeadLetter, done func(error))
	// Close waits until every Send's done has run, at most until ctx ends.
	Close(ctx context.Context) error
}

// Check translates a dead letter again, as the bridge would now: nil means
// it would be published; otherwise a classified error (internal/failure)
// says why not.
type Check func(ctx context.Context, d deadletter.DeadLetter) error

// Defaults of Options.
const (
	DefaultMaxInFlight  = 256
	DefaultSaveEvery    = 200 * time.Millisecond
	DefaultDrainTimeout = 30 * time.Second
)

// Options configure Replay.
type Options struct {
	// Topics are the dead-letter topics to replay from.
	Topics []string
	Filter Filter
	// Limit stops the replay after this many selected records (replayed,
	// skipped or failed); 0 means no limit. A limited run leaves a
	// checkpoint that the next run continues from.
	Limit int

	// Check is required: every selected record is translated before it is
	// sent, and one that would fail the same permanent way again (the
	// reason of its bridge.error.reason) is skipped unless Force.
	Check Check
	// Destination is required unless DryRun.
	Destination Destination
	// Translated says the destination carries translated events (SNS): a
	// record that fails translation in any way cannot be sent and is
	// skipped, Force or not. Otherwise (the source topic) a record that now
	// fails for another reason is sent, and the bridge dead-letters it again
	// with the new reason.
	Translated bool
	// Force sends records that would fail the same way again (source topic
	// only), and sends them when the check itself fails transiently.
	Force bool
	// DryRun reports per record what would happen and changes nothing: no
	// send, no checkpoint written. It still starts after the checkpoint.
	DryRun bool
	// OrderByKey sends a record only after the previous record with the same
	// key (deadletter.DeadLetter.Key) was acknowledged, for destinations that do not
	// keep order between records in flight (SNS).
	OrderByKey bool
	// MaxInFlight bounds records sent and not yet acknowledged (default 256).
	MaxInFlight int

	// CheckpointPath is the checkpoint file; required unless DryRun.
	CheckpointPath string
	// Target identifies where the replay sends and what it reads
	// (destination, cluster, dead-letter topics); a checkpoint written for
	// another target is refused. Replays to one target share what was
	// acknowledged, so no selection sends a record another one sent.
	Target string
	// Selection identifies the filters as given; each selection keeps its
	// own position in the checkpoint.
	Selection string
	// Restart ignores an existing checkpoint, acknowledgements included,
	// and starts from the beginning.
	Restart bool
	// SaveEvery is how often acknowledged progress is written (default
	// 200ms); it is also written when the replay stops.
	SaveEvery time.Duration
	// DrainTimeout bounds the wait for records in flight once the replay
	// stops (interrupt, error, limit), default 30s. What is still
	// unacknowledged then is abandoned and sent again by the next run.
	DrainTimeout time.Duration

	// Report gets one line per record that is skipped or failed, and in a
	// dry run one line per selected record. Nil discards them.
	Report io.Writer
	// Progress, when set, shows progress (on stderr).
	Progress *Progress
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Result is what a replay did.
type Result struct {
	// Total is how many records the run covered: the offsets from the
	// checkpoint (or the start) to the end offsets captured at start, plus
	// the earlier skipped or failed records it considered again.
	Total int64
	// Scanned records were looked at; Selected matched the filter.
	Scanned, Selected int64
	// Replayed were acknowledged by the destination (in a dry run: would be
	// sent); Skipped would fail the same way again (SkippedBy counts them by
	// reason); Failed were rejected by the destination; AlreadyReplayed were
	// selected but acknowledged by an earlier replay to the same target, with
	// other filters, and not sent again.
	Replayed, Skipped, Failed, AlreadyReplayed int64
	SkippedBy                                  map[string]int64
	// Resumed says the run started from an existing checkpoint.
	Resumed bool
	// Completed says every covered record was handled: running the same
	// replay again sends only what is new (or was skipped and now passes).
	Completed bool
	// Limited says the run stopped at Options.Limit.
	Limited bool
}

// ErrCheckpointMismatch is returned when the checkpoint file belongs to
// another replay.
var ErrCheckpointMismatch = errors.New("checkpoint belongs to another replay")

// withDefaults returns o with its zero durations and bounds set to their
// defaults.
func (o Options) withDefaults() Options {
	o.MaxInFlight = cmp.Or(o.MaxInFlight, DefaultMaxInFlight)
	o.SaveEvery = cmp.Or(o.SaveEvery, DefaultSaveEvery)
	o.DrainTimeout = cmp.Or(o.DrainTimeout, DefaultDrainTimeout)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Report == nil {
		o.Report = io.Discard
	}
	return o
}
