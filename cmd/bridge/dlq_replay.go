package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
	"github.com/thena-ai/kafka-sns-bridge/internal/dlq"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

const dlqReplayUsage = `Usage: bridge dlq replay -config FILE (-to-source | -to-sns) [-topic T | -source S] [filters]
                         [-dry-run] [-force] [-checkpoint FILE | -checkpoint-dir DIR] [-restart]

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
acknowledged. The checkpoint (-checkpoint FILE; by default one file per
destination, cluster and dead-letter topics in -checkpoint-dir, else in the
user's cache directory or, where that cannot be written, as in a pod with a
read-only root file system, the temporary directory; path printed at start)
records every dead letter the destination acknowledged,
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
	f := newDLQFlags("replay", dlqReplayUsage, env, true)
	toSource := f.fs.Bool("to-source", false, "produce the dead letters back to their source topic")
	toSNS := f.fs.Bool("to-sns", false, "publish the dead letters straight to SNS")
	dryRun := f.fs.Bool("dry-run", false, "show per record what would happen; send nothing, write no checkpoint")
	force := f.fs.Bool("force", false, "with -to-source, also send records that would fail the same way again")
	checkpoint := f.fs.String("checkpoint", "", "checkpoint file (default: a file named by destination and topics in -checkpoint-dir, printed at start)")
	checkpointDir := f.fs.String("checkpoint-dir", "", "directory of the default checkpoint file (default: the user's cache directory, or the temporary directory where that is not writable)")
	restart := f.fs.Bool("restart", false, "ignore the checkpoint and replay from the start of the dead-letter topic")
	maxSize := f.fs.Int("max-message-size", sns.DefaultMaxMessageSize, "with -to-source, the SNS size limit the translation check assumes (-to-sns reads each topic's)")
	if err := f.parse(args); err != nil {
		return helpIsDone(err)
	}
	if *toSource == *toSNS {
		return fmt.Errorf("%w: dlq replay needs exactly one of -to-source and -to-sns", errUsage)
	}
	if *checkpoint != "" && *checkpointDir != "" {
		return fmt.Errorf("%w: give -checkpoint FILE or -checkpoint-dir DIR, not both", errUsage)
	}
	if *force && *toSNS {
		return fmt.Errorf("%w: -force applies to -to-source only: a record that does not translate cannot be published to SNS", errUsage)
	}
	ss, err := f.open(env)
	if err != nil {
		return err
	}
	defer ss.reader.Close()
	if !ss.configured {
		return fmt.Errorf("%w: dlq replay needs the bridge's configuration (-config FILE): it translates each dead letter with its schemas and routing first", errUsage)
	}
	s, topics := ss.settings, ss.topics
	dest := "to-source"
	if *toSNS {
		dest = "to-sns"
	}
	target := fmt.Sprintf("%s brokers=%s topics=%s", dest, strings.Join(s.Kafka.Brokers, ","), strings.Join(topics, ","))
	cpPath, err := checkpointPath(*checkpoint, *checkpointDir, topics, target, *dryRun)
	if err != nil {
		return err
	}

	opts := dlq.Options{
		Topics: topics, Filter: ss.filter, Limit: f.sel.limit,
		Force: *force, DryRun: *dryRun, Restart: *restart,
		CheckpointPath: cpPath, Target: target, Selection: cmp.Or(f.sel.describe(), "all"),
		Report:   env.stdout,
		Progress: &dlq.Progress{W: env.stderr, Terminal: dlqIsTerminal(env.stderr)},
	}
	to := "their source topics"
	if *toSource {
		err = replayToSource(ctx, s, &opts, *maxSize)
	} else {
		to = "SNS"
		err = replayToSNS(ctx, s, &opts)
	}
	if err != nil {
		return dlqInterrupted(ctx, err)
	}

	if *dryRun {
		fmt.Fprintf(env.stderr, "dry run: replaying %s to %s; nothing is sent, checkpoint %s is read but not written\n", strings.Join(topics, ", "), to, cpPath)
	} else {
		fmt.Fprintf(env.stderr, "replaying %s to %s; checkpoint %s\n", strings.Join(topics, ", "), to, cpPath)
	}
	res, err := dlq.Replay(ctx, ss.reader, opts)
	return dlqReportReplay(env.stdout, res, err, *dryRun, to, cpPath)
}

// replayToSource sets the check and (unless a dry run) the destination of a
// replay back to the source topics: the translation check of the operator
// tools, and a producer with the config's Kafka settings once the brokers
// answer.
func replayToSource(ctx context.Context, s settings, opts *dlq.Options, maxSize int) error {
	tr, err := toolTranslator(s, maxSize)
	if err != nil {
		return err
	}
	opts.Check = dlq.CheckTranslation(tr)
	if opts.DryRun {
		return nil
	}
	if err := consumer.Ping(ctx, s.consumerConfig(), startupTimeout); err != nil {
		return fmt.Errorf("kafka.brokers %v: %w", s.Kafka.Brokers, err)
	}
	kopts, err := dlqKafkaOpts(s)
	if err != nil {
		return err
	}
	opts.Destination, err = dlq.NewKafkaDestination(kopts...)
	return err
}

// replayToSNS sets the check and (unless a dry run) the destination of a
// replay straight to SNS: the bridge's translator on the routed topics as
// sns.Topics reads them, and sns.Publisher with the config's settings.
func replayToSNS(ctx context.Context, s settings, opts *dlq.Options) error {
	src, err := s.schemaSource()
	if err != nil {
		return err
	}
	client, topics, err := checkTopics(ctx, s)
	if err != nil {
		return err
	}
	// The check translates without storing (a dry run writes nothing);
	// what is sent stores each offloaded event first, as bridge run does.
	check, err := s.translator(src, topics, nil, translate.WithPayloadStore(checkOnly{}))
	if err != nil {
		return err
	}
	opts.Check = dlq.CheckTranslation(check)
	opts.Translated, opts.OrderByKey = true, true
	if opts.DryRun {
		return nil
	}
	if err := checkBuckets(ctx, s); err != nil {
		return err
	}
	storeOpts, err := s.payloadStore(ctx, nil)
	if err != nil {
		return err
	}
	tr, err := s.translator(src, topics, nil, storeOpts...)
	if err != nil {
		return err
	}
	pc := s.publisherConfig()
	pc.Topics = topics
	pub, err := sns.NewPublisher(client, pc)
	if err != nil {
		return fmt.Errorf("sns: %w", err)
	}
	opts.Destination = dlq.NewSNSDestination(tr, pub)
	return nil
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
