package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// varRef matches ${NAME} and ${NAME:-default} in a configuration value.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// configSource is where each setting of a loaded configuration came from:
// a line of the file, ${VAR} references in it, or a BRIDGE_* variable.
// Problems found after loading (validation) are located with it, and it
// keeps the values read from the environment so that no message repeats
// one: a variable may hold a password.
type configSource struct {
	file  string
	lines map[string]int      // YAML path -> line of its key in file
	vars  map[string][]string // YAML path -> the ${VAR}s its value was built from
	env   map[string]string   // YAML path -> the BRIDGE_* variable that set it
	// reported are paths with a problem already said; a validation
	// problem about one of them follows from it and is dropped.
	reported map[string]bool
	secrets  []envValue
}

type envValue struct{ name, value string }

func newConfigSource(file string) *configSource {
	return &configSource{file: file, lines: map[string]int{}, vars: map[string][]string{},
		env: map[string]string{}, reported: map[string]bool{}}
}

// readConfigFile loads path (YAML) into dst over the defaults already in
// it, substituting ${VAR} references into the parsed values and applying
// BRIDGE_* environment overrides. Every problem is reported, one per line.
func readConfigFile(path string, getenv func(string) string, environ []string, dst any) error {
	src, err := readConfig(path, getenv, environ, dst)
	if src != nil {
		return src.explain(err, nil)
	}
	return err
}

// readConfig is readConfigFile, also returning where each setting came
// from. The source is nil when the file could not be read or parsed at all.
func readConfig(path string, getenv func(string) string, environ []string, dst any) (*configSource, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such configuration file (give one with -config FILE; config.yaml in the repository documents every key)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, yamlSyntaxError(path, err)
	}
	src := newConfigSource(path)
	d := &decoder{src: src, getenv: getenv, root: reflect.TypeOf(dst).Elem()}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		d.value(doc.Content[0], reflect.ValueOf(dst).Elem(), "")
	}
	d.overrides(environ, reflect.ValueOf(dst).Elem())
	return src, errors.Join(d.errs...)
}

// yamlSyntaxError turns "yaml: line 5: did not find expected key" into
// "config.yaml:5: not valid YAML: did not find expected key".
func yamlSyntaxError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if _, err := strconv.Atoi(n); err == nil {
				return fmt.Errorf("%s:%s: not valid YAML: %s", path, n, tail)
			}
		}
	}
	return fmt.Errorf("%s: not valid YAML: %s", path, msg)
}

// applyEnvOverrides sets fields of the struct dst points to from the
// BRIDGE_* variables of environ (BRIDGE_ + the YAML path in upper case, "_"
// between keys; lists comma-separated; durations in Go syntax). It returns
// the names it applied; a variable that names no key is an error.
func applyEnvOverrides(dst any, environ []string) ([]string, error) {
	src := newConfigSource("")
	d := &decoder{src: src, root: reflect.TypeOf(dst).Elem()}
	d.overrides(environ, reflect.ValueOf(dst).Elem())
	var applied []string
	for _, name := range src.env {
		applied = append(applied, name)
	}
	slices.Sort(applied)
	return applied, errors.Join(d.errs...)
}

// decoder reads a YAML tree into the settings types strictly: every key
// must be a field, every value must parse, and each problem is collected
// with its line and path rather than stopping at the first.
type decoder struct {
	src    *configSource
	getenv func(string) string
	root   reflect.Type
	errs   []error
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.src.reported[path] = true
	d.errs = append(d.errs, &pathError{where: d.src.at(n.Line), path: path, msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	t := v.Type()
	switch {
	case isSection(t):
		d.section(n, v, path)
	case t.Kind() == reflect.Slice && isSection(t.Elem()):
		d.list(n, v, path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		d.strings(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

func (d *decoder) section(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, cmpPath(path), "want keys (key: value lines), got %s", describe(n))
		return
	}
	t := v.Type()
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" { // <<: *anchor
			d.merge(val, v, path)
			continue
		}
		p := joinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.fail(k, p, "set twice (also on line %d); keep one", line)
			continue
		}
		seen[k.Value] = k.Line
		i, ok := fieldByKey(t, k.Value)
		if !ok {
			d.unknownKey(k, p, path, t)
			continue
		}
		d.src.lines[p] = k.Line
		d.value(val, v.Field(i), p)
	}
}

func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.SequenceNode {
		for _, m := range n.Content {
			d.merge(m, v, path)
		}
		return
	}
	d.section(n, v, path)
}

