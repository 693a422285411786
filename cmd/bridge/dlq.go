package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/dlq"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
)

const dlqUsage = `Usage: bridge dlq <list|show|replay> [-config FILE | -brokers HOST:PORT,...] [flags]

Reads the dead-letter topics directly, partition by partition, from their
start to the end offsets seen when the command starts; it never joins or
disturbs the bridge's consumer group. The dead-letter topics are the
config's kafka.dead_letter_topic template applied to kafka.topics, or
-source SOURCE_TOPIC's, or -topic DLQ_TOPIC. -brokers replaces the config's
kafka.brokers; without a config file (list and show), it is all they need,
with -topic or -source (plaintext, no TLS or SASL: those come from a config).

  list     one line per dead letter (-json: one JSON object per line;
           -summary: counts by reason and by event type)
  show     one dead letter in full: headers, key, timestamp, and what
           'bridge translate' makes of it now
  replay   send dead letters back to their source topic (-to-source) or
           straight to SNS (-to-sns), skipping those that would fail the
           same way again; resumable (see 'bridge dlq replay -h')

Run 'bridge dlq <command> -h' for its flags.
`

// runDLQ is `bridge dlq`: the operator's dead-letter tooling.
func runDLQ(ctx context.Context, args []string, env commandEnv) error {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, dlqUsage)
		return fmt.Errorf("%w: dlq needs a command: list, show or replay", errUsage)
	}
	switch args[0] {
	case "list":
		return runDLQList(ctx, args[1:], env)
	case "show":
		return runDLQShow(ctx, args[1:], env)
	case "replay":
		return runDLQReplay(ctx, args[1:], env)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.stdout, dlqUsage)
		return nil
	default:
		fmt.Fprint(env.stderr, dlqUsage)
		return fmt.Errorf("%w: unknown dlq command %q (want list, show or replay)", errUsage, args[0])
	}
}

// dlqFlags are the flags list, show and replay share; sel, the selection
// flags, only list and replay have.
type dlqFlags struct {
	fs         *flag.FlagSet
	configPath string
	brokers    string
	topic      string
	source     string
	sel        *dlqFilterFlags
	// args is how many arguments the command takes (show: a position).
	args int
}

func newDLQFlags(name, usage string, env commandEnv, withSelection bool) *dlqFlags {
	f := &dlqFlags{fs: newFlagSet("dlq "+name, usage, env)}
	f.fs.StringVar(&f.configPath, "config", "config.yaml", "the bridge's configuration file (brokers, dead-letter template, schemas, routing, SNS)")
	f.fs.StringVar(&f.brokers, "brokers", "", "seed brokers host:port, comma-separated; replaces the config's kafka.brokers, and with no config file is all list and show need")
	f.fs.StringVar(&f.topic, "topic", "", "dead-letter topic to read (default: the template applied to every source topic)")
	f.fs.StringVar(&f.source, "source", "", "read the dead-letter topic of this source topic")
	if withSelection {
		f.sel = &dlqFilterFlags{}
		f.sel.register(f.fs)
	}
	return f
}

// parse parses args; a help request returns flag.ErrHelp unwrapped (see
// helpIsDone).
func (f *dlqFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if f.fs.NArg() > f.args {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, f.fs.Arg(f.args))
	}
	if f.topic != "" && f.source != "" {
		return fmt.Errorf("%w: give -topic or -source, not both", errUsage)
	}
	return nil
}

// dlqSession is what a dlq subcommand works with once its flags are parsed:
// the selection, the configuration, the dead-letter topics and a Reader of
// them, which the caller closes.
type dlqSession struct {
	filter   dlq.Filter
	settings settings
	// configured is false when -brokers stood in for a config file: there
	// are no schemas or routing to translate with.
	configured bool
	topics     []string
	reader     *dlq.Reader
}

