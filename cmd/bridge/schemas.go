package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/schemas"
)

const schemasUsage = `Usage: bridge schemas [-schemas DIR] [-json]

Prints, for every .avsc file of a local schema directory (without -schemas,
the schemas built into the bridge), the schema's full name, the schema id the
bridge expects in the Confluent wire-format prefix of records written with it,
in decimal and hex, its CRC-64-AVRO fingerprint and the fingerprint's input:
the schema's Parsing Canonical Form, as the Avro specification defines it.
A producer in any language checks its ids against these:

  id = (CRC-64-AVRO(parsing canonical form) >> 32) & 0x7fffffff

When a directory holds several versions of one schema, each is listed with
its own id; "current" marks the one the bridge's tools write with.

Flags:
`

// schemaLine is what `bridge schemas -json` prints for one file.
type schemaLine struct {
	File        string `json:"file"`
	Name        string `json:"name"`
	ID          int    `json:"id"`
	IDHex       string `json:"idHex"`
	Fingerprint string `json:"fingerprint"`
	Current     bool   `json:"current"`
	Canonical   string `json:"canonicalForm"`
}

func runSchemas(args []string, env commandEnv) error {
	fset := flag.NewFlagSet("schemas", flag.ContinueOnError)
	fset.SetOutput(env.stderr)
	fset.Usage = func() {
		fmt.Fprint(env.stderr, schemasUsage)
		fset.PrintDefaults()
	}
	dir := fset.String("schemas", "", "directory of .avsc files (default: the schemas built into the bridge)")
	asJSON := fset.Bool("json", false, "print a JSON array, one object per file")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("%w: schemas takes no arguments, got %q (use -schemas DIR)", errUsage, fset.Args())
	}
	var fsys fs.FS = schemas.FS()
	if *dir != "" {
		fsys = os.DirFS(*dir)
	}
	src, err := avro.NewLocalSource(fsys)
	if err != nil {
		return err
	}
	var lines []schemaLine
	for _, v := range src.Versions() {
		lines = append(lines, schemaLine{
			File: v.File, Name: v.FullName, ID: v.ID, IDHex: fmt.Sprintf("0x%08x", v.ID),
			Fingerprint: fmt.Sprintf("0x%016x", v.Fingerprint), Current: v.Current, Canonical: v.Canonical,
		})
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(lines)
	}
	return writeSchemaLines(env.stdout, lines)
}

// writeSchemaLines prints the schemas for people, one block per file.
func writeSchemaLines(w io.Writer, lines []schemaLine) error {
	for i, l := range lines {
		if i > 0 {
			fmt.Fprintln(w)
		}
		version := "current version"
		if !l.Current {
			version = "older version: its records still decode"
		}
		fmt.Fprintf(w, "%s\n", l.File)
		fmt.Fprintf(w, "  name         %s (%s)\n", l.Name, version)
		fmt.Fprintf(w, "  id           %d (%s)\n", l.ID, l.IDHex)
		fmt.Fprintf(w, "  fingerprint  %s (CRC-64-AVRO of the canonical form)\n", l.Fingerprint)
		if _, err := fmt.Fprintf(w, "  canonical    %s\n", l.Canonical); err != nil {
			return err
		}
	}
	return nil
}
