package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/dlq"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

const dlqUsage = `Usage: bridge dlq <list|show|replay> -config FILE [flags]

Reads the dead-letter topics directly, partition by partition, from their
start to the end offsets seen when the command starts; it never joins or
disturbs the bridge's consumer group. The dead-letter topics are the
config's kafka.dead_letter_topic template applied to kafka.topics, or
-source SOURCE_TOPIC's, or -topic DLQ_TOPIC.

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

// dlqFlags are the flags list, show and replay share.
type dlqFlags struct {
	fs         *flag.FlagSet
	configPath string
	topic      string
	source     string
}

func newDLQFlags(name, usage string, env commandEnv) *dlqFlags {
	f := &dlqFlags{fs: flag.NewFlagSet("dlq "+name, flag.ContinueOnError)}
	f.fs.SetOutput(env.stderr)
	f.fs.Usage = func() {
		fmt.Fprint(env.stderr, usage)
		f.fs.PrintDefaults()
	}
	f.fs.StringVar(&f.configPath, "config", "config.yaml", "the bridge's configuration file (brokers, dead-letter template, schemas, routing, SNS)")
	f.fs.StringVar(&f.topic, "topic", "", "dead-letter topic to read (default: the template applied to every source topic)")
	f.fs.StringVar(&f.source, "source", "", "read the dead-letter topic of this source topic")
	return f
}

// parse parses args; a help request returns flag.ErrHelp unwrapped.
func (f *dlqFlags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, f.fs.Arg(0))
	}
	if f.topic != "" && f.source != "" {
		return fmt.Errorf("%w: give -topic or -source, not both", errUsage)
	}
	return nil
}

// settings loads and validates the config, as one line.
func (f *dlqFlags) settings(env commandEnv) (settings, error) {
	s, err := loadSettings(f.configPath, env.getenv, env.environ)
	if err != nil {
		return s, fmt.Errorf("config %s: %s", f.configPath, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return s, nil
}

// topics resolves the dead-letter topics to read.
// load reads the configuration and resolves the dead-letter topics the
// command reads: what every dlq subcommand does first.
func (f *dlqFlags) load(env commandEnv) (settings, []string, error) {
	s, err := f.settings(env)
	if err != nil {
		return s, nil, err
	}
	topics, err := f.topics(s)
	return s, topics, err
}

func (f *dlqFlags) topics(s settings) ([]string, error) {
	if f.topic != "" {
		return []string{f.topic}, nil
	}
	template := s.Kafka.DeadLetterTopic
	if template == "" {
		template = deadletter.DefaultTopic
	}
	if f.source != "" {
		return []string{strings.ReplaceAll(template, "{topic}", f.source)}, nil
	}
	if s.Kafka.TopicRegex {
		return nil, fmt.Errorf("%w: kafka.topics are regular expressions; name the dead-letter topic with -topic or the source topic with -source", errUsage)
	}
	var out []string
	for _, t := range s.Kafka.Topics {
		if dl := strings.ReplaceAll(template, "{topic}", t); !slices.Contains(out, dl) {
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
	fs.StringVar(&ff.reason, "reason", "", "only these bridge.error.reason values, comma-separated (undecodable, bad_magic, unknown_schema, schema_invalid, missing_field, unroutable, too_large, sns_rejected)")
	fs.StringVar(&ff.eventType, "event-type", "", "only event types matching this glob (ticket:*, *:comment:*)")
	fs.StringVar(&ff.org, "org", "", "only this organization id")
	fs.IntVar(&ff.sourcePartition, "source-partition", -1, "only dead letters from this source partition")
	fs.StringVar(&ff.since, "since", "", "only dead letters that failed at or after this time: RFC 3339, or a duration before now (2h)")
	fs.StringVar(&ff.until, "until", "", "only dead letters that failed before this time: RFC 3339, or a duration before now")
	fs.IntVar(&ff.limit, "limit", 0, "stop after this many selected dead letters (0: no limit)")
}

func (ff *dlqFilterFlags) filter(now time.Time) (dlq.Filter, error) {
	f := dlq.Filter{Reasons: dlq.ParseReasons(ff.reason), EventType: ff.eventType, OrgID: ff.org}
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

// newDLQReader builds a Reader with the bridge's Kafka settings.
func newDLQReader(s settings) (*dlq.Reader, error) {
	opts, err := dlqKafkaOpts(s)
	if err != nil {
		return nil, err
	}
	return dlq.NewReader(opts...)
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

// ---- list ----

const dlqListUsage = `Usage: bridge dlq list -config FILE [-topic DLQ_TOPIC | -source SOURCE_TOPIC] [filters] [-json | -summary]

