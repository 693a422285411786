package avro

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// LocalSource is a SchemaSource over a directory of .avsc files, for
// development and tests. Each file holds one named schema; its id is
// LocalID of the schema, so producers that encode with the same files and the
// bridge agree on ids without a registry or a manifest. A LocalSource is
// immutable after NewLocalSource and safe for concurrent use.
type LocalSource struct {
	byID   map[int]havro.Schema
	byName map[string]int
	files  map[string]string // full name -> file, for error messages
}

// NewLocalSource parses every *.avsc file under fsys (for example
// os.DirFS(dir) or schemas.FS()). Each file is parsed on its own, so files
// may each define shared types such as Actor. It fails on a file that does
// not parse or is not a named schema, on two files with the same full name,
// and on two schemas whose ids collide.
func NewLocalSource(fsys fs.FS) (*LocalSource, error) {
	s := &LocalSource{byID: map[int]havro.Schema{}, byName: map[string]int{}, files: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".avsc" {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return s.add(p, b)
	})
	if err != nil {
		return nil, fmt.Errorf("avro: loading local schemas: %w", err)
	}
	if len(s.byID) == 0 {
		return nil, errors.New("avro: loading local schemas: no .avsc files found")
	}
	return s, nil
}

func (s *LocalSource) add(file string, b []byte) error {
	schema, err := havro.ParseBytesWithCache(b, "", &havro.SchemaCache{})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	named, ok := schema.(havro.NamedSchema)
	if !ok {
		return fmt.Errorf("%s: top-level schema is a %s, want a named schema", file, schema.Type())
	}
	name := named.FullName()
	if other, ok := s.files[name]; ok {
		return fmt.Errorf("%s: %s is already defined by %s", file, name, other)
	}
	id, err := LocalID(schema)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if other, ok := s.byID[id]; ok {
		return fmt.Errorf("%s: schema id %d of %s collides with %s", file, id, name, other.(havro.NamedSchema).FullName())
	}
	s.byID[id] = schema
	s.byName[name] = id
	s.files[name] = file
	return nil
}

// LocalID returns the schema id the local source gives schema: the first four
// bytes of the CRC-64-AVRO (Rabin) fingerprint of its Parsing Canonical Form,
// big-endian, masked to a positive int32. Canonical form ignores doc strings,
// defaults and custom properties, so it changes exactly when the binary
// encoding can change.
func LocalID(schema havro.Schema) (int, error) {
	fp, err := schema.FingerprintUsing(havro.CRC64Avro)
	if err != nil {
		return 0, fmt.Errorf("fingerprinting schema: %w", err)
	}
	id := int(binary.BigEndian.Uint32(fp[:4]) & 0x7fffffff)
	if id == 0 {
		return 0, errors.New("schema fingerprint gives id 0, which is reserved")
	}
	return id, nil
}

// Schema returns the schema with the given id, or a Permanent failure with
// reason unknown_schema.
func (s *LocalSource) Schema(_ context.Context, id int) (havro.Schema, error) {
	if schema, ok := s.byID[id]; ok {
		return schema, nil
	}
	return nil, failure.Permanentf(failure.ReasonUnknownSchema, "schema id %d is not among the local schemas", id)
}

// ID returns the id of the schema with the given full name, e.g.
// "com.thena.events.TicketEvent".
func (s *LocalSource) ID(fullName string) (int, bool) {
	id, ok := s.byName[fullName]
	return id, ok
}

// SchemaByName returns the schema with the given full name.
func (s *LocalSource) SchemaByName(fullName string) (havro.Schema, bool) {
	id, ok := s.byName[fullName]
	if !ok {
		return nil, false
	}
	return s.byID[id], true
}

// Names returns the full names of all schemas, sorted.
func (s *LocalSource) Names() []string {
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Encode encodes v, shaped like the natural JSON of the named schema (see
// AppendNatural), into Confluent wire format with the schema's local id.
func (s *LocalSource) Encode(fullName string, v any) ([]byte, error) {
	id, ok := s.byName[fullName]
	if !ok {
		return nil, fmt.Errorf("avro: no local schema named %s", fullName)
	}
	return AppendNatural(AppendWireHeader(make([]byte, 0, 1024), id), s.byID[id], v)
}
