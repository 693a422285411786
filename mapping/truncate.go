package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// Truncation is the rare path: it runs only for a message over its topic's
// size limit, so it may scan the JSON. It never re-encodes it: it finds the
// byte spans of the large string values and splices the placeholder in, so
// key order, number formatting and everything else stay as they were.

// truncatable are the top-level fields whose content may be truncated.
var truncatable = [...]string{"payload", "eventData"}

// candidate is one large string value that may be replaced.
type candidate struct {
	field      int // index in envelope.fields
	start, end int // span of the JSON string, quotes included, in the field's value
	path       string
}

// truncate replaces large string fields with the placeholder, largest first,
// until the body is at most budget bytes. It records the paths in the
// envelope's metadata (see TruncatedFieldsKey) and returns them with the new
// body length.
//
// limit is the topic's size limit, and budget what it leaves for the body
// once the attributes are counted.
func (m *Mapper) truncate(env *envelope, limit, budget int) ([]string, int, error) {
	size := env.len()
	var cands []candidate
	if len(m.large) > 0 {
		for i := range env.fields {
			name := env.fields[i].Name
			if !slices.Contains(truncatable[:], name) || len(env.fields[i].Value) == 0 {
				continue
			}
			w := walker{data: env.fields[i].Value, field: i, large: m.large, min: len(m.placeholder)}
			if _, err := w.walk(0, name, 0); err != nil {
				return nil, 0, failure.Permanentf(failure.ReasonTooLarge,
					"message is %d bytes, over its topic's limit of %d, and its %s cannot be truncated: %v", size+limit-budget, limit, name, err)
			}
			cands = append(cands, w.cands...)
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return (b.end - b.start) - (a.end - a.start) })

	env.override = make([]json.RawMessage, len(env.fields))
	metaIdx := -1
	for i := range env.fields {
		if env.fields[i].Name == "metadata" {
			metaIdx = i
		}
	}
	var paths []string
	saved := 0
	for n := 0; size > budget; n++ {
		if n == len(cands) {
			shown := paths
			if len(shown) > 5 { // the message goes into a dead-letter header
				shown = append(shown[:5:5], "...")
			}
			return nil, 0, failure.Permanentf(failure.ReasonTooLarge,
				"message is %d bytes, over its topic's limit of %d, after truncating %d of %d large fields %v",
				size+limit-budget, limit, len(paths), len(cands), shown)
		}
		c := cands[n]
		paths = append(paths, c.path)
		saved += c.end - c.start - len(m.placeholder)
		note, err := withTruncatedFields(env, metaIdx, paths)
		if err != nil {
			return nil, 0, failure.Permanentf(failure.ReasonTooLarge, "recording truncated fields in metadata: %v", err)
		}
		if metaIdx >= 0 {
			env.override[metaIdx] = note
		} else {
			env.extraMetadata = note
		}
		size = env.len() - saved
	}

	// Splice the placeholder into each field, in document order.
	chosen := slices.Clone(cands[:len(paths)])
	slices.SortFunc(chosen, func(a, b candidate) int {
		if a.field != b.field {
			return a.field - b.field
		}
		return a.start - b.start
	})
	for i := 0; i < len(chosen); {
		f := chosen[i].field
		src := env.fields[f].Value
		n := len(src)
		for j := i; j < len(chosen) && chosen[j].field == f; j++ {
			n += len(m.placeholder) - (chosen[j].end - chosen[j].start)
		}
		out := make([]byte, 0, n)
		last := 0
		for ; i < len(chosen) && chosen[i].field == f; i++ {
			out = append(out, src[last:chosen[i].start]...)
			out = append(out, m.placeholder...)
			last = chosen[i].end
		}
		env.override[f] = append(out, src[last:]...)
	}
	return paths, env.len(), nil
}