Lists dead letters, one line each: dead-letter position (topic/partition@offset,
for 'bridge dlq show'), failed-at time, reason, event type, org id, source
topic/partition@offset, SNS code. Reads up to the end offsets seen at start,
then stops; the bridge's consumer group is not touched.

Flags:
`

func runDLQList(ctx context.Context, args []string, env commandEnv) error {
	f := newDLQFlags("list", dlqListUsage, env)
	var ff dlqFilterFlags
	ff.register(f.fs)
	asJSON := f.fs.Bool("json", false, "one JSON object per line, headers by name")
	summary := f.fs.Bool("summary", false, "print counts by reason and by event type instead of the records")
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	filter, err := ff.filter(time.Now())
	if err != nil {
		return err
	}
	s, topics, err := f.load(env)
	if err != nil {
		return err
	}
	r, err := newDLQReader(s)
	if err != nil {
		return err
	}
	defer r.Close()
	bounds, err := r.Bounds(ctx, topics...)
	if err != nil {
		return err
	}

	var sum dlq.Summary
	enc := json.NewEncoder(env.stdout)
	enc.SetEscapeHTML(false)
	if !*asJSON && !*summary {
		fmt.Fprintf(env.stdout, dlqListFormat, "DEAD LETTER", "FAILED AT", "REASON", "EVENT TYPE", "ORG", "SOURCE", "SNS CODE")
	}
	n := 0
	errLimit := errors.New("limit reached")
	err = r.Read(ctx, bounds, func(d deadletter.DeadLetter) error {
		if !filter.Match(d) {
			return nil
		}
		n++
		switch {
		case *summary:
			sum.Add(d)
		case *asJSON:
			if err := enc.Encode(dlqJSON(d, false)); err != nil {
				return err
			}
		default:
			if _, err := fmt.Fprintf(env.stdout, dlqListFormat, d.Position(), dlqTime(d.FailedAt), dlqOrDash(d.Reason),
				dlqOrDash(d.EventType), dlqOrDash(d.OrgID), d.Source(), dlqOrDash(d.SNSCode)); err != nil {
				return err
			}
		}
		if ff.limit > 0 && n >= ff.limit {
			return errLimit
		}
		return nil
	})
	if err != nil && !errors.Is(err, errLimit) {
		return err
	}
	if *summary {
		if *asJSON {
			return enc.Encode(sum)
		}
		return sum.WriteText(env.stdout)
	}
	return nil
}

const dlqListFormat = "%-26s  %-24s  %-14s  %-26s  %-26s  %-24s  %s\n"

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
	HeaderList  []dlqHeaderJSON `json:"headerList,omitempty"`
	Translation *translation    `json:"translation,omitempty"`
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

// ---- show ----

const dlqShowUsage = `Usage: bridge dlq show -config FILE -partition P -offset O [-topic DLQ_TOPIC | -source SOURCE_TOPIC] [-json]

