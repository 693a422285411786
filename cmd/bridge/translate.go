package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
	"github.com/thena-ai/kafka-sns-bridge/sns"
)

// headerFlags collects repeated -header key=value flags.
type headerFlags []kgo.RecordHeader

func (h *headerFlags) String() string { return fmt.Sprint(len(*h), " headers") }

func (h *headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	*h = append(*h, kgo.RecordHeader{Key: k, Value: []byte(val)})
	return nil
}

func runTranslate(ctx context.Context, args []string, env commandEnv) error {
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprint(env.stderr, `Usage: bridge translate [flags] [FILE]

Reads one Kafka record value (FILE, or standard input) and prints, as JSON,
what the bridge would publish to SNS: topic ARN, body, attributes, FIFO ids,
size and truncated fields, or the permanent error and its reason.
Exit status: 0 translated, 1 the record cannot be published, 2 bad usage.

Flags:
`)
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "config.yaml", "configuration file (schemas and routing are read from it)")
	localDir := fs.String("schemas", "", "directory of .avsc files; overrides the config's schema source")
	registryURL := fs.String("registry", "", "schema registry URL; overrides the config's schema source")
	encoding := fs.String("encoding", "raw", "encoding of the input: raw, base64 or hex")
	key := fs.String("key", "", "the record key (the organization id by convention)")
	topic := fs.String("topic", "", "the source topic (used for generated custom-object event ids)")
	partition := fs.Int("partition", 0, "the source partition")
	offset := fs.Int64("offset", 0, "the source offset")
	maxSize := fs.Int("max-message-size", sns.DefaultMaxMessageSize, "the target topic's MaximumMessageSize in bytes")
	var headers headerFlags
	fs.Var(&headers, "header", "a record header as key=value (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return helpIsDone(err)
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("%w: translate reads one record, got %d files", errUsage, fs.NArg())
	}

	s, err := loadSettingsForTool(*configPath, *localDir, *registryURL, env)
	if err != nil {
		return err
	}
	in := env.stdin
	if fs.NArg() == 1 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	value, err := readValue(in, *encoding)
	if err != nil {
		return err
	}
	tr, err := toolTranslator(s, *maxSize)
	if err != nil {
		return err
	}
	rec := &kgo.Record{Topic: *topic, Partition: int32(*partition), Offset: *offset, Value: value, Headers: headers}
	if *key != "" {
		rec.Key = []byte(*key)
	}
	out := tr.Explain(ctx, rec, *maxSize)
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	if !out.OK {
		return fmt.Errorf("record cannot be published: %s: %s", out.Error.Reason, out.Error.Message)
	}
	return nil
}

// readValue reads all of r and decodes it per encoding.
func readValue(r io.Reader, encoding string) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the record: %w", err)
	}
	switch encoding {
	case "raw":
		return raw, nil
	case "base64":
		v, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(raw)))
		if err != nil {
			return nil, fmt.Errorf("input is not base64: %w", err)
		}
		return v, nil
	case "hex":
		v, err := hex.DecodeString(string(bytes.TrimSpace(raw)))
		if err != nil {
			return nil, fmt.Errorf("input is not hex: %w", err)
		}
		return v, nil
	default:
		return nil, fmt.Errorf("%w: -encoding must be raw, base64 or hex, not %q", errUsage, encoding)
	}
}

// loadSettingsForTool loads the config for an operator tool: the schema
// source flags replace the file's, and the file may be absent when a schema
// flag is given (routing then follows the documented topics, read from
// AWS_SNS_TICKET_TOPIC_ARN and AWS_SNS_CUSTOM_OBJECT_TOPIC_ARN).
func loadSettingsForTool(path, localDir, registryURL string, env commandEnv) (settings, error) {
	s := defaultSettings()
	_, statErr := os.Stat(path)
	if statErr != nil && localDir == "" && registryURL == "" {
		return s, fmt.Errorf("%w: no config file at %s: give -config FILE, or a schema source with -schemas DIR or -registry URL", errUsage, path)
	}
	if statErr == nil {
		if err := readConfigFile(path, env.getenv, env.environ, &s); err != nil {
			return s, err
		}
	} else {
		ticket := env.getenv("AWS_SNS_TICKET_TOPIC_ARN")
		custom := env.getenv("AWS_SNS_CUSTOM_OBJECT_TOPIC_ARN")
		if ticket == "" {
			ticket = "arn:aws:sns:us-east-1:123456789012:thena-events"
		}
		if custom == "" {
			custom = "arn:aws:sns:us-east-1:123456789012:thena-custom-object-events"
		}
		s.Routing = mapping.Config{Routes: mapping.StandardRoutes(ticket, custom)}
	}
	if localDir != "" || registryURL != "" {
		s.Schemas.LocalDir, s.Schemas.RegistryURL = localDir, registryURL
	}
	if (s.Schemas.RegistryURL == "") == (s.Schemas.LocalDir == "") {
		return s, fmt.Errorf("%w: give one schema source: -schemas DIR or -registry URL (or schemas.local_dir / schemas.registry_url in the config)", errUsage)
	}
	if err := s.Routing.Validate(); err != nil {
		return s, fmt.Errorf("routing: %w", err)
	}
	return s, nil
}

// toolTranslator builds the Translator of the operator tools, which have no
// SNS access: every routed topic is assumed to have maxSize as its size limit
// and to be FIFO when its ARN says so.
func toolTranslator(s settings, maxSize int) (*translate.Translator, error) {
	src, err := s.schemaSource()
	if err != nil {
		return nil, err
	}
	return s.translator(src, translate.AssumedTopics(s.Routing.TopicARNs(), maxSize), nil, translate.WithPayloadStore(checkOnly{}))
}

// isUnknownSchema reports whether err says a schema id does not exist.
func isUnknownSchema(err error) bool {
	return failure.ReasonOf(err) == failure.ReasonUnknownSchema
}
