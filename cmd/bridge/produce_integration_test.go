//go:build integration

package main

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

// TestProduceFramesWithTheRealRegistrysIDs: `bridge produce -registry` against the stack's
// registry (Apicurio) and Kafka registers every schema under TOPIC-FULLNAME and writes records
// that a decoder reading the registry, as the bridge does with schemas.registry_url, decodes.
func TestProduceFramesWithTheRealRegistrysIDs(t *testing.T) {
	const events = 120
	topic := testenv.Topic(t, 3, nil)
	base := testenv.Registry(t)
	client := testenv.RegistryClient(t)
	src, err := avro.NewLocalSource(schemas.FS())
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, v := range src.Versions() {
		if v.Current {
			subjects = append(subjects, topic+"-"+v.FullName)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, s := range subjects {
			if _, err := client.DeleteSubject(ctx, s); err != nil {
				t.Errorf("deleting subject %s: %v", s, err)
			}
		}
	})

	stdout, stderr, err := runBridge(t, nil, nil, "produce", "-brokers", strings.Join(testenv.Kafka(t), ","),
		"-topic", topic, "-count", "120", "-rate", "0", "-registry", base)
	if err != nil {
		t.Fatalf("produce failed: %v\n%s%s", err, stdout, stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids := map[int]bool{}
	for _, s := range subjects {
		info, err := client.GetLatestSchemaInfo(ctx, s)
		if err != nil {
			t.Fatalf("subject %s: %v", s, err)
		}
		ids[info.ID] = true
	}

	reg, err := avro.NewRegistrySource(base)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avro.NewDecoder(reg, avro.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	cl := testenv.KafkaClient(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	read := 0
	for read < events {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", read, events)
		}
		for _, r := range fetches.Records() {
			read++
			id := int(binary.BigEndian.Uint32(r.Value[1:avro.WireHeaderLen]))
			if !ids[id] {
				t.Fatalf("record at %d/%d carries schema id %d, not one the registry gave: %v", r.Partition, r.Offset, id, ids)
			}
			if _, err := dec.Decode(ctx, r.Value); err != nil {
				t.Fatalf("record at %d/%d (schema id %d) does not decode through the registry: %v", r.Partition, r.Offset, id, err)
			}
		}
	}
}
