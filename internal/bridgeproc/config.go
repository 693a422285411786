package bridgeproc

import (
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// Config is a bridge configuration file as nested maps, keyed as config.yaml
// spells its keys; what it leaves out keeps the bridge's defaults.
type Config map[string]any

// Base is what every bridge a test or the benchmark runs is told: where
// Kafka, the schemas and SNS are, and where to route what.
type Base struct {
	Brokers []string
	GroupID string
	Topics  []string
	// SchemasDir is a directory of .avsc files (schemas.local_dir);
	// RegistryURL a schema registry (schemas.registry_url). Set one.
	SchemasDir, RegistryURL string
	// SNSEndpoint is the SNS API (moto, the double); the region is us-east-1.
	SNSEndpoint string
	Routes      []mapping.Route
}

// NewConfig returns the configuration b describes.
func NewConfig(b Base) Config {
	schemas := map[string]any{"local_dir": b.SchemasDir}
	if b.RegistryURL != "" {
		schemas = map[string]any{"registry_url": b.RegistryURL, "local_dir": ""}
	}
	return Config{
		"kafka":   map[string]any{"brokers": b.Brokers, "group_id": b.GroupID, "topics": b.Topics},
		"schemas": schemas,
		"sns":     map[string]any{"region": Region, "endpoint": b.SNSEndpoint},
		"routing": map[string]any{"routes": b.Routes},
	}
}

// Set sets the key at a dotted path ("kafka.max_buffered_bytes"), making the
// sections on the way, and returns c.
func (c Config) Set(path string, v any) Config {
	keys := strings.Split(path, ".")
	m := map[string]any(c)
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
	return c
}

// Get returns the value at a dotted path, nil when it is not set.
func (c Config) Get(path string) any {
	v, _ := c.lookup(path)
	return v
}

// Has reports whether the dotted path is set, to any value (null included):
// whether a configuration file has the key.
func (c Config) Has(path string) bool {
	_, ok := c.lookup(path)
	return ok
}

func (c Config) lookup(path string) (any, bool) {
	keys := strings.Split(path, ".")
	m := map[string]any(c)
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	v, ok := m[keys[len(keys)-1]]
	return v, ok
}

// WriteFile writes c as YAML to path, readable by its owner only.
func (c Config) WriteFile(path string) error {
	b, err := yaml.Marshal(map[string]any(c))
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
