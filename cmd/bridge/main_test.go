package main

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// bridge -h lists the commands; help COMMAND and COMMAND -h show a
// command's usage in one style: synopsis, description, flags.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		stdout, _, err := runBridge(t, nil, nil, args...)
		if err != nil {
			t.Fatalf("bridge %v: %v", args, err)
		}
		for _, cmd := range []string{"run", "translate", "demo", "dlq", "version"} {
			if !strings.Contains(stdout, "\n  "+cmd+" ") {
				t.Errorf("bridge %v does not list %s:\n%s", args, cmd, stdout)
			}
		}
	}
	for _, cmd := range []string{"run", "demo", "translate"} {
		for _, args := range [][]string{{cmd, "-h"}, {"help", cmd}} {
			_, stderr, err := runBridge(t, nil, nil, args...)
			if err != nil {
				t.Errorf("bridge %v: %v", args, err)
			}
			if !strings.HasPrefix(stderr, "Usage: bridge "+cmd) || !strings.Contains(stderr, "\nFlags:\n  -") {
				t.Errorf("bridge %v prints:\n%s", args, stderr)
			}
		}
	}
}

// version and --version print the version, the commit and Go's version.
func TestVersion(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v1.4.0", "0123abc"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		stdout, _, err := runBridge(t, nil, nil, args...)
		if err != nil {
			t.Fatalf("bridge %v: %v", args, err)
		}
		for _, want := range []string{"v1.4.0", "0123abc", runtime.Version()} {
			if !strings.Contains(stdout, want) {
				t.Errorf("bridge %v = %q, lacks %s", args, stdout, want)
			}
		}
	}
}

// A stray argument is refused, not ignored: bridge run base.yaml used to
// read config.yaml.
func TestStrayArgumentsAreRefused(t *testing.T) {
	for _, args := range [][]string{{"run", "base.yaml"}, {"demo", "5000"}, {"version", "x"}, {"-config", "a.yaml", "b.yaml"}} {
		_, _, err := runBridge(t, nil, nil, args...)
		if !errors.Is(err, errUsage) {
			t.Errorf("bridge %v: %v, want a usage error", args, err)
		}
	}
	_, _, err := runBridge(t, nil, nil, "run", "base.yaml")
	if err == nil || !strings.Contains(err.Error(), "-config base.yaml") {
		t.Errorf("bridge run base.yaml: %v, want a hint at -config base.yaml", err)
	}
}

// Flags after a file argument are flags, as in most tools; after "--"
// everything is an argument.
func TestFlagsAfterArguments(t *testing.T) {
	rec, err := eventgen.Sample(7, "ticket:created")
	if err != nil {
		t.Fatal(err)
	}
	file := writeConfig(t, string(rec.Value)) // any file will do
	stdout, stderr, err := runBridge(t, nil, nil, "translate", file, "-config", "absent.yaml", "-schemas", "../../schemas", "-key", string(rec.Key))
	if err != nil {
		t.Fatalf("translate FILE -flags: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, `"ok": true`) {
		t.Errorf("translate FILE -flags:\n%s", stdout)
	}
	_, _, err = runBridge(t, nil, nil, "translate", "-schemas", "../../schemas", "--", file, "-key")
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "2 files") {
		t.Errorf(`translate -- FILE -key: %v, want "-key" taken as a second file`, err)
	}
}
