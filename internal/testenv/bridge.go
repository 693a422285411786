package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
)

var bridgeBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// BridgeBinary builds the bridge (./cmd/bridge of this module) once per test binary and returns
// its path. Main removes it when the tests are done.
func BridgeBinary(t testing.TB) string {
	t.Helper()
	bridgeBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "bridge-test-")
		if err != nil {
			bridgeBuild.err = err
			return
		}
		bridgeBuild.dir = dir
		bridgeBuild.path = filepath.Join(dir, "bridge")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bridgeBuild.err = bridgeproc.Build(ctx, bridgeBuild.path)
	})
	if bridgeBuild.err != nil {
		t.Fatalf("testenv: %v", bridgeBuild.err)
	}
	return bridgeBuild.path
}

// removeBridgeBinary removes what BridgeBinary built.
func removeBridgeBinary() {
	if bridgeBuild.dir != "" {
		os.RemoveAll(bridgeBuild.dir)
	}
}

// WriteConfig writes cfg to a file in t.TempDir() and returns its path.
func WriteConfig(t testing.TB, cfg bridgeproc.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := cfg.WriteFile(path); err != nil {
		t.Fatalf("testenv: writing the bridge config: %v", err)
	}
	return path
}

// Bridge is a `bridge run` child process of a test, its stderr (the JSON log) kept in a file.
type Bridge struct {
	*bridgeproc.Bridge
	// Name tells the bridges of one test apart in messages.
	Name    string
	t       testing.TB
	logPath string
}

// StartBridge starts `bridge run` with cfg (LaunchBridge) and waits up to a minute until /readyz
// answers 200 (AwaitReady).
func StartBridge(t testing.TB, name string, cfg bridgeproc.Config) *Bridge {
	t.Helper()
	b := LaunchBridge(t, name, cfg)
	b.AwaitReady(time.Minute)
	return b
}

// LaunchBridge starts `bridge run` with cfg, the environment of bridgeproc.Env, and its log in a
// file, without waiting for it to be ready. The process is killed in t.Cleanup if the test did
// not stop it, and a failed test logs the last 40 lines of its log.
func LaunchBridge(t testing.TB, name string, cfg bridgeproc.Config) *Bridge {
	t.Helper()
	bin, config := BridgeBinary(t), WriteConfig(t, cfg)
	logPath := filepath.Join(t.TempDir(), name+".stderr")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := bridgeproc.Start(context.Background(), bridgeproc.Options{
		Binary: bin, Config: config, Env: bridgeproc.Env(os.Environ()), Stderr: f,
	})
	if err != nil {
		f.Close()
		t.Fatalf("testenv: %v", err)
	}
	go func() {
		<-p.Done()
		f.Close()
	}()
	b := &Bridge{Bridge: p, Name: name, t: t, logPath: logPath}
	t.Cleanup(func() {
		b.Kill()
		if t.Failed() {
			t.Logf("bridge %s stderr (last 40 lines):\n%s", name, b.Tail(40))
		}
	})
	return b
}

// AwaitReady waits up to wait until /readyz answers 200. It fails the test, with the end of the
// bridge's log, when the process exits or is not ready in time.
func (b *Bridge) AwaitReady(wait time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.WaitReady(ctx); err != nil {
		b.t.Fatalf("bridge %s: %v\n%s", b.Name, err, b.Tail(20))
	}
}

// Scrape reads the bridge's /metrics, giving up after 5 s.
func (b *Bridge) Scrape() (bridgeproc.Metrics, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.Metrics(ctx)
}

// LogLines returns the bridge's JSON log lines so far, decoded.
func (b *Bridge) LogLines() []map[string]any {
	f, err := os.Open(b.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// Tail returns the last n lines of the bridge's stderr.
func (b *Bridge) Tail(n int) string {
	raw, _ := os.ReadFile(b.logPath)
	return bridgeproc.LastLines(string(raw), n)
}
