package avro

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	havro "github.com/hamba/avro/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// LocalSource is a SchemaSource over a directory of .avsc files, for
// development and tests. Each file holds one named schema; its id is
// LocalID of the schema, so producers that encode with the same files and the
// bridge agree on ids without a registry or a manifest.
//
// Several files may hold versions of one schema (the same full name, say
// com.thena.events.TicketEvent, before and after a field was added): each
// keeps its own id, so records written with any of them decode with their
// writer schema. Lookups by name (ID, SchemaByName, Encode: what a producer
// writes with) give the current version, the one in the file named after the
// schema (TicketEvent.avsc), or when no file is, the one whose path sorts
// last. A LocalSource is immutable after NewLocalSource and safe for
// concurrent use.
type LocalSource struct {
	byID     map[int]*LocalSchema
	versions map[string][]*LocalSchema // full name -> versions, current last
}

// LocalSchema is one .avsc file of a LocalSource: a version of a schema and
// the facts a producer needs to compute its id independently.
type LocalSchema struct {
	// File is the file's path in the directory, e.g. "TicketEvent.avsc".
	File string
	// FullName is the schema's full name, e.g. "com.thena.events.TicketEvent".
	FullName string
	// Canonical is the schema's Parsing Canonical Form (CanonicalForm), the
	// input of the fingerprint.
	Canonical string
	// Fingerprint is the CRC-64-AVRO fingerprint of Canonical.
	Fingerprint uint64
	// ID is the schema id records written with this version carry.
	ID int
	// Current is set on the version name lookups give.
	Current bool
	// Schema is the parsed schema, with its custom properties.
	Schema havro.Schema
}

// NewLocalSource parses every *.avsc file under fsys (for example
// os.DirFS(dir) or schemas.FS()), subdirectories included. Each file is
// parsed on its own, with its own cache of named types, so files may each
// define shared types such as Actor, and several files may be versions of one
// schema. It fails on a file that does not parse or is not a named schema, and
// on two files whose ids collide (two files of the same canonical form, which
// differ at most in docs, defaults or properties, or a fingerprint clash).
func NewLocalSource(fsys fs.FS) (*LocalSource, error) {
	s := &LocalSource{byID: map[int]*LocalSchema{}, versions: map[string][]*LocalSchema{}}
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
	for _, vs := range s.versions {
		sort.SliceStable(vs, func(i, j int) bool { return currentOrder(vs[i]) < currentOrder(vs[j]) })
		vs[len(vs)-1].Current = true
	}
	return s, nil
}

// currentOrder sorts the versions of one schema so that the current one is
// last: the file named after the schema, else the path that sorts last.
func currentOrder(v *LocalSchema) string {
	short := v.FullName[strings.LastIndexByte(v.FullName, '.')+1:]
	if path.Base(v.File) == short+".avsc" {
		return "\xff" + v.File
	}
	return v.File
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
	v := &LocalSchema{File: file, FullName: named.FullName(), Canonical: CanonicalForm(schema), Schema: schema}
	v.Fingerprint = fingerprint64([]byte(v.Canonical))
	if v.ID, err = localIDOf(v.Fingerprint); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if other, ok := s.byID[v.ID]; ok {
		if other.Canonical == v.Canonical {
			return fmt.Errorf("%s: same Parsing Canonical Form as %s (schema id %d): the two differ only in docs, defaults or properties, which records do not carry; keep one", file, other.File, v.ID)
		}
		return fmt.Errorf("%s: schema id %d of %s collides with %s in %s", file, v.ID, v.FullName, other.FullName, other.File)
	}
	s.byID[v.ID] = v
	s.versions[v.FullName] = append(s.versions[v.FullName], v)
	return nil
}

// Schema returns the schema with the given id, or a Permanent failure with
// reason unknown_schema.
func (s *LocalSource) Schema(_ context.Context, id int) (havro.Schema, error) {
	if v, ok := s.byID[id]; ok {
		return v.Schema, nil
	}
	return nil, failure.Permanentf(failure.ReasonUnknownSchema, "schema id %d is not among the local schemas", id)
}

// current returns the current version of the named schema.
func (s *LocalSource) current(fullName string) (*LocalSchema, bool) {
	vs := s.versions[fullName]
	if len(vs) == 0 {
		return nil, false
	}
	return vs[len(vs)-1], true
}

// ID returns the id of the current version of the schema with the given full
// name, e.g. "com.thena.events.TicketEvent".
func (s *LocalSource) ID(fullName string) (int, bool) {
	v, ok := s.current(fullName)
	if !ok {
		return 0, false
	}
	return v.ID, true
}

// SchemaByName returns the current version of the schema with the given
// full name.
func (s *LocalSource) SchemaByName(fullName string) (havro.Schema, bool) {
	v, ok := s.current(fullName)
	if !ok {
		return nil, false
	}
	return v.Schema, true
}

// Names returns the full names of all schemas, sorted, each once however many
// versions it has.
func (s *LocalSource) Names() []string {
	names := make([]string, 0, len(s.versions))
	for n := range s.versions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Versions returns every file of the source, sorted by full name and, within
// a name, with the current version last. The values are shared: do not
// modify them.
func (s *LocalSource) Versions() []*LocalSchema {
	var all []*LocalSchema
	for _, n := range s.Names() {
		all = append(all, s.versions[n]...)
	}
	return all
}

// Encode encodes v, shaped like the natural JSON of the named schema (see
// AppendNatural), into Confluent wire format with the id of the schema's
// current version.
func (s *LocalSource) Encode(fullName string, v any) ([]byte, error) {
	cur, ok := s.current(fullName)
	if !ok {
		return nil, fmt.Errorf("avro: no local schema named %s", fullName)
	}
	return cur.Append(make([]byte, 0, 1024), v)
}

// Append appends v, shaped like the natural JSON of this version (see
// AppendNatural), to dst in Confluent wire format with this version's id:
// how a test or a producer writes with an older version.
func (v *LocalSchema) Append(dst []byte, value any) ([]byte, error) {
	return AppendNatural(AppendWireHeader(dst, v.ID), v.Schema, value)
}
