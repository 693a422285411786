package consumer

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	saslaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/thena-ai/kafka-sns-bridge/internal/backoff"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
)

// SASL mechanisms accepted in SASLConfig.Mechanism.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
	// SASLAWSMSKIAM authenticates to Amazon MSK with IAM, taking credentials
	// from the standard AWS chain (environment, shared config, web identity,
	// container and instance roles) on every connection.
	SASLAWSMSKIAM = "AWS_MSK_IAM"
	// SASLOAuthBearer authenticates with an OAuth 2 bearer token (RFC 7628)
	// read from SASLConfig.TokenFile or printed by SASLConfig.TokenCommand.
	SASLOAuthBearer = "OAUTHBEARER"
)

// Where a group with no committed offset for a partition starts.
const (
	ResetEarliest = "earliest"
	ResetLatest   = "latest"
)

// Defaults applied to the zero fields of a Config.
const (
	DefaultClientID = "kafka-sns-bridge"
	// A crash replays what finished since the last commit: at 15,000
	// events/s, a 5 s interval was 75,000 events; 1 s is one second of
	// traffic plus what is in flight, for one small OffsetCommit request a
	// second per member (docs/operations.md, "Commits and duplicates").
	DefaultCommitInterval    = time.Second
	DefaultCommitTimeout     = 10 * time.Second
	DefaultMaxRunPerKey      = 10
	DefaultMaxInflightPerKey = 16
	// The byte bounds keep a bridge draining a backlog of 48 KiB events
	// into an SNS that does not answer at 166 MiB RSS (local Kafka, one
	// broker, 12 partitions, a 1.4x JSON body per event: 77 MiB counted,
	// 148 MiB of heap) and at 176 MiB with 1 KiB events (23,000 of them);
	// 16 and 128 MiB reached 262 MiB, too close to the 300 MiB target once
	// franz-go buffers a fetch per broker of a real cluster. 64 MiB took a
	// drain of 200,000 generated 2-7 KiB events to 370-430 MiB RSS (the count
	// passes the bound by the messages of records not yet decoded, and the
	// heap is about twice the count); 32 MiB to 252-258 MiB at the same
	// throughput (cmd/bench, uniform 10,000 organizations, 0 and 15 ms sink;
	// docs/benchmarks.md). 32 MiB still holds thousands of events, far more
	// than SNS round trips need in flight.
	DefaultMaxBufferedBytesPerPartition = 8 << 20
	DefaultMaxBufferedBytes             = 32 << 20
	DefaultDrainTimeout                 = 20 * time.Second
	DefaultRebalanceTimeout             = 60 * time.Second
	DefaultSessionTimeout               = 45 * time.Second
	DefaultHeartbeatInterval            = time.Second
	DefaultLagInterval                  = 10 * time.Second
	DefaultFetchMaxBytes                = 16 << 20
	// 256 KiB rather than franz-go's 1 MiB: one fetch response then holds
	// records of more partitions, so a drain starts every key at once. Ten
	// organizations at 15 ms went from 4,000-4,140 to 5,100-5,140 events/s
	// and peak RSS from about 250 to 165 MiB; the uniform drain stayed
	// within its noise (cmd/bench, docs/benchmarks.md). A record batch
	// larger than this is still returned whole (KIP-74).
	DefaultFetchMaxPartitionBytes = 256 << 10
	DefaultFetchMaxWait           = 100 * time.Millisecond
	DefaultRetryBackoffMin        = 200 * time.Millisecond
	DefaultRetryBackoffMax        = 30 * time.Second
)

// instanceIDPattern is what Kafka accepts as a group.instance.id
// (JoinGroupRequest.validateGroupInstanceId).
var instanceIDPattern = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// minBufferedBytes is the smallest byte bound Validate accepts.
const minBufferedBytes = 1 << 10