// open does what every dlq subcommand does first: build the selection from
// its flags, read the configuration, resolve the dead-letter topics and
// connect a Reader with the config's Kafka settings.
func (f *dlqFlags) open(env commandEnv) (*dlqSession, error) {
	var ss dlqSession
	if f.sel != nil {
		var err error
		if ss.filter, err = f.sel.filter(time.Now()); err != nil {
			return nil, err
		}
	}
	s, configured, err := f.settings(env)
	if err != nil {
		return nil, err
	}
	ss.settings, ss.configured = s, configured
	if ss.topics, err = f.topics(s); err != nil {
		return nil, err
	}
	opts, err := dlqKafkaOpts(s)
	if err != nil {
		return nil, err
	}
	if ss.reader, err = dlq.NewReader(opts...); err != nil {
		return nil, err
	}
	return &ss, nil
}

// settings loads the configuration, with -brokers over its kafka.brokers.
// When -brokers is given, -config is not and there is no config.yaml, the
// defaults stand in (configured false).
func (f *dlqFlags) settings(env commandEnv) (s settings, configured bool, err error) {
	brokers := splitList(f.brokers)
	if f.brokers != "" && len(brokers) == 0 {
		return s, false, fmt.Errorf("%w: -brokers %q names no broker", errUsage, f.brokers)
	}
	if len(brokers) > 0 && !flagSet(f.fs, "config") {
		if _, err := os.Stat(f.configPath); errors.Is(err, fs.ErrNotExist) {
			s = defaultSettings()
			s.Kafka.Brokers = brokers
			return s, false, nil
		}
	}
	if s, err = loadSettings(f.configPath, env.getenv, env.environ); err != nil {
		return s, false, err
	}
	if len(brokers) > 0 {
		s.Kafka.Brokers = brokers
	}
	return s, true, nil
}

// topics resolves the dead-letter topics to read.
func (f *dlqFlags) topics(s settings) ([]string, error) {
	if f.topic != "" {
		return []string{f.topic}, nil
	}
	template := cmp.Or(s.Kafka.DeadLetterTopic, deadletter.DefaultTopic)
	if f.source != "" {
		return []string{deadletter.Topic(template, f.source)}, nil
	}
	if len(s.Kafka.Topics) == 0 {
		return nil, fmt.Errorf("%w: without a config file there is no kafka.topics: name the dead-letter topic with -topic or the source topic with -source", errUsage)
	}
	if s.Kafka.TopicRegex {
		return nil, fmt.Errorf("%w: kafka.topics are regular expressions; name the dead-letter topic with -topic or the source topic with -source", errUsage)
	}
	var out []string
	for _, t := range s.Kafka.Topics {
		if dl := deadletter.Topic(template, t); !slices.Contains(out, dl) {
			out = append(out, dl)
		}
	}
	return out, nil
}

// dlqFilterFlags are the selection flags of list and replay.
type dlqFilterFlags struct {
	reason, eventType, org, since, until string
	sourcePartition                      int
	limit                                int
}

func (ff *dlqFilterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&ff.reason, "reason", "", "only these bridge.error.reason values, comma-separated ("+strings.Join(failure.DeadLetterReasons(), ", ")+")")
	fs.StringVar(&ff.eventType, "event-type", "", "only event types matching this glob (ticket:*, *:comment:*)")
	fs.StringVar(&ff.org, "org", "", "only this organization id")
	fs.IntVar(&ff.sourcePartition, "source-partition", -1, "only dead letters from this source partition")
	fs.StringVar(&ff.since, "since", "", "only dead letters that failed at or after this time: RFC 3339, or a duration before now (2h)")
	fs.StringVar(&ff.until, "until", "", "only dead letters that failed before this time: RFC 3339, or a duration before now")
	fs.IntVar(&ff.limit, "limit", 0, "stop after this many selected dead letters (0: no limit)")
}

