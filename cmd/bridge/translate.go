package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
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

// translation is what `bridge translate` prints: the SNS message one record
// would become, or why it cannot become one.
type translation struct {
	OK             bool              `json:"ok"`
	SchemaID       int               `json:"schemaId,omitempty"`
	EventID        string            `json:"eventId,omitempty"`
	EventType      string            `json:"eventType,omitempty"`
	OrgID          string            `json:"orgId,omitempty"`
	TopicARN       string            `json:"topicArn,omitempty"`
	FIFO           bool              `json:"fifo,omitempty"`
	GroupID        string            `json:"messageGroupId,omitempty"`
	DedupID        string            `json:"messageDeduplicationId,omitempty"`
	Size           int               `json:"size,omitempty"`
	MaxMessageSize int               `json:"maxMessageSize,omitempty"`
	Truncated      []string          `json:"truncatedFields,omitempty"`
	Attributes     []attribute       `json:"attributes,omitempty"`
	Body           json.RawMessage   `json:"body,omitempty"`
	Error          *translationError `json:"error,omitempty"`
}

// attribute is one SNS message attribute as the SNS API shows it.
type attribute struct {
	Name     string `json:"name"`
	DataType string `json:"dataType"`
	Value    string `json:"value"`
}

type translationError struct {
	Class   string `json:"class"`
	Reason  string `json:"reason"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
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
	tr, err := newToolTranslator(s, *maxSize)
	if err != nil {
		return err
	}
	rec := &kgo.Record{Topic: *topic, Partition: int32(*partition), Offset: *offset, Value: value, Headers: headers}
	if *key != "" {
		rec.Key = []byte(*key)
	}
	out := tr.explain(ctx, rec)
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

// toolTranslator decodes and maps records for the operator tools, without
// SNS access: each topic's FIFO-ness follows its ARN's .fifo suffix.
type toolTranslator struct {
	tr      *translator
	maxSize int
}

func newToolTranslator(s settings, maxSize int) (*toolTranslator, error) {
	src, err := s.schemaSource()
	if err != nil {
		return nil, err
	}
	topics := map[string]mapping.TopicInfo{}
	for _, arn := range s.Routing.TopicARNs() {
		topics[arn] = mapping.TopicInfo{FIFO: sns.IsFIFO(arn), MaxMessageSize: maxSize}
	}
	tr, err := buildTranslator(s, src, topics, nil, nil)
	if err != nil {
		return nil, err
	}
	return &toolTranslator{tr: tr, maxSize: maxSize}, nil
}

// explain translates rec and reports the outcome as a translation.
func (t *toolTranslator) explain(ctx context.Context, rec *kgo.Record) translation {
	var out translation
	if id, _, err := avro.ParseWire(rec.Value); err == nil {
		out.SchemaID = id
	}
	msg, ev, err := t.tr.translate(ctx, rec)
	if ev != nil {
		out.EventID, out.EventType, out.OrgID = ev.Header.EventID, ev.Header.EventType, ev.Header.OrgID
	}
	if err != nil {
		out.Error = &translationError{
			Class:   failure.ClassOf(err).String(),
			Reason:  failure.ReasonOf(err),
			Code:    failure.CodeOf(err),
			Message: err.Error(),
		}
		return out
	}
	out.OK = true
	out.EventID, out.EventType, out.OrgID = msg.EventID, msg.EventType, msg.OrgID
	out.TopicARN = msg.Entry.TopicARN
	out.FIFO = msg.Entry.GroupID != ""
	out.GroupID, out.DedupID = msg.Entry.GroupID, msg.Entry.DedupID
	out.Size, out.MaxMessageSize = msg.Entry.Size, t.maxSize
	out.Truncated = msg.Truncated
	for _, a := range msg.Entry.Attributes {
		out.Attributes = append(out.Attributes, attribute{Name: a.Name, DataType: "String", Value: a.Value})
	}
	out.Body = json.RawMessage(msg.Entry.Body)
	return out
}

// isUnknownSchema reports whether err says a schema id does not exist.
func isUnknownSchema(err error) bool {
	return failure.ReasonOf(err) == failure.ReasonUnknownSchema
}