// unknownKey reports a key the section of type t does not have, with the
// way forward: what replaced a removed key, the nearest key of the section,
// or the section elsewhere that has such a key.
func (d *decoder) unknownKey(k *yaml.Node, path, parent string, t reflect.Type) {
	if hint, ok := removedKeys[path]; ok {
		d.fail(k, path, "removed: %s", hint)
		return
	}
	keys := sectionKeys(t)
	if s, ok := nearest(k.Value, keys); ok {
		d.src.reported[joinPath(parent, s)] = true
		d.fail(k, path, "unknown key (did you mean %s?)", joinPath(parent, s))
		return
	}
	for _, leaf := range leafKeys(d.root) {
		if strings.HasSuffix(leaf.path, "."+k.Value) {
			d.fail(k, path, "unknown key (did you mean %s?)", leaf.path)
			return
		}
	}
	what := "the sections are"
	if parent != "" {
		what = "the keys of " + parent + " are"
	}
	d.fail(k, path, "unknown key (%s %s)", what, strings.Join(keys, ", "))
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list (\"- \" lines), got %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.value(e, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

// strings reads a list of strings: a YAML list, or one value. A value
// substituted from the environment is split at commas, as a BRIDGE_* list
// is, so that brokers: ["${KAFKA_BROKERS}"] takes a comma-separated list.
func (d *decoder) strings(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	elems := []*yaml.Node{n}
	switch n.Kind {
	case yaml.SequenceNode:
		elems = n.Content
	case yaml.ScalarNode:
	default:
		d.fail(n, path, "want a list of values, got %s", describe(n))
		return
	}
	out := []string{}
	for i, e := range elems {
		if e.Kind == yaml.AliasNode {
			e = e.Alias
		}
		p := path
		if n.Kind == yaml.SequenceNode {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		if e.Kind != yaml.ScalarNode {
			d.fail(e, p, "want a value, got %s", describe(e))
			continue
		}
		if isNull(e) {
			out = append(out, "")
			continue
		}
		s, fromEnv, ok := d.expand(e, path)
		switch {
		case !ok:
		case fromEnv:
			out = append(out, splitList(s)...)
		default:
			out = append(out, s)
		}
	}
	v.Set(reflect.ValueOf(out).Convert(v.Type()))
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a single value, got %s", describe(n))
		return
	}
	if isNull(n) {
		return // key: or key: ~ keeps the default
	}
	s, fromEnv, ok := d.expand(n, path)
	if !ok || (s == "" && n.Style == 0 && n.Value != "") {
		// An unquoted ${VAR:-} that comes out empty is a key left
		// empty: the default stays.
		return
	}
	if err := setFromString(v, s); err != nil {
		if fromEnv {
			d.src.reported[path] = true
			d.errs = append(d.errs, &pathError{where: d.src.at(n.Line), path: path,
				from: strings.Join(d.src.vars[path], ", "), msg: "its value " + err.Error()})
			return
		}
		d.fail(n, path, "%q %s", s, err)
	}
}

// expand substitutes ${NAME} and ${NAME:-default} in the scalar n with
// values from the environment. fromEnv says some part came from a
// variable; a reference to an unset variable without a default is a
// problem (ok false), so that a missing AWS_SNS_TICKET_TOPIC_ARN fails at
// start-up instead of routing to an empty ARN. Substituting into the parsed
// value, not the file's text, means a value holding quotes or a colon
// cannot change the YAML around it.
func (d *decoder) expand(n *yaml.Node, path string) (s string, fromEnv, ok bool) {
	if !strings.Contains(n.Value, "${") {
		return n.Value, false, true
	}
	ok = true
	s = varRef.ReplaceAllStringFunc(n.Value, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name := sub[1]
		d.src.vars[path] = append(d.src.vars[path], "${"+name+"}")
		if v := d.getenv(name); v != "" {
			fromEnv = true
			d.src.secrets = append(d.src.secrets, envValue{name, v})
			return v
		}
		if sub[2] != "" {
			return sub[3]
		}
		d.fail(n, path, "environment variable %s is not set (set it, or give a default: ${%s:-value})", name, name)
		ok = false
		return m
	})
	return s, fromEnv, ok
}

// overrides applies the BRIDGE_* variables of environ to root. Each must
// name a key: a misspelt override would otherwise leave the file's value
// in force without a word.
func (d *decoder) overrides(environ []string, root reflect.Value) {
	leaves := leafKeys(root.Type())
	byName := make(map[string]leafKey, len(leaves))
	names := make([]string, 0, len(leaves))
	sections := map[string]string{} // BRIDGE_KAFKA_TLS -> kafka.tls
	for _, k := range leaves {
		byName[envName(k.path)] = k
		names = append(names, envName(k.path))
		for p := k.path; strings.Contains(p, "."); {
			p = p[:strings.LastIndex(p, ".")]
			sections[envName(p)] = p
		}
	}
	removed := map[string]string{}
	for p := range removedKeys {
		removed[envName(p)] = p
	}
	vars := slices.Clone(environ)
	slices.Sort(vars)
	for _, kv := range vars {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || strings.HasPrefix(name, envReserved) {
			continue
		}
		k, known := byName[name]
		switch {
		case known && !settableFromEnv(k.typ):
			d.errs = append(d.errs, problemf(name, "%s cannot be set from the environment; set it in the configuration file", k.path))
		case known:
			d.src.secrets = append(d.src.secrets, envValue{name, val})
			if err := setFromString(root.FieldByIndex(k.index), val); err != nil {
				d.src.reported[k.path] = true
				d.errs = append(d.errs, &pathError{path: k.path, from: name, msg: "its value " + err.Error()})
				continue
			}
			d.src.env[k.path] = name
		case removed[name] != "":
			p := removed[name]
			d.errs = append(d.errs, problemf(name, "removed (it was %s): %s", p, removedKeys[p]))
		case sections[name] != "":
			d.errs = append(d.errs, problemf(name, "names the section %s, not a key: set its keys, like %s_...", sections[name], name))
		default:
			if s, ok := nearest(name, names); ok {
				d.errs = append(d.errs, problemf(name, "no such setting (did you mean %s?)", s))
			} else {
				d.errs = append(d.errs, problemf(name, "no such setting: BRIDGE_* variables override configuration keys, "+
					"BRIDGE_ and the key's path in upper case with _ between keys (BRIDGE_KAFKA_BROKERS for kafka.brokers)"))
			}
		}
	}
}

// setFromString parses raw into v by v's type. Its error says what raw is
// not, without raw: the caller decides whether the value may be shown.
func setFromString(v reflect.Value, raw string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("is not a duration (like 250ms, 5s or 1m)")
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("is not true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("is not a whole number of at most %d bits", v.Type().Bits())
		}
		v.SetInt(n)
	case reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, v.Type().Bits())
		if err != nil {
			return errors.New("is not a whole number of zero or more")
		}
		v.SetUint(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return errors.New("cannot be set from one value")
		}
		v.Set(reflect.ValueOf(splitList(raw)).Convert(v.Type()))
	default:
		return errors.New("cannot be set from one value")
	}
	return nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(raw string) []string {
	var parts []string
	for _, p := range strings.Split(raw, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what n is, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "keys"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// cmpPath is path, or "the file" for the root.
func cmpPath(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// at is "file:line", or "" when the line is unknown.
func (src *configSource) at(line int) string {
	if src.file == "" || line == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d", src.file, line)
}

// explain joins the problems of loading (loadErr) and of validating the
// result (validateErr) into the message the operator reads: one line per
// problem, each located (the file's line, or the variable that set the
// value), none that merely follows from a problem already said, and no
// value read from the environment repeated.
func (src *configSource) explain(loadErr, validateErr error) error {
	var lines []string
	for _, e := range leafErrors(loadErr) {
		lines = append(lines, src.redact(e.Error()))
	}
	for _, e := range leafErrors(validateErr) {
		var pe *pathError
		if errors.As(e, &pe) {
			if src.reported[pe.path] {
				continue
			}
			located := *pe
			src.locate(&located)
			e = &located
		}
		lines = append(lines, src.redact(e.Error()))
	}
	if len(lines) == 0 {
		return nil
	}
	errs := make([]error, len(lines))
	for i, l := range lines {
		errs[i] = errors.New(l)
	}
	return errors.Join(errs...)
}

// locate fills in where pe's setting came from.
func (src *configSource) locate(pe *pathError) {
	if pe.where != "" || pe.from != "" {
		return
	}
	if name := src.env[pe.path]; name != "" {
		pe.from = name
		return
	}
	pe.where = src.at(src.lines[pe.path])
	if vars := src.vars[pe.path]; len(vars) > 0 {
		pe.from = strings.Join(vars, ", ")
	}
}

// redact replaces every value read from the environment in msg by the
// variable's name.
func (src *configSource) redact(msg string) string {
	secrets := slices.Clone(src.secrets)
	slices.SortFunc(secrets, func(a, b envValue) int { return len(b.value) - len(a.value) })
	for _, s := range secrets {
		if s.value == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, strconv.Quote(s.value), "the value of "+s.name)
		if len(s.value) >= 6 {
			msg = strings.ReplaceAll(msg, s.value, "<value of "+s.name+">")
		}
	}
	return msg
}

// leafErrors flattens the trees errors.Join builds.
func leafErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// decodeYAML reads YAML leniently (unknown keys ignored), for files that are
// not the bridge's configuration.
func decodeYAML(raw []byte, dst any) error {
	return yaml.Unmarshal(raw, dst)
}
