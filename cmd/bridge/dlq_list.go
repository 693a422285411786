package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/thena-ai/kafka-sns-bridge/internal/deadletter"
	"github.com/thena-ai/kafka-sns-bridge/internal/dlq"
)

const dlqListUsage = `Usage: bridge dlq list [-config FILE | -brokers HOST:PORT,...] [-topic DLQ_TOPIC | -source SOURCE_TOPIC] [filters] [-json | -summary]

Lists dead letters, one line each: dead-letter position (topic/partition@offset,
for 'bridge dlq show'), failed-at time, reason, event type, org id, source
topic/partition@offset, SNS code. Reads up to the end offsets seen at start,
then stops; the bridge's consumer group is not touched.

Flags:
`

func runDLQList(ctx context.Context, args []string, env commandEnv) error {
	f := newDLQFlags("list", dlqListUsage, env, true)
	asJSON := f.fs.Bool("json", false, "one JSON object per line, headers by name")
	summary := f.fs.Bool("summary", false, "print counts by reason and by event type instead of the records")
	if err := f.parse(args); err != nil {
		return helpIsDone(err)
	}
	ss, err := f.open(env)
	if err != nil {
		return err
	}
	defer ss.reader.Close()
	bounds, err := ss.reader.Bounds(ctx, ss.topics...)
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
	err = ss.reader.Read(ctx, bounds, func(d deadletter.DeadLetter) error {
		if !ss.filter.Match(d) {
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
		if f.sel.limit > 0 && n >= f.sel.limit {
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