// Config configures an Engine. A zero field takes its default (see
// DefaultConfig); Validate reports the first field that is still unusable.
type Config struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// GroupID is the consumer group. Members of one bridge deployment share it.
	GroupID string
	// Topics are the source topics, or regular expressions when TopicRegex is set.
	Topics     []string
	TopicRegex bool
	// ResetOffset is where a partition without a committed offset starts:
	// "earliest" (default) or "latest".
	ResetOffset string

	// ClientID names the Kafka clients (default "kafka-sns-bridge").
	ClientID string
	// InstanceID turns on static group membership when set: a member that
	// crashes and restarts with the same id within SessionTimeout gets its
	// partitions back at once, with no rebalance. On shutdown a static
	// member commits, then leaves the group explicitly (a LeaveGroup naming
	// its instance id), so that a replica that goes for good (a rollout, a
	// scale-down) hands its partitions over at once too. It also names this
	// member in the bridge.instance dead-letter header (the host name is
	// used when it is empty).
	InstanceID string

	TLS  TLSConfig
	SASL SASLConfig

	// Rack is where this replica runs (its zone), as the brokers name racks
	// (broker.rack; on Amazon MSK the zone id, like use1-az1). Brokers with a
	// rack-aware replica selector (KIP-392) then serve its fetches from a
	// replica in the same rack, saving cross-zone traffic; other brokers
	// ignore it. Empty fetches from the leaders.
	Rack string
	// IsolationLevel is which records of transactional producers are
	// fetched: IsolationReadCommitted (the default) only those of committed
	// transactions, so that an aborted write is never published;
	// IsolationReadUncommitted every record as it is written, aborted ones
	// included.
	IsolationLevel string

	// DeadLetterTopic is the dead-letter topic template; "{topic}" is replaced
	// by the source topic (default "{topic}.dlq").
	DeadLetterTopic string

	// CommitInterval is how often finished offsets are committed (default 1s),
	// when they moved. Offsets are also committed on revocation and shutdown.
	// A crash replays what finished since the last commit.
	CommitInterval time.Duration
	// CommitTimeout bounds one offset commit (default 10s).
	CommitTimeout time.Duration

	// MaxRunPerKey is the most consecutive events of one ordering scope (key
	// and target topic) that ride one PublishBatch call together, in offset
	// order (default 10; the publisher's RunLimit caps it too). 1 keeps one
	// event per scope in flight, as before same-key runs: then no order break
	// is possible when an entry fails while a later one is accepted.
	MaxRunPerKey int
	// MaxInflightPerKey is the most runs of one relaxed scope (an Outbound
	// with Relaxed set) in flight at once (default 16). Strict scopes always
	// have at most one.
	MaxInflightPerKey int

	// MaxBufferedBytesPerPartition bounds what one partition holds of records
	// fetched and not yet behind its watermark, in bytes as the engine counts
	// them (record key, value and headers, the translated entry, and the
	// bookkeeping of each record; a finished record waiting behind an
	// unfinished one costs only its bookkeeping). Default 8 MiB. At the bound
	// the partition stops fetching; it resumes at half. While several
	// partitions have work, each is bound by its share instead when that is
	// less: three quarters of MaxBufferedBytes split among them, never under
	// an eighth of this bound.
	MaxBufferedBytesPerPartition int64
	// MaxBufferedBytes bounds the same for the whole engine (default 32 MiB);
	// polling waits while it is reached.
	MaxBufferedBytes int64

	// DrainTimeout is how long revocation and shutdown wait for in-flight
	// publishes and dead letters before abandoning them (default 20s).
	// DrainTimeout plus twice CommitTimeout must be shorter than
	// RebalanceTimeout: a revocation may wait for a periodic commit, then
	// drains, then commits.
	DrainTimeout time.Duration
	// RebalanceTimeout and SessionTimeout are the group's timeouts
	// (defaults 60s and 45s). SessionTimeout is how long the group waits for
	// a member that stopped heartbeating: a static member's restart within
	// it keeps its partitions; a member that is gone for good holds them
	// that long (see docs/operations.md, "Group membership").
	RebalanceTimeout time.Duration
	SessionTimeout   time.Duration
	// HeartbeatInterval is how often the member heartbeats (default 1s):
	// the other members learn of a rebalance, a member leaving say, at their
	// next heartbeat, so it bounds how long a departing member's partitions
	// wait for their next owner. It must be below a third of SessionTimeout.
	HeartbeatInterval time.Duration
	// LagInterval is how often the committed offset lag of the owned
	// partitions is read from the brokers (default 10s): their end offsets
	// and the group's commits, so the lag moves while partitions are
	// paused or stalled too.
	LagInterval time.Duration

	// FetchMaxBytes and FetchMaxPartitionBytes bound one fetch response
	// (defaults 16 MiB and 256 KiB).
	FetchMaxBytes          int32
	FetchMaxPartitionBytes int32
	// FetchMaxWait is how long the broker may hold a fetch waiting for data
	// (default 100ms). Kept short because a partition that resumes after a
	// full buffer paused it waits behind the fetch in progress: with
	// franz-go's 5s default that wait, not publishing, bounded throughput.
	FetchMaxWait time.Duration

	// RetryBackoffMin and RetryBackoffMax shape the wait between attempts of
	// a transient translate error and of a failed dead-letter produce
	// (defaults 200ms and 30s): the first wait is at most RetryBackoffMin,
	// the bound doubles with each failure up to RetryBackoffMax, and each
	// wait is drawn at random below its bound (full jitter, internal/backoff).
	RetryBackoffMin time.Duration
	RetryBackoffMax time.Duration
}