func (ff *dlqFilterFlags) filter(now time.Time) (dlq.Filter, error) {
	f := dlq.Filter{Reasons: dlq.ParseReasons(ff.reason), EventType: ff.eventType, OrgID: ff.org}
	known := failure.DeadLetterReasons()
	for _, r := range f.Reasons {
		if slices.Contains(known, r) {
			continue
		}
		hint := ""
		if s, ok := nearest(r, known); ok {
			hint = fmt.Sprintf("did you mean %s? ", s)
		}
		return f, fmt.Errorf("%w: -reason %q is not a dead-letter reason (%sthey are %s)", errUsage, r, hint, strings.Join(known, ", "))
	}
	if ff.sourcePartition >= 0 {
		f.SourcePartition, f.HasSourcePartition = int32(ff.sourcePartition), true
	} else if ff.sourcePartition != -1 {
		return f, fmt.Errorf("%w: -source-partition must be >= 0", errUsage)
	}
	var err error
	if ff.since != "" {
		if f.Since, err = dlq.ParseTime(ff.since, now); err != nil {
			return f, fmt.Errorf("%w: -since: %v", errUsage, err)
		}
	}
	if ff.until != "" {
		if f.Until, err = dlq.ParseTime(ff.until, now); err != nil {
			return f, fmt.Errorf("%w: -until: %v", errUsage, err)
		}
	}
	if ff.limit < 0 {
		return f, fmt.Errorf("%w: -limit must be >= 0", errUsage)
	}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("%w: %v", errUsage, err)
	}
	return f, nil
}

// describe is the selection as given, for the checkpoint: durations stay
// durations, so that the same command run later finds the same checkpoint.
func (ff *dlqFilterFlags) describe() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("reason", strings.Join(dlq.ParseReasons(ff.reason), ","))
	add("event-type", ff.eventType)
	add("org", ff.org)
	if ff.sourcePartition >= 0 {
		add("source-partition", strconv.Itoa(ff.sourcePartition))
	}
	add("since", ff.since)
	add("until", ff.until)
	return strings.Join(parts, " ")
}

// dlqKafkaOpts are the seed brokers, client id, TLS and SASL of the
// config's kafka section, as the consumer would use them.
func dlqKafkaOpts(s settings) ([]kgo.Opt, error) {
	opts, err := s.consumerConfig().ClientOpts()
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	// The tools are not the bridge: a client id of their own tells them
	// apart in broker logs and quotas.
	return append(opts, kgo.ClientID(s.Kafka.ClientID+"-dlq")), nil
}

// ---- output shared by list and show ----

func dlqTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(deadletter.TimestampLayout)
}

func dlqOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// dlqRecordJSON is a dead letter as `list -json` and `show -json` print it.
type dlqRecordJSON struct {
	Topic      string            `json:"topic"`
	Partition  int32             `json:"partition"`
	Offset     int64             `json:"offset"`
	Timestamp  string            `json:"timestamp"`
	Key        string            `json:"key"`
	ValueBytes int               `json:"valueBytes"`
	Headers    map[string]string `json:"headers"`
	// HeaderList keeps order and repeated names (show only).
	HeaderList  []dlqHeaderJSON        `json:"headerList,omitempty"`
	Translation *translate.Explanation `json:"translation,omitempty"`
}

type dlqHeaderJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func dlqJSON(d deadletter.DeadLetter, withList bool) dlqRecordJSON {
	r := d.Record
	out := dlqRecordJSON{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Timestamp:  dlqTime(r.Timestamp),
		Key:        dlqPrintable(r.Key),
		ValueBytes: len(r.Value),
		Headers:    make(map[string]string, len(r.Headers)),
	}
	for _, h := range r.Headers {
		out.Headers[h.Key] = dlqPrintable(h.Value)
		if withList {
			out.HeaderList = append(out.HeaderList, dlqHeaderJSON{h.Key, dlqPrintable(h.Value)})
		}
	}
	return out
}

// dlqPrintable shows bytes as text when they are UTF-8, else as hex.
func dlqPrintable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("hex:%x", b)
}