Shows one dead letter in full: key, timestamp, every header, and what the
bridge makes of its value now (as 'bridge translate' shows it, with the
config's schemas and routing): the SNS message, or the permanent error.

Flags:
`

func runDLQShow(ctx context.Context, args []string, env commandEnv) error {
	f := newDLQFlags("show", dlqShowUsage, env)
	partition := f.fs.Int("partition", -1, "partition of the dead-letter topic (required)")
	offset := f.fs.Int64("offset", -1, "offset in that partition (required)")
	asJSON := f.fs.Bool("json", false, "print one JSON object")
	maxSize := f.fs.Int("max-message-size", sns.DefaultMaxMessageSize, "the target topic's MaximumMessageSize in bytes, for the translation")
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *partition < 0 || *offset < 0 {
		return fmt.Errorf("%w: dlq show needs -partition and -offset (as 'bridge dlq list' prints them: topic/partition@offset)", errUsage)
	}
	s, topics, err := f.load(env)
	if err != nil {
		return err
	}
	if len(topics) != 1 {
		return fmt.Errorf("%w: the config has %d dead-letter topics (%s); choose one with -topic", errUsage, len(topics), strings.Join(topics, ", "))
	}
	r, err := newDLQReader(s)
	if err != nil {
		return err
	}
	defer r.Close()
	d, err := r.Get(ctx, topics[0], int32(*partition), *offset)
	if err != nil {
		return err
	}
	var tr translation
	if tt, err := newToolTranslator(s, *maxSize); err != nil {
		tr.Error = &translationError{Class: "unknown", Reason: "config", Message: err.Error()}
	} else {
		tr = tt.explain(ctx, d.SourceRecord())
	}
	if *asJSON {
		out := dlqJSON(d, true)
		out.Translation = &tr
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	return dlqWriteDeadLetter(env.stdout, d, tr)
}

// dlqWriteDeadLetter prints a dead letter for people.
func dlqWriteDeadLetter(w io.Writer, d deadletter.DeadLetter, tr translation) error {
	r := d.Record
	fmt.Fprintf(w, "dead letter  %s\n", d.Position())
	fmt.Fprintf(w, "timestamp    %s\n", dlqTime(r.Timestamp))
	fmt.Fprintf(w, "key          %s\n", dlqPrintable(r.Key))
	fmt.Fprintf(w, "value        %d bytes\n", len(r.Value))
	fmt.Fprintf(w, "\nheaders:\n")
	width := 0
	for _, h := range r.Headers {
		width = max(width, len(h.Key))
	}
	for _, h := range r.Headers {
		fmt.Fprintf(w, "  %-*s  %s\n", width, h.Key, dlqPrintable(h.Value))
	}
	if tr.OK {
		fmt.Fprintf(w, "\nnow: publishable to %s (this is what 'bridge translate' shows):\n", tr.TopicARN)
	} else if tr.Error != nil {
		same := ""
		if tr.Error.Reason == d.Reason {
			same = ", the same reason it was dead-lettered for"
		}
		fmt.Fprintf(w, "\nnow: still fails as %s%s (this is what 'bridge translate' shows):\n", tr.Error.Reason, same)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(tr)
}

// ---- replay ----

const dlqReplayUsage = `Usage: bridge dlq replay -config FILE (-to-source | -to-sns) [-topic T | -source S] [filters]
                         [-dry-run] [-force] [-checkpoint FILE] [-restart]

Sends the selected dead letters again:
  -to-source  back to their source topic (bridge.source.topic), source
              partition kept, with the original key, value, headers and
              timestamp, the bridge.* headers removed and bridge.replay.count
              set; idempotent producer, acks=all. The bridge then processes
              them after what is already in the partition.
  -to-sns     straight to SNS through the bridge's pipeline (decode, map,
              route, publish), for when the source topic has moved on; per
              organization (record key) order is kept.
Each dead letter is translated first; one that would fail the same way it
was dead-lettered for (still undecodable, unknown schema, unroutable, ...) is
skipped and counted, unless -force (-to-source only: -to-sns cannot publish a
record that does not translate).

Progress goes to stderr. Ctrl-C stops after what is in flight is
acknowledged. The checkpoint (-checkpoint; default under the user's cache
directory, one file per destination, cluster and dead-letter topics, path
printed at start) records every dead letter the destination acknowledged,
whatever the filters, and per set of filters how far the replay read and
which records it skipped or could not send. It is fsync'd every 200ms and on
exit. Running the same command again resumes where it stopped; after a
completed replay it sends only dead letters that arrived since, or skipped
ones that now translate; a replay with other filters never sends a record an
earlier one sent. -restart ignores the checkpoint. -dry-run says per record
what would happen and changes nothing.