// TLSConfig configures TLS to the brokers. Files are PEM.
type TLSConfig struct {
	Enabled bool
	// CAFile replaces the system roots when set.
	CAFile string
	// CertFile and KeyFile are a client certificate for mutual TLS; set both or neither.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify turns off broker certificate verification. Off by
	// default; never set it in production.
	InsecureSkipVerify bool
}

// SASLConfig configures SASL authentication. An empty Mechanism turns SASL off.
type SASLConfig struct {
	// Mechanism is one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM,
	// OAUTHBEARER.
	Mechanism string
	// Username and Password are used by PLAIN and SCRAM.
	Username string
	Password string
	// TokenFile and TokenCommand are OAUTHBEARER's token source; set one.
	// The file is read anew at every authentication (each new connection,
	// and each re-authentication before the session lifetime the broker
	// sets ends, KIP-368), so a token that something else rotates in the
	// file (a Kubernetes projected token, a sidecar) is taken up without a
	// restart. The command (program and arguments, run without a shell)
	// prints the token on its standard output; its token is kept until a
	// minute before its "exp" claim when it is a JWT, and asked for again at
	// every authentication otherwise.
	TokenFile    string
	TokenCommand []string
}

// DefaultConfig returns a Config with every default filled in; Brokers,
// GroupID and Topics are still to be set.
func DefaultConfig() Config {
	return Config{}.withDefaults()
}

func (c Config) withDefaults() Config {
	c.ClientID = cmp.Or(c.ClientID, DefaultClientID)
	c.ResetOffset = cmp.Or(c.ResetOffset, ResetEarliest)
	c.IsolationLevel = cmp.Or(c.IsolationLevel, IsolationReadCommitted)
	c.DeadLetterTopic = cmp.Or(c.DeadLetterTopic, deadletter.DefaultTopic)
	c.CommitInterval = cmp.Or(c.CommitInterval, DefaultCommitInterval)
	c.CommitTimeout = cmp.Or(c.CommitTimeout, DefaultCommitTimeout)
	c.MaxRunPerKey = cmp.Or(c.MaxRunPerKey, DefaultMaxRunPerKey)
	c.MaxInflightPerKey = cmp.Or(c.MaxInflightPerKey, DefaultMaxInflightPerKey)
	c.MaxBufferedBytesPerPartition = cmp.Or(c.MaxBufferedBytesPerPartition, DefaultMaxBufferedBytesPerPartition)
	c.MaxBufferedBytes = cmp.Or(c.MaxBufferedBytes, DefaultMaxBufferedBytes)
	c.DrainTimeout = cmp.Or(c.DrainTimeout, DefaultDrainTimeout)
	c.RebalanceTimeout = cmp.Or(c.RebalanceTimeout, DefaultRebalanceTimeout)
	c.SessionTimeout = cmp.Or(c.SessionTimeout, DefaultSessionTimeout)
	c.HeartbeatInterval = cmp.Or(c.HeartbeatInterval, DefaultHeartbeatInterval)
	c.LagInterval = cmp.Or(c.LagInterval, DefaultLagInterval)
	c.FetchMaxBytes = cmp.Or(c.FetchMaxBytes, DefaultFetchMaxBytes)
	c.FetchMaxPartitionBytes = cmp.Or(c.FetchMaxPartitionBytes, DefaultFetchMaxPartitionBytes)
	c.FetchMaxWait = cmp.Or(c.FetchMaxWait, DefaultFetchMaxWait)
	c.RetryBackoffMin = cmp.Or(c.RetryBackoffMin, DefaultRetryBackoffMin)
	c.RetryBackoffMax = cmp.Or(c.RetryBackoffMax, DefaultRetryBackoffMax)
	return c
}

// retryPolicy is the backoff between attempts of a transient translate
// error, of a failed dead-letter produce and of a publish handed back.
func (c Config) retryPolicy() backoff.Policy {
	return backoff.Policy{Base: c.RetryBackoffMin, Max: c.RetryBackoffMax}
}

