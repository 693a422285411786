package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"

	havro "github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

// registrySubjectPrefix starts the subjects the harness registers the
// schemas under; each subject also names the schema's hash, so a changed
// schema gets a new subject instead of a compatibility check.
const registrySubjectPrefix = "kafka-sns-bridge-bench."

// registryIDs registers every schema the generator encodes with (the .avsc
// files of schemas/, verbatim, as schemas/README.md says to register them)
// with the registry at url and returns each local schema id's registry id.
// Registering the same text again gives the same id, so this is cheap to
// repeat.
func registryIDs(ctx context.Context, url string) (map[int]int, error) {
	client, err := registry.NewClient(url)
	if err != nil {
		return nil, err
	}
	ids := map[int]int{}
	err = fs.WalkDir(schemas.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".avsc" {
			return err
		}
		text, err := fs.ReadFile(schemas.FS(), p)
		if err != nil {
			return err
		}
		s, err := havro.ParseBytesWithCache(text, "", &havro.SchemaCache{})
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		named, ok := s.(havro.NamedSchema)
		if !ok {
			return fmt.Errorf("%s: not a named schema", p)
		}
		local, err := avro.LocalID(s)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		sum := sha256.Sum256(text)
		subject := registrySubjectPrefix + named.FullName() + "-" + hex.EncodeToString(sum[:4])
		id, _, err := client.CreateSchema(ctx, subject, string(text))
		if err != nil {
			return fmt.Errorf("registering %s with %s: %w", p, url, err)
		}
		ids[local] = id
		return nil
	})
	return ids, err
}

// reframer rewrites a record value's schema id from local to registry ids.
func reframer(ids map[int]int) func([]byte) ([]byte, error) {
	return func(v []byte) ([]byte, error) {
		local, _, err := avro.ParseWire(v)
		if err != nil {
			return nil, err
		}
		id, ok := ids[local]
		if !ok {
			return nil, fmt.Errorf("no registry id for local schema id %d", local)
		}
		out := make([]byte, len(v))
		copy(out, v)
		binary.BigEndian.PutUint32(out[1:avro.WireHeaderLen], uint32(id))
		return out, nil
	}
}
