package avro_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/avro"
	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// requireFastavro makes a missing fastavro a failure rather than a skip. It
// is set under the integration build tag (fastavro_required_test.go): the
// local stack installs fastavro into its Python, so an integration run
// without it is a broken stack, not a machine that lacks an optional tool.
var requireFastavro = false

// fastavroPython returns a Python interpreter that imports fastavro:
// $BRIDGE_TEST_PYTHON, the stack's virtualenv (.stack/venv-moto, where
// scripts/stack.sh installs it), a developer's .stack/venv-fastavro, then
// python3 on PATH. Without one the test is skipped, or fails when fastavro
// is required (under the stack, or when BRIDGE_TEST_PYTHON names an
// interpreter).
func fastavroPython(t *testing.T) string {
	t.Helper()
	explicit := os.Getenv("BRIDGE_TEST_PYTHON")
	var candidates []string
	if explicit != "" {
		candidates = append(candidates, explicit)
	} else {
		if root, err := moduleRoot(); err == nil {
			candidates = append(candidates,
				filepath.Join(root, ".stack", "venv-moto", "bin", "python"),
				filepath.Join(root, ".stack", "venv-fastavro", "bin", "python"))
		}
		if p, err := exec.LookPath("python3"); err == nil {
			candidates = append(candidates, p)
		}
	}
	var tried []string
	for _, py := range candidates {
		out, err := exec.Command(py, "-c", "import fastavro; print(fastavro.__version__)").CombinedOutput()
		if err == nil {
			t.Logf("second encoder: fastavro %s (%s)", strings.TrimSpace(string(out)), py)
			return py
		}
		tried = append(tried, fmt.Sprintf("%s: %s", py, lastLine(out, err)))
	}
	msg := fmt.Sprintf("no Python with fastavro, the second Avro implementation these tests encode with (tried: %s). "+
		"The local stack installs it into .stack/venv-moto (scripts/stack.sh up); elsewhere: python3 -m venv .stack/venv-fastavro && .stack/venv-fastavro/bin/pip install fastavro, "+
		"or set BRIDGE_TEST_PYTHON", strings.Join(tried, "; "))
	if requireFastavro || explicit != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func lastLine(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if l := lines[len(lines)-1]; l != "" {
		return l
	}
	return err.Error()
}

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// fastavroRequest and fastavroAnswer are testdata/fastavro/encode.py's
// input and output.
type fastavroRequest struct {
	Dirs   []string        `json:"dirs"`
	Events []fastavroEvent `json:"events"`
}

type fastavroEvent struct {
	Dir   int            `json:"dir"`
	File  string         `json:"file"`
	Event map[string]any `json:"event"`
}

type fastavroAnswer struct {
	Version string `json:"fastavro"`
	Schemas []struct {
		Dir         int    `json:"dir"`
		File        string `json:"file"`
		Name        string `json:"name"`
		Canonical   string `json:"canonical"`
		Fingerprint string `json:"fingerprint"`
		ID          int    `json:"id"`
	} `json:"schemas"`
	Records []string `json:"records"`
}

func runFastavro(t *testing.T, py string, req fastavroRequest) fastavroAnswer {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "fastavro", "encode.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("encode.py: %v\n%s", err, stderr.String())
	}
	var ans fastavroAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("encode.py answered no JSON: %v\n%s", err, out)
	}
	if len(ans.Records) != len(req.Events) {
		t.Fatalf("encode.py wrote %d records for %d events", len(ans.Records), len(req.Events))
	}
	return ans
}