// Validate reports the first unusable field, by name, after defaults are
// applied. It reads the TLS files it is given.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("consumer config: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if len(c.Brokers) == 0 {
		return bad("Brokers", "at least one broker is required")
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" || !strings.Contains(b, ":") {
			return bad("Brokers", "%q is not host:port", b)
		}
	}
	if c.GroupID == "" {
		return bad("GroupID", "required")
	}
	if len(c.Topics) == 0 {
		return bad("Topics", "at least one topic is required")
	}
	for _, t := range c.Topics {
		if t == "" {
			return bad("Topics", "empty topic")
		}
		if c.TopicRegex {
			if _, err := regexp.Compile(t); err != nil {
				return bad("Topics", "%q is not a regular expression: %v", t, err)
			}
		}
	}
	if c.ResetOffset != ResetEarliest && c.ResetOffset != ResetLatest {
		return bad("ResetOffset", "%q is neither %q nor %q", c.ResetOffset, ResetEarliest, ResetLatest)
	}
	if c.IsolationLevel != IsolationReadCommitted && c.IsolationLevel != IsolationReadUncommitted {
		return bad("IsolationLevel", "%q is neither %q nor %q", c.IsolationLevel, IsolationReadCommitted, IsolationReadUncommitted)
	}
	if strings.TrimSpace(c.Rack) != c.Rack || len(c.Rack) > 255 {
		return bad("Rack", "%q is not a rack name (the brokers' broker.rack, like use1-az1)", c.Rack)
	}
	if strings.TrimSpace(c.DeadLetterTopic) != c.DeadLetterTopic || strings.ContainsAny(c.DeadLetterTopic, " /\\") {
		return bad("DeadLetterTopic", "%q is not a valid topic template", c.DeadLetterTopic)
	}
	if c.DeadLetterTopic == "{topic}" {
		return bad("DeadLetterTopic", "must differ from the source topic")
	}
	if !c.TopicRegex {
		for _, t := range c.Topics {
			if dl := deadletter.Topic(c.DeadLetterTopic, t); dl == t || len(dl) > 249 {
				return bad("DeadLetterTopic", "gives %q for source topic %q", dl, t)
			}
		}
	}
	switch {
	case c.CommitInterval < 0:
		return bad("CommitInterval", "must be positive")
	case c.CommitTimeout < 0:
		return bad("CommitTimeout", "must be positive")
	case c.MaxRunPerKey < 1:
		return bad("MaxRunPerKey", "must be at least 1")
	case c.MaxInflightPerKey < 1:
		return bad("MaxInflightPerKey", "must be at least 1")
	case c.MaxBufferedBytesPerPartition < minBufferedBytes:
		// A few bytes is a unit mistake (8 meant as MiB), not a bound.
		return bad("MaxBufferedBytesPerPartition", "%d bytes is less than %d", c.MaxBufferedBytesPerPartition, minBufferedBytes)
	case c.MaxBufferedBytes < c.MaxBufferedBytesPerPartition:
		return bad("MaxBufferedBytes", "%d is less than MaxBufferedBytesPerPartition (%d)", c.MaxBufferedBytes, c.MaxBufferedBytesPerPartition)
	case c.DrainTimeout < 0:
		return bad("DrainTimeout", "must be positive")
	case c.RebalanceTimeout < 0:
		return bad("RebalanceTimeout", "must be positive")
	case c.DrainTimeout+2*c.CommitTimeout >= c.RebalanceTimeout:
		// A revocation may wait for a periodic commit in progress, then
		// drains, then commits: all of it must fit in the rebalance.
		return bad("DrainTimeout", "%v plus twice CommitTimeout %v must be shorter than RebalanceTimeout %v", c.DrainTimeout, c.CommitTimeout, c.RebalanceTimeout)
	case c.SessionTimeout < 0:
		return bad("SessionTimeout", "must be positive")
	case c.HeartbeatInterval < 0 || 3*c.HeartbeatInterval > c.SessionTimeout:
		return bad("HeartbeatInterval", "%v must be positive and at most a third of SessionTimeout %v", c.HeartbeatInterval, c.SessionTimeout)
	case c.LagInterval < 0:
		return bad("LagInterval", "must be positive")
	case c.InstanceID != "" && !instanceIDPattern.MatchString(c.InstanceID):
		// The broker refuses the join otherwise, long after start-up.
		return bad("InstanceID", "%q is not a group instance id (at most 249 of a-z, A-Z, 0-9, '.', '_', '-')", c.InstanceID)
	case c.FetchMaxBytes < 0:
		return bad("FetchMaxBytes", "must be positive")
	case c.FetchMaxPartitionBytes < 0:
		return bad("FetchMaxPartitionBytes", "must be positive")
	case c.FetchMaxPartitionBytes > c.FetchMaxBytes:
		return bad("FetchMaxPartitionBytes", "%d exceeds FetchMaxBytes %d", c.FetchMaxPartitionBytes, c.FetchMaxBytes)
	case c.FetchMaxWait < 0 || c.FetchMaxWait > 10*time.Second:
		return bad("FetchMaxWait", "%v must be between 0 and 10s", c.FetchMaxWait)
	case c.RetryBackoffMin < 0:
		return bad("RetryBackoffMin", "must be positive")
	case c.RetryBackoffMax < c.RetryBackoffMin:
		return bad("RetryBackoffMax", "%v is less than RetryBackoffMin %v", c.RetryBackoffMax, c.RetryBackoffMin)
	}
	if c.TLS.Enabled {
		if _, err := c.TLS.config(); err != nil {
			return err
		}
	} else if c.TLS.CAFile != "" || c.TLS.CertFile != "" || c.TLS.KeyFile != "" || c.TLS.InsecureSkipVerify {
		return bad("TLS.Enabled", "TLS files or options are set but TLS is not enabled")
	}
	if err := c.SASL.validateToken(bad); err != nil {
		return err
	}
	switch c.SASL.Mechanism {
	case "", SASLAWSMSKIAM, SASLOAuthBearer:
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASL.Username == "" {
			return bad("SASL.Username", "required for %s", c.SASL.Mechanism)
		}
		if c.SASL.Password == "" {
			return bad("SASL.Password", "required for %s", c.SASL.Mechanism)
		}
	default:
		return bad("SASL.Mechanism", "%q is not one of %s, %s, %s, %s, %s", c.SASL.Mechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512, SASLAWSMSKIAM, SASLOAuthBearer)
	}
	if c.SASL.Mechanism != "" && !c.TLS.Enabled && c.SASL.Mechanism != SASLScramSHA256 && c.SASL.Mechanism != SASLScramSHA512 {
		return bad("TLS.Enabled", "%s sends credentials in the clear; enable TLS", c.SASL.Mechanism)
	}
	return nil
}

