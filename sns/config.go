package sns

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"time"

	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// API is the part of the SNS client the publisher uses. *awssns.Client
// implements it.
type API interface {
	PublishBatch(ctx context.Context, in *awssns.PublishBatchInput, opts ...func(*awssns.Options)) (*awssns.PublishBatchOutput, error)
	GetTopicAttributes(ctx context.Context, in *awssns.GetTopicAttributesInput, opts ...func(*awssns.Options)) (*awssns.GetTopicAttributesOutput, error)
}

// Config holds a Publisher's settings; its collaborators are NewPublisher's
// arguments and options. Zero values mean the documented default.
type Config struct {
	// Topics holds what Topics learned at start-up. A topic missing here is
	// FIFO if its ARN ends in ".fifo" and has the default size limit.
	Topics map[string]TopicInfo

	// Linger is how long a partly filled batch waits for more entries. A full
	// batch (10 entries or the size limit) goes at once. Zero means the
	// default, 2ms; NoLinger (any negative value) means no wait: a batch goes
	// as soon as a call slot and the send rate allow, which shortens a hot
	// key's round trip by the linger. At most 1s. The linger is the only
	// field whose zero is not "none": like net.Dialer.KeepAlive, a negative
	// value turns it off.
	Linger time.Duration
	// MaxBatchEntries caps entries per PublishBatch call. Default and maximum 10.
	MaxBatchEntries int
	// MaxInflightBatches caps concurrent PublishBatch calls per topic. With
	// 15ms of SNS latency, 64 calls of 10 entries carry about 40,000
	// entries/s per topic; 16 capped the bridge near 10,000 (see
	// docs/benchmarks.md). Default 64.
	MaxInflightBatches int
	// MaxQueuedEntries caps entries accepted and not yet done across all
	// topics; Publish blocks while it is reached. Default 4096.
	MaxQueuedEntries int
	// Encoder chooses how PublishBatch calls are made: EncoderDirect (the
	// default) writes and signs the request in sns/internal/wire, with the
	// SDK client's credentials, endpoint and HTTP client; EncoderSDK goes
	// through the SDK client's own PublishBatch, as before, for one release.
	// Direct needs the *awssns.Client NewClient returns; with any other API
	// the SDK path is used.
	Encoder string
	// MaxRatePerTopic caps the entries (events) sent to each topic per
	// second by this Publisher, so that several bridges can share an
	// account's SNS quota (give each its share). It is the ceiling of the
	// topic's adaptive send rate: calls are paced to it from the start,
	// throttling still cuts below it, and the rate grows back to it, not
	// past it. Zero means no ceiling: the rate is limited only while SNS
	// throttles.
	MaxRatePerTopic float64
	// CallTimeout bounds one PublishBatch call, and so how long an entry
	// already on the wire can outlive its context. Default 5s.
	CallTimeout time.Duration

	// BackoffBase and BackoffMax shape the retry delay (internal/backoff):
	// after n consecutive failures an entry waits a uniformly random time in
	// [0, min(BackoffMax, BackoffBase*2^(n-1))] (full jitter). Systemic
	// errors wait between BackoffMax/2 and BackoffMax. Defaults 50ms and 30s.
	BackoffBase time.Duration
	BackoffMax  time.Duration

	// BreakerFailures is how many consecutive failed calls open a topic's
	// breaker; one systemic failure opens it at once. Default 5.
	BreakerFailures uint32
	// BreakerOpenTimeout is how long a breaker that just opened refuses
	// calls before it lets BreakerHalfOpenCalls probe calls through (half
	// open); each consecutive opening without a close doubles it, up to
	// BreakerOpenTimeoutMax, and each period lasts its value plus up to a
	// quarter more, at random (jitter). A period counts from the start of
	// the call that opened the breaker, so a probe that hung longer than it
	// is followed by the next probe at once. After a systemic failure the
	// period is BackoffMax/2 to BackoffMax instead. Defaults 250ms, 1s and
	// 1: a sick SNS gets at most one probe a second per topic, and the first
	// delivery follows within about a second of SNS answering again.
	// BreakerOpenTimeoutMax below BreakerOpenTimeout is raised to it.
	BreakerOpenTimeout    time.Duration
	BreakerOpenTimeoutMax time.Duration
	BreakerHalfOpenCalls  uint32
}

// NoLinger is Config.Linger's "do not wait": partly filled batches go at
// once. A configuration layer whose zero means "none" (the YAML's
// sns.linger: 0) passes NoLinger for it.
const NoLinger time.Duration = -1

// Encoders of Config.Encoder.
const (
	EncoderDirect = "direct"
	EncoderSDK    = "sdk"
)

