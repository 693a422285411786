package main

// The configuration's key space, derived from the yaml tags of the settings
// types: YAML paths and their BRIDGE_* names, the keys that were removed,
// the nearest key to a misspelt one, and the translation of the packages'
// Go field names (in their Validate errors) into YAML paths. Deriving it
// keeps one list of keys: the types config.yaml is read into.

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// envPrefix starts every environment override: BRIDGE_KAFKA_BROKERS sets
// kafka.brokers, BRIDGE_SNS_ENDPOINT sets sns.endpoint, and so on.
const envPrefix = "BRIDGE_"

// envReserved starts variables of the local test stack (scripts/stack.sh
// env), which a developer's shell holds next to the bridge; they are no
// overrides and are left alone.
const envReserved = "BRIDGE_TEST_"

// removedKeys are keys earlier versions read, with what replaced them, so
// that an old file fails with the way forward instead of "unknown key".
var removedKeys = map[string]string{
	"kafka.max_in_flight": "use kafka.max_buffered_bytes: the bound on records fetched and not finished " +
		"is now in bytes, all partitions together (default 32 MiB), and ordering.max_run_per_key sets how many of a key ride one call",
	"kafka.max_buffered_per_partition": "use kafka.max_buffered_bytes_per_partition: the bound is now in bytes, " +
		"not records (default 8 MiB)",
}

var durationType = reflect.TypeFor[time.Duration]()

// isSection reports whether t is read as a YAML mapping of keys.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != durationType
}

// yamlKey is the key of struct field f, or "" when f is not read from YAML.
func yamlKey(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}

// sectionKeys are the keys of section type t, in declaration order.
func sectionKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// fieldByKey returns the index of the field of section type t read from key.
func fieldByKey(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		if yamlKey(t.Field(i)) == key {
			return i, true
		}
	}
	return 0, false
}

// leafKey is a key that holds a value, not a section.
type leafKey struct {
	path  string
	index []int // field indexes from the root type
	typ   reflect.Type
}

// leafKeys lists every leaf of root type t, depth first.
func leafKeys(t reflect.Type) []leafKey {
	var out []leafKey
	var walk func(t reflect.Type, path string, index []int)
	walk = func(t reflect.Type, path string, index []int) {
		for i := range t.NumField() {
			k := yamlKey(t.Field(i))
			if k == "" {
				continue
			}
			p := joinPath(path, k)
			idx := append(append([]int(nil), index...), i)
			if ft := t.Field(i).Type; isSection(ft) {
				walk(ft, p, idx)
			} else {
				out = append(out, leafKey{path: p, index: idx, typ: ft})
			}
		}
	}
	walk(t, "", nil)
	return out
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// envName is the variable that overrides path: BRIDGE_ + the path in upper
// case with "_" between keys.
func envName(path string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// settableFromEnv reports whether a value of type t can be written as one
// environment variable: scalars, durations and lists of strings.
func settableFromEnv(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// nearest returns the candidate closest to name by edit distance, when it
// is close enough to be a likely misspelling.
func nearest(name string, candidates []string) (string, bool) {
	best, bestD := "", len(name)+1
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != "" && bestD <= max(2, len(name)/4)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// goPathRef matches a Go field path in a package's error message:
// MaxBufferedBytes, TLS.CAFile, Routes[1].TopicARN.
var goPathRef = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*(?:\[\d+\])?(?:\.[A-Z][A-Za-z0-9]*(?:\[\d+\])?)*\b`)

// fieldScope translates the Go field names of one package's Config into
// YAML paths: each entry is a settings type whose field names match the
// package's (kafkaSettings for consumer.Config) and where it sits.
type fieldScope []struct {
	typ    reflect.Type
	prefix string
}

// yamlPath translates goPath ("TLS.CAFile", "Routes[1].TopicARN") into its
// YAML path ("kafka.tls.ca_file", "routing.routes[1].topic_arn"); leafOnly
// refuses a path that names a section.
func (sc fieldScope) yamlPath(goPath string, leafOnly bool) (string, bool) {
	for _, s := range sc {
		if p, ok := translateGoPath(s.typ, s.prefix, goPath, leafOnly); ok {
			return p, true
		}
	}
	return "", false
}

func translateGoPath(t reflect.Type, prefix, goPath string, leafOnly bool) (string, bool) {
	path := prefix
	for _, part := range strings.Split(goPath, ".") {
		name, idx, _ := strings.Cut(part, "[")
		if !isSection(t) {
			return "", false
		}
		f, ok := t.FieldByName(name)
		if !ok || len(f.Index) != 1 || yamlKey(f) == "" {
			return "", false
		}
		path = joinPath(path, yamlKey(f))
		t = f.Type
		if idx != "" {
			n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			if err != nil || t.Kind() != reflect.Slice {
				return "", false
			}
			path += "[" + strconv.Itoa(n) + "]"
			t = t.Elem()
		}
	}
	if leafOnly && isSection(t) {
		return "", false
	}
	return path, true
}

// rewrite turns a package's validation error into one that speaks the
// configuration file's language: the package's own prefix (trimPrefixes)
// goes, the leading Go field path becomes the YAML path, and so does every
// other field of a value named in the message. A message that names no
// field gets fallback (the section) in front.
func (sc fieldScope) rewrite(err error, fallback string, trimPrefixes ...string) error {
	msg := err.Error()
	for _, p := range trimPrefixes {
		msg = strings.TrimPrefix(msg, p)
	}
	lead := goPathRef.FindStringIndex(msg)
	if lead != nil && lead[0] == 0 {
		if p, ok := sc.yamlPath(msg[:lead[1]], false); ok {
			rest := strings.TrimSpace(strings.TrimPrefix(sc.rewriteBody(msg[lead[1]:]), ":"))
			// A file that cannot be read: say which and why, not how
			// the package opened it.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				rest = fmt.Sprintf("cannot read %s: %v", pe.Path, pe.Err)
			}
			return &pathError{path: p, msg: rest, err: err}
		}
	}
	return &pathError{path: fallback, msg: sc.rewriteBody(msg), err: err}
}

func (sc fieldScope) rewriteBody(s string) string {
	return goPathRef.ReplaceAllStringFunc(s, func(m string) string {
		if p, ok := sc.yamlPath(m, true); ok {
			return p
		}
		return m
	})
}

// pathError is a problem with the setting at path (a YAML path such as
// kafka.tls.ca_file, a section such as schemas, or a BRIDGE_* variable),
// located when known: where is the file's "config.yaml:12", from the
// variable the value came from. It reads
// "config.yaml:12: routing.routes[0].topic_arn (from ${ARN}): problem".
type pathError struct {
	where string
	path  string
	from  string
	msg   string
	// err is the package's own error, when the message was rewritten from it.
	err error
}

func (e *pathError) Error() string {
	var b strings.Builder
	if e.where != "" {
		b.WriteString(e.where + ": ")
	}
	b.WriteString(e.path)
	if e.from != "" {
		b.WriteString(" (from " + e.from + ")")
	}
	b.WriteString(": " + e.msg)
	return b.String()
}

func (e *pathError) Unwrap() error { return e.err }

// problemf returns a pathError for path.
func problemf(path, format string, args ...any) error {
	return &pathError{path: path, msg: fmt.Sprintf(format, args...)}
}