// TestFastavroAgrees: Python's fastavro, an Avro implementation independent
// of this code and of hamba, computes the same schema id for every schema
// in schemas/ and in the versions fixtures (from its own Parsing Canonical
// Form and CRC-64-AVRO), and the records it encodes, one of every event type
// plus the generator's edge cases and both schema versions, decode to the
// natural JSON they were written from.
func TestFastavroAgrees(t *testing.T) {
	py := fastavroPython(t)
	dirs := []string{"../schemas", versionsDir}
	sources := make([]*avro.LocalSource, len(dirs))
	req := fastavroRequest{}
	for i, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			t.Fatal(err)
		}
		req.Dirs = append(req.Dirs, abs)
		if sources[i], err = avro.NewLocalSource(os.DirFS(d)); err != nil {
			t.Fatal(err)
		}
	}

	// The events, as natural JSON (what JSON gives Python), with the file
	// of the schema each was written with.
	g, err := eventgen.New(1127, eventgen.Options{Source: sources[0]})
	if err != nil {
		t.Fatal(err)
	}
	fileOf := func(src *avro.LocalSource, value []byte) string {
		id, _, err := avro.ParseWire(value)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range src.Versions() {
			if v.ID == id {
				return v.File
			}
		}
		t.Fatalf("record with id %d of no local schema", id)
		return ""
	}
	var names []string
	add := func(name string, dir int, file string, natural map[string]any) {
		b, err := json.Marshal(natural)
		if err != nil {
			t.Fatal(err)
		}
		var event map[string]any
		if err := json.Unmarshal(b, &event); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		req.Events = append(req.Events, fastavroEvent{Dir: dir, File: file, Event: event})
	}
	for _, typ := range eventgen.AllTypes() {
		r, err := g.Record(typ)
		if err != nil {
			t.Fatal(err)
		}
		add(typ, 0, fileOf(sources[0], r.Value), r.Natural)
	}
	for name, r := range map[string]eventgen.Record{"edge non-ASCII": g.NonASCII(), "edge null assignedAgent": g.NullAssignedAgent(), "edge absent optionals": g.AbsentOptionals()} {
		add(name, 0, fileOf(sources[0], r.Value), r.Natural)
	}
	add("TicketEvent v1", 1, "TicketEvent.v1.avsc", readEvent(t, filepath.Join(versionsDir, "ticket_updated.v1.json")))
	add("TicketEvent v2", 1, "TicketEvent.avsc", readEvent(t, filepath.Join(versionsDir, "ticket_updated.v2.json")))

	ans := runFastavro(t, py, req)

	// Ids: every file, as fastavro computes them.
	seen := 0
	for _, s := range ans.Schemas {
		var mine *avro.LocalSchema
		for _, v := range sources[s.Dir].Versions() {
			if v.File == s.File {
				mine = v
			}
		}
		if mine == nil {
			t.Errorf("fastavro read %s, the bridge did not", s.File)
			continue
		}
		seen++
		if s.Canonical != mine.Canonical {
			t.Errorf("%s: canonical forms differ\nfastavro %s\n  bridge %s", s.File, s.Canonical, mine.Canonical)
		}
		if s.ID != mine.ID || s.Name != mine.FullName {
			t.Errorf("%s: fastavro gives %s id %d (fingerprint %s), the bridge %s id %d (%#016x)", s.File, s.Name, s.ID, s.Fingerprint, mine.FullName, mine.ID, mine.Fingerprint)
		}
	}
	if want := len(sources[0].Versions()) + len(sources[1].Versions()); seen != want {
		t.Errorf("fastavro and the bridge agree on %d schema files, want all %d", seen, want)
	}

	// Decoding: every fastavro record, with the bridge's decoder over the
	// directory it was written from.
	decoders := make([]*avro.Decoder, len(sources))
	for i, src := range sources {
		if decoders[i], err = avro.NewDecoder(src, avro.DefaultConfig()); err != nil {
			t.Fatal(err)
		}
	}
	for i, rec := range ans.Records {
		e := req.Events[i]
		t.Run(names[i], func(t *testing.T) {
			value, err := hex.DecodeString(rec)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := decoders[e.Dir].Decode(context.Background(), value)
			if err != nil {
				t.Fatalf("the bridge cannot decode fastavro's %s record: %v", e.File, err)
			}
			if got := eventJSON(t, ev); !reflect.DeepEqual(got, e.Event) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(e.Event)
				t.Errorf("fastavro's record decodes to\n got %s\nwant %s", g, w)
			}
		})
	}
}