// Defaults of Config.
const (
	DefaultLinger                = 2 * time.Millisecond
	DefaultMaxBatchEntries       = 10
	DefaultMaxInflightBatches    = 64
	DefaultMaxQueuedEntries      = 4096
	DefaultCallTimeout           = 5 * time.Second
	DefaultBackoffBase           = 50 * time.Millisecond
	DefaultBackoffMax            = 30 * time.Second
	DefaultBreakerFailures       = 5
	DefaultBreakerOpenTimeout    = 250 * time.Millisecond
	DefaultBreakerOpenTimeoutMax = time.Second
	DefaultBreakerHalfOpenCalls  = 1
	// DefaultMaxMessageSize is SNS's default MaximumMessageSize (256 KiB).
	DefaultMaxMessageSize = 262144
)

func (c Config) withDefaults() Config {
	switch {
	case c.Linger == 0:
		c.Linger = DefaultLinger
	case c.Linger < 0:
		c.Linger = 0
	}
	c.MaxBatchEntries = cmp.Or(c.MaxBatchEntries, DefaultMaxBatchEntries)
	c.MaxInflightBatches = cmp.Or(c.MaxInflightBatches, DefaultMaxInflightBatches)
	c.MaxQueuedEntries = cmp.Or(c.MaxQueuedEntries, DefaultMaxQueuedEntries)
	c.CallTimeout = cmp.Or(c.CallTimeout, DefaultCallTimeout)
	c.BackoffBase = cmp.Or(c.BackoffBase, DefaultBackoffBase)
	c.BackoffMax = cmp.Or(c.BackoffMax, DefaultBackoffMax)
	c.BreakerFailures = cmp.Or(c.BreakerFailures, DefaultBreakerFailures)
	c.BreakerOpenTimeout = cmp.Or(c.BreakerOpenTimeout, DefaultBreakerOpenTimeout)
	c.BreakerOpenTimeoutMax = max(cmp.Or(c.BreakerOpenTimeoutMax, DefaultBreakerOpenTimeoutMax), c.BreakerOpenTimeout)
	c.BreakerHalfOpenCalls = cmp.Or(c.BreakerHalfOpenCalls, DefaultBreakerHalfOpenCalls)
	return c
}

// Validate reports the first invalid field. Zero values mean "default" and
// are valid; so is a negative Linger (NoLinger).
func (c Config) Validate() error {
	switch {
	case c.Linger > time.Second:
		return fmt.Errorf("sns config: Linger %v is over 1s", c.Linger)
	case c.MaxBatchEntries < 0 || c.MaxBatchEntries > 10:
		return fmt.Errorf("sns config: MaxBatchEntries %d is outside [1, 10]", c.MaxBatchEntries)
	case c.MaxRatePerTopic < 0 || math.IsNaN(c.MaxRatePerTopic) || math.IsInf(c.MaxRatePerTopic, 0):
		return fmt.Errorf("sns config: MaxRatePerTopic %v is not a rate of zero or more entries/s", c.MaxRatePerTopic)
	case c.Encoder != "" && c.Encoder != EncoderDirect && c.Encoder != EncoderSDK:
		return fmt.Errorf("sns config: Encoder %q is neither %q nor %q", c.Encoder, EncoderDirect, EncoderSDK)
	}
	if err := firstNegative("sns config", field[int]{"MaxInflightBatches", c.MaxInflightBatches},
		field[int]{"MaxQueuedEntries", c.MaxQueuedEntries}); err != nil {
		return err
	}
	if err := firstNegative("sns config", field[time.Duration]{"CallTimeout", c.CallTimeout},
		field[time.Duration]{"BackoffBase", c.BackoffBase}, field[time.Duration]{"BackoffMax", c.BackoffMax},
		field[time.Duration]{"BreakerOpenTimeout", c.BreakerOpenTimeout},
		field[time.Duration]{"BreakerOpenTimeoutMax", c.BreakerOpenTimeoutMax}); err != nil {
		return err
	}
	d := c.withDefaults()
	if d.BackoffMax < d.BackoffBase {
		return fmt.Errorf("sns config: BackoffMax %v is below BackoffBase %v", d.BackoffMax, d.BackoffBase)
	}
	for arn, ti := range c.Topics {
		if ti.MaxMessageSize < 0 {
			return fmt.Errorf("sns config: Topics[%q].MaxMessageSize %d is negative", arn, ti.MaxMessageSize)
		}
	}
	return nil
}

// field is a named config value, for firstNegative.
type field[T int | time.Duration] struct {
	name  string
	value T
}

// firstNegative returns an error naming the first of fields that is
// negative, or nil.
func firstNegative[T int | time.Duration](config string, fields ...field[T]) error {
	for _, f := range fields {
		if f.value < 0 {
			return fmt.Errorf("%s: %s %v is negative", config, f.name, f.value)
		}
	}
	return nil
}