// withTruncatedFields returns the metadata value that records paths: the
// event's metadata object with TruncatedFieldsKey set (added last, or
// replaced in place when present), or a new object when the event has no
// metadata. Metadata that is not an object is left as it is (nil, nil): the
// contract types it as an object, and changing its type would break
// consumers more than a missing note.
func withTruncatedFields(env *envelope, metaIdx int, paths []string) (json.RawMessage, error) {
	list, err := json.Marshal(paths)
	if err != nil {
		return nil, err
	}
	var meta []byte
	if metaIdx >= 0 && !isNull(env.fields[metaIdx].Value) {
		meta = env.fields[metaIdx].Value
	}
	if meta == nil {
		out := append([]byte(`{"`+TruncatedFieldsKey+`":`), list...)
		return append(out, '}'), nil
	}
	i := skipWS(meta, 0)
	if i >= len(meta) || meta[i] != '{' {
		return nil, nil
	}
	// Walk the top-level members to find TruncatedFieldsKey or the closing brace.
	i = skipWS(meta, i+1)
	members := 0
	for i < len(meta) && meta[i] != '}' {
		if meta[i] != '"' {
			return nil, errMalformed
		}
		kEnd, err := scanString(meta, i)
		if err != nil {
			return nil, err
		}
		key := decodeKey(meta[i:kEnd])
		i = skipWS(meta, kEnd)
		if i >= len(meta) || meta[i] != ':' {
			return nil, errMalformed
		}
		vStart := skipWS(meta, i+1)
		w := walker{data: meta}
		vEnd, err := w.walk(vStart, "", 0)
		if err != nil {
			return nil, err
		}
		if key == TruncatedFieldsKey {
			out := slices.Concat(meta[:vStart], list, meta[vEnd:])
			return out, nil
		}
		members++
		i = skipWS(meta, vEnd)
		if i < len(meta) && meta[i] == ',' {
			i = skipWS(meta, i+1)
		}
	}
	if i >= len(meta) {
		return nil, errMalformed
	}
	sep := `,"`
	if members == 0 {
		sep = `"`
	}
	return slices.Concat(meta[:i], []byte(sep+TruncatedFieldsKey+`":`), list, meta[i:]), nil
}

var errMalformed = errors.New("malformed JSON")

// maxDepth bounds the nesting walk follows, so that hostile input cannot
// exhaust the stack.
const maxDepth = 1000

// walker finds the candidates in one JSON value: string values, longer than
// min bytes as JSON, of object members whose key is in large.
type walker struct {
	data  []byte
	field int
	large map[string]struct{}
	min   int
	cands []candidate
}

// walk scans the value at data[i:] and returns the index just past it.
func (w *walker) walk(i int, path string, depth int) (int, error) {
	d := w.data
	if depth > maxDepth {
		return 0, errors.New("nested too deeply")
	}
	i = skipWS(d, i)
	if i >= len(d) {
		return 0, errMalformed
	}
	switch d[i] {
	case '{':
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(d) || d[i] != '"' {
				return 0, errMalformed
			}
			kEnd, err := scanString(d, i)
			if err != nil {
				return 0, err
			}
			key := decodeKey(d[i:kEnd])
			i = skipWS(d, kEnd)
			if i >= len(d) || d[i] != ':' {
				return 0, errMalformed
			}
			i = skipWS(d, i+1)
			if _, ok := w.large[key]; ok && i < len(d) && d[i] == '"' {
				end, err := scanString(d, i)
				if err != nil {
					return 0, err
				}
				if end-i > w.min {
					w.cands = append(w.cands, candidate{field: w.field, start: i, end: end, path: path + "." + key})
				}
				i = end
			} else if w.large != nil {
				if i, err = w.walk(i, path+"."+key, depth+1); err != nil {
					return 0, err
				}
			} else if i, err = w.walk(i, "", depth+1); err != nil {
				return 0, err
			}
			i = skipWS(d, i)
			if i < len(d) && d[i] == ',' {
				i = skipWS(d, i+1)
				continue
			}
			if i < len(d) && d[i] == '}' {
				return i + 1, nil
			}
			return 0, errMalformed
		}
	case '[':
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == ']' {
			return i + 1, nil
		}
		for n := 0; ; n++ {
			var err error
			p := ""
			if w.large != nil {
				p = path + "[" + strconv.Itoa(n) + "]"
			}
			if i, err = w.walk(i, p, depth+1); err != nil {
				return 0, err
			}
			i = skipWS(d, i)
			if i < len(d) && d[i] == ',' {
				i++
				continue
			}
			if i < len(d) && d[i] == ']' {
				return i + 1, nil
			}
			return 0, errMalformed
		}
	case '"':
		return scanString(d, i)
	default: // number, true, false, null
		start := i
		for i < len(d) {
			switch d[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i, nil
			}
			i++
		}
		if i == start {
			return 0, errMalformed
		}
		return i, nil
	}
}

// scanString returns the index just past the JSON string starting at d[i].
// It jumps from quote to quote (bytes.IndexByte is vectorized) and counts the
// backslashes before each to tell an escaped quote from the closing one.
func scanString(d []byte, i int) (int, error) {
	for i++; i <= len(d); {
		j := bytes.IndexByte(d[i:], '"')
		if j < 0 {
			break
		}
		q := i + j
		k := q
		for k > i && d[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q + 1, nil
		}
		i = q + 1
	}
	return 0, errMalformed
}

func skipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// decodeKey returns the text of a JSON string (quotes included in q).
func decodeKey(q []byte) string {
	if slices.Contains(q, '\\') {
		var s string
		if json.Unmarshal(q, &s) == nil {
			return s
		}
	}
	return string(q[1 : len(q)-1])
}
