package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

const dlqShowUsage = `Usage: bridge dlq show [-config FILE | -brokers HOST:PORT,...] TOPIC/PARTITION@OFFSET [-json]
       bridge dlq show [-config FILE | -brokers HOST:PORT,...] -partition P -offset O [-topic DLQ_TOPIC | -source SOURCE_TOPIC] [-json]

Shows one dead letter in full: key, timestamp, every header, and what the
bridge makes of its value now (as 'bridge translate' shows it, with the
config's schemas and routing): the SNS message, or the permanent error.
The position is the first column of 'bridge dlq list'.

Flags:
`

func runDLQShow(ctx context.Context, args []string, env commandEnv) error {
	f := newDLQFlags("show", dlqShowUsage, env, false)
	f.args = 1
	partition := f.fs.Int("partition", -1, "partition of the dead-letter topic (required)")
	offset := f.fs.Int64("offset", -1, "offset in that partition (required)")
	asJSON := f.fs.Bool("json", false, "print one JSON object")
	maxSize := f.fs.Int("max-message-size", sns.DefaultMaxMessageSize, "the target topic's MaximumMessageSize in bytes, for the translation")
	if err := f.parse(args); err != nil {
		return helpIsDone(err)
	}
	if f.fs.NArg() == 1 {
		if err := f.position(f.fs.Arg(0), partition, offset); err != nil {
			return err
		}
	}
	if *partition < 0 || *offset < 0 {
		return fmt.Errorf("%w: dlq show needs a position, topic/partition@offset as 'bridge dlq list' prints it, or -partition and -offset", errUsage)
	}
	ss, err := f.open(env)
	if err != nil {
		return err
	}
	defer ss.reader.Close()
	if len(ss.topics) != 1 {
		return fmt.Errorf("%w: the config has %d dead-letter topics (%s); choose one with -topic", errUsage, len(ss.topics), strings.Join(ss.topics, ", "))
	}
	d, err := ss.reader.Get(ctx, ss.topics[0], int32(*partition), *offset)
	if err != nil {
		return err
	}
	var tr translate.Explanation
	if !ss.configured {
		tr.Error = &translate.Failure{Class: "unknown", Reason: "config", Message: "no configuration file: give -config FILE to see what its schemas and routing make of the record"}
	} else if tt, err := toolTranslator(ss.settings, *maxSize); err != nil {
		tr.Error = &translate.Failure{Class: "unknown", Reason: "config", Message: err.Error()}
	} else {
		tr = tt.Explain(ctx, d.SourceRecord(), *maxSize)
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

// position sets the topic, partition and offset flags from pos, the
// topic/partition@offset of 'bridge dlq list'; flags given as well must
// agree with it.
func (f *dlqFlags) position(pos string, partition *int, offset *int64) error {
	topic, p, o, err := deadletter.ParsePosition(pos)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case f.source != "":
		return fmt.Errorf("%w: the position %s names the dead-letter topic; leave out -source", errUsage, pos)
	case f.topic != "" && f.topic != topic,
		flagSet(f.fs, "partition") && *partition != int(p),
		flagSet(f.fs, "offset") && *offset != o:
		return fmt.Errorf("%w: the position %s and the -topic, -partition or -offset flags disagree; give one or the other", errUsage, pos)
	}
	f.topic, *partition, *offset = topic, int(p), o
	return nil
}

// dlqWriteDeadLetter prints a dead letter for people.
func dlqWriteDeadLetter(w io.Writer, d deadletter.DeadLetter, tr translate.Explanation) error {
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