func (t TLSConfig) config() (*tls.Config, error) {
	bad := func(field string, err error) error {
		return fmt.Errorf("consumer config: TLS.%s: %w", field, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, off by default
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, bad("CAFile", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad("CAFile", errors.New("no PEM certificates found"))
		}
		cfg.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		if t.CertFile == "" {
			return nil, bad("CertFile", errors.New("required when KeyFile is set"))
		}
		return nil, bad("KeyFile", errors.New("required when CertFile is set"))
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, bad("CertFile", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// ClientOpts are the kgo options every Kafka client of the bridge shares —
// the group consumer, the dead-letter producer and the operator tools:
// brokers, client id, TLS and SASL (with AWS MSK IAM through the standard AWS
// credential chain). Defaults are applied first.
func (c Config) ClientOpts() ([]kgo.Opt, error) {
	c = c.withDefaults()
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
	}
	if c.TLS.Enabled {
		tc, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m := c.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func (s SASLConfig) mechanism() sasl.Mechanism {
	switch s.Mechanism {
	case SASLPlain:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()
	case SASLScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()
	case SASLScramSHA512:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()
	case SASLAWSMSKIAM:
		return saslaws.ManagedStreamingIAM(awsCredentials())
	case SASLOAuthBearer:
		return oauth.Oauth(s.tokenSource(time.Now).auth)
	}
	return nil
}

// awsCredentials returns the MSK IAM credential callback: the standard AWS
// chain (environment, shared config, web identity, container and instance
// roles), loaded once and cached by the SDK, which refreshes expiring role
// credentials; every new connection asks it again.
func awsCredentials() func(context.Context) (saslaws.Auth, error) {
	var (
		mu       sync.Mutex
		retrieve func(context.Context) (saslaws.Auth, error)
	)
	return func(ctx context.Context) (saslaws.Auth, error) {
		mu.Lock()
		defer mu.Unlock()
		if retrieve == nil {
			cfg, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				return saslaws.Auth{}, fmt.Errorf("loading AWS config: %w", err)
			}
			retrieve = func(ctx context.Context) (saslaws.Auth, error) {
				creds, err := cfg.Credentials.Retrieve(ctx)
				if err != nil {
					return saslaws.Auth{}, fmt.Errorf("retrieving AWS credentials: %w", err)
				}
				return saslaws.Auth{AccessKey: creds.AccessKeyID, SecretKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}, nil
			}
		}
		return retrieve(ctx)
	}
}
