package bridgeproc

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Child is a started child process. One goroutine waits for it, so its end
// can be selected on (Done) while the caller watches it.
type Child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// StartChild starts cmd and waits for it in the background.
func StartChild(cmd *exec.Cmd) (*Child, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Pid is the process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Done is closed once the process has exited and its output is copied.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err is how the process ended, as exec.Cmd.Wait reports it (nil for exit
// status 0). It is meaningful once Done is closed.
func (c *Child) Err() error { return c.err }

// State is the ended process's state (exit code, resource usage); nil until
// Done is closed.
func (c *Child) State() *os.ProcessState {
	if !c.Exited() {
		return nil
	}
	return c.cmd.ProcessState
}

// Exited reports whether the process has ended.
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process; a process that has ended is not an error.
func (c *Child) Signal(sig os.Signal) error {
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// Stop sends SIGTERM and waits up to wait for the process to exit, and
// returns how it ended. Past wait it kills the process and says it did not
// stop.
func (c *Child) Stop(wait time.Duration) error {
	if c.Exited() {
		return c.err
	}
	_ = c.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.err
	case <-time.After(wait):
		c.Kill()
		return fmt.Errorf("%s did not stop within %v of SIGTERM", c.cmd.Path, wait)
	}
}

// Kill sends SIGKILL (a crash) and waits for the process to be gone.
func (c *Child) Kill() {
	if c.Exited() {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// Options say how to start the bridge: `bridge run` with a configuration
// file, or another command line.
type Options struct {
	// Binary is the bridge binary (see Build); Config the path of its
	// configuration file (see Config.WriteFile).
	Binary, Config string
	// Args, when set, replace the command line after the binary, which is
	// otherwise run -config Config (the demo, say: demo -http ADDR).
	Args []string
	// Env is the child's whole environment (see Env).
	Env []string
	// Stdout and Stderr receive the child's output; nil discards it.
	Stdout, Stderr io.Writer
	// Addr is http.listen when the configuration names a fixed port. When
	// empty, the address is learnt from the bridge's "bridge started" log
	// line, which needs log.level info or lower.
	Addr string
	// StopDelay bounds how long a bridge whose ctx ended has, after SIGTERM,
	// before it is killed (default 45s).
	StopDelay time.Duration
}

// Bridge is a running `bridge run` child process.
type Bridge struct {
	*Child
	mu   sync.Mutex
	addr string
}

// Start starts `bridge run -config o.Config` (or o.Args). When ctx ends the
// bridge gets SIGTERM, and SIGKILL o.StopDelay later.
func Start(ctx context.Context, o Options) (*Bridge, error) {
	args := o.Args
	if args == nil {
		args = []string{"run", "-config", o.Config}
	}
	cmd := exec.CommandContext(ctx, o.Binary, args...)
	cmd.Env = o.Env
	cmd.Stdout = o.Stdout
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = cmp.Or(o.StopDelay, 45*time.Second)
	b := &Bridge{addr: o.Addr}
	cmd.Stderr = o.Stderr
	if o.Addr == "" {
		w := &startWatch{found: b.setAddr}
		if o.Stderr != nil {
			cmd.Stderr = io.MultiWriter(o.Stderr, w)
		} else {
			cmd.Stderr = w
		}
	}
	c, err := StartChild(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting the bridge: %w", err)
	}
	b.Child = c
	return b, nil
}

func (b *Bridge) setAddr(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.addr == "" {
		b.addr = addr
	}
}

// Addr is the host:port of the bridge's /metrics, /healthz and /readyz, or
// "" while it is not known yet.
func (b *Bridge) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// WaitReady polls /readyz every 100ms until it answers 200 and returns nil,
// or returns an error once the bridge has exited or ctx has ended.
func (b *Bridge) WaitReady(ctx context.Context) error {
	client := http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr := b.Addr(); addr != "" && ready(ctx, &client, addr) {
			return nil
		}
		select {
		case <-b.Done():
			return fmt.Errorf("the bridge exited before it was ready: %v", b.Err())
		case <-ctx.Done():
			return fmt.Errorf("the bridge was not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func ready(ctx context.Context, client *http.Client, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Metrics scrapes the bridge's /metrics; it fails while the address is not
// known.
func (b *Bridge) Metrics(ctx context.Context) (Metrics, error) {
	addr := b.Addr()
	if addr == "" {
		return nil, errors.New("the bridge has not said where it listens yet")
	}
	return Scrape(ctx, addr)
}

// startWatch reads the bridge's JSON log lines for the "bridge started" line
// and hands on its http field, the address it listens on.
type startWatch struct {
	found   func(addr string)
	partial []byte
	done    bool
}

func (w *startWatch) Write(p []byte) (int, error) {
	if w.done {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		var line struct{ Msg, HTTP string }
		if json.Unmarshal(w.partial[:i], &line) == nil && line.Msg == "bridge started" && line.HTTP != "" {
			w.found(line.HTTP)
			w.done, w.partial = true, nil
			break
		}
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}