Flags:
`

func runDLQReplay(ctx context.Context, args []string, env commandEnv) error {
	f := newDLQFlags("replay", dlqReplayUsage, env)
	var ff dlqFilterFlags
	ff.register(f.fs)
	toSource := f.fs.Bool("to-source", false, "produce the dead letters back to their source topic")
	toSNS := f.fs.Bool("to-sns", false, "publish the dead letters straight to SNS")
	dryRun := f.fs.Bool("dry-run", false, "show per record what would happen; send nothing, write no checkpoint")
	force := f.fs.Bool("force", false, "with -to-source, also send records that would fail the same way again")
	checkpoint := f.fs.String("checkpoint", "", "checkpoint file (default: under the user's cache directory, printed at start)")
	restart := f.fs.Bool("restart", false, "ignore the checkpoint and replay from the start of the dead-letter topic")
	maxSize := f.fs.Int("max-message-size", sns.DefaultMaxMessageSize, "with -to-source, the SNS size limit the translation check assumes (-to-sns reads each topic's)")
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *toSource == *toSNS {
		return fmt.Errorf("%w: dlq replay needs exactly one of -to-source and -to-sns", errUsage)
	}
	if *force && *toSNS {
		return fmt.Errorf("%w: -force applies to -to-source only: a record that does not translate cannot be published to SNS", errUsage)
	}
	filter, err := ff.filter(time.Now())
	if err != nil {
		return err
	}
	s, topics, err := f.load(env)
	if err != nil {
		return err
	}
	dest := "to-source"
	if *toSNS {
		dest = "to-sns"
	}
	target := fmt.Sprintf("%s brokers=%s topics=%s", dest, strings.Join(s.Kafka.Brokers, ","), strings.Join(topics, ","))
	selection := cmp.Or(ff.describe(), "all")
	cpPath := *checkpoint
	if cpPath == "" {
		cpPath = dlq.DefaultCheckpointPath(topics, target)
	}

	r, err := newDLQReader(s)
	if err != nil {
		return err
	}
	defer r.Close()

	opts := dlq.Options{
		Topics: topics, Filter: filter, Limit: ff.limit,
		Force: *force, DryRun: *dryRun, Restart: *restart,
		CheckpointPath: cpPath, Target: target, Selection: selection,
		Report:   env.stdout,
		Progress: &dlq.Progress{W: env.stderr, Terminal: dlqIsTerminal(env.stderr)},
	}
	var to string
	if *toSource {
		to = "their source topics"
		tt, err := newToolTranslator(s, *maxSize)
		if err != nil {
			return err
		}
		opts.Check = func(ctx context.Context, d deadletter.DeadLetter) error {
			_, err := tt.tr.Translate(ctx, d.SourceRecord())
			return err
		}
		if !*dryRun {
			if err := consumer.Ping(ctx, s.consumerConfig(), startupTimeout); err != nil {
				return dlqInterrupted(ctx, fmt.Errorf("kafka.brokers %v: %w", s.Kafka.Brokers, err))
			}
			d, err := newDLQSourceDestination(s)
			if err != nil {
				return err
			}
			opts.Destination = d
		}
	} else {
		to = "SNS"
		d, err := newDLQSNSDestination(ctx, s, *dryRun)
		if err != nil {
			return dlqInterrupted(ctx, err)
		}
		opts.Check = d.check
		opts.Translated, opts.OrderByKey = true, true
		if !*dryRun {
			opts.Destination = d
		}
	}

	if *dryRun {
		fmt.Fprintf(env.stderr, "dry run: replaying %s to %s; nothing is sent, checkpoint %s is read but not written\n", strings.Join(topics, ", "), to, cpPath)
	} else {
		fmt.Fprintf(env.stderr, "replaying %s to %s; checkpoint %s\n", strings.Join(topics, ", "), to, cpPath)
	}
	res, err := dlq.Replay(ctx, r, opts)
	return dlqReportReplay(env.stdout, res, err, *dryRun, to, cpPath)
}

// dlqInterrupted turns an error caused by Ctrl-C before the replay started
// into a message that says nothing was sent.
func dlqInterrupted(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return errors.New("replay interrupted before it started; nothing was sent")
	}
	return err
}

// dlqReportReplay prints the outcome in one line and turns it into the
// command's error.
func dlqReportReplay(w io.Writer, res dlq.Result, err error, dryRun bool, target, cpPath string) error {
	skipped := ""
	if res.Skipped > 0 {
		var by []string
		for _, c := range dlq.Sorted(dlqIntCounts(res.SkippedBy)) {
			by = append(by, fmt.Sprintf("%s %d", c.Name, c.Count))
		}
		skipped = " (" + strings.Join(by, ", ") + ")"
	}
	counts := fmt.Sprintf("%d replayed to %s, %d skipped%s, %d failed", res.Replayed, target, res.Skipped, skipped, res.Failed)
	if res.AlreadyReplayed > 0 {
		counts += fmt.Sprintf(", %d already replayed by an earlier run and not sent again", res.AlreadyReplayed)
	}
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(w, "replay interrupted: %s; run the same command again to resume (checkpoint %s)\n", counts, cpPath)
		return errors.New("replay interrupted")
	case errors.Is(err, dlq.ErrCheckpointMismatch):
		return err
	case err != nil:
		if res.Scanned > 0 && !dryRun {
			fmt.Fprintf(w, "replay stopped: %s; checkpoint %s\n", counts, cpPath)
		}
		return fmt.Errorf("replay stopped: %w", err)
	case dryRun:
		fmt.Fprintf(w, "dry run: %d of %d records selected; %d would be replayed to %s, %d would be skipped%s, %d were already replayed; nothing was sent\n",
			res.Selected, res.Scanned, res.Replayed, target, res.Skipped, skipped, res.AlreadyReplayed)
	case res.Total == 0 && res.Resumed:
		fmt.Fprintf(w, "nothing new to replay: checkpoint %s covers every dead letter (give -restart to replay them again)\n", cpPath)
	case res.Limited:
		fmt.Fprintf(w, "replay stopped at -limit: %s; run the same command again to continue (checkpoint %s)\n", counts, cpPath)
	default:
		fmt.Fprintf(w, "replay complete: %s; checkpoint %s (running it again sends only new dead letters)\n", counts, cpPath)
	}
	if res.Failed > 0 && !dryRun {
		return fmt.Errorf("%d dead letters were rejected by %s (listed above); they stay in the dead-letter topic", res.Failed, target)
	}
	return nil
}

func dlqIntCounts(m map[string]int64) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = int(v)
	}
	return out
}

// dlqIsTerminal reports whether w is a character device (a terminal).
func dlqIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// dlqSourceDestination produces replayed dead letters to their source topics
// with an idempotent producer, acks=all, on the source partition.
type dlqSourceDestination struct {
	cl *kgo.Client
}

func newDLQSourceDestination(s settings) (*dlqSourceDestination, error) {
	opts, err := dlqKafkaOpts(s)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(dlqSourcePartitioner()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &dlqSourceDestination{cl: cl}, nil
}

// dlqSourcePartitioner keeps a replayed record on its source partition, where
// the rest of its key's events are, and falls back to Kafka's key hash when
// the topic no longer has that partition.
func dlqSourcePartitioner() kgo.Partitioner {
	byKey := kgo.StickyKeyPartitioner(nil)
	return kgo.BasicConsistentPartitioner(func(topic string) func(*kgo.Record, int) int {
		hash := byKey.ForTopic(topic)
		return func(r *kgo.Record, n int) int {
			if p := int(r.Partition); p >= 0 && p < n {
				return p
			}
			return hash.Partition(r, n)
		}
	})
}

func (s *dlqSourceDestination) Send(ctx context.Context, d deadletter.DeadLetter, done func(error)) {
	rec, err := d.ReplayRecord()
	if err != nil {
		done(failure.New(failure.Permanent, "no_source", err))
		return
	}
	s.cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
		if err != nil && dlqRecordRejected(err) {
			err = failure.New(failure.Permanent, "kafka_rejected", fmt.Errorf("producing to %s: %w", rec.Topic, err))
		}
		done(err)
	})
}

// dlqRecordRejected reports produce errors that belong to the record, not to
// the cluster: the replay counts the record as failed and goes on.
func dlqRecordRejected(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) ||
		errors.Is(err, kerr.InvalidRecord) || errors.Is(err, kerr.InvalidTimestamp) || errors.Is(err, kerr.CorruptMessage)
}

func (s *dlqSourceDestination) Close(ctx context.Context) error {
	defer s.cl.Close()
	return s.cl.Flush(ctx)
}

// dlqSNSDestination publishes replayed dead letters through the bridge's own
// pipeline: decoder and mapper with the config's schemas and routing, the
// routed topics checked with sns.Topics, and sns.Publisher.
type dlqSNSDestination struct {
	tr  *translator
	pub *sns.Publisher
}

func newDLQSNSDestination(ctx context.Context, s settings, dryRun bool) (*dlqSNSDestination, error) {
	src, err := s.schemaSource()
	if err != nil {
		return nil, err
	}
	client, topics, err := checkTopics(ctx, s)
	if err != nil {
		return nil, err
	}
	tr, err := buildTranslator(s, src, topics, nil, nil)
	if err != nil {
		return nil, err
	}
	d := &dlqSNSDestination{tr: tr}
	if dryRun {
		return d, nil
	}
	pc := s.publisherConfig()
	pc.Topics = topics
	if d.pub, err = sns.NewPublisher(client, pc); err != nil {
		return nil, fmt.Errorf("sns: %w", err)
	}
	return d, nil
}

func (s *dlqSNSDestination) check(ctx context.Context, d deadletter.DeadLetter) error {
	_, err := s.tr.Translate(ctx, d.SourceRecord())
	return err
}

func (s *dlqSNSDestination) Send(ctx context.Context, d deadletter.DeadLetter, done func(error)) {
	out, err := s.tr.Translate(ctx, d.SourceRecord())
	if err != nil {
		done(err)
		return
	}
	s.pub.Publish(ctx, out.Entry, func(r sns.Result) { done(r.Err) })
}

func (s *dlqSNSDestination) Close(ctx context.Context) error {
	if s.pub == nil {
		return nil
	}
	return s.pub.Close(ctx)
}
