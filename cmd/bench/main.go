// Command bench is the project's benchmark harness. It prepares a backlog of
// generated Thena events in a real Kafka, serves a fast SNS double on
// loopback, and runs the bridge and three reference contenders (raw consume,
// raw publish, one Publish per message) side by side, each as its own child
// process, then writes docs/benchmarks.md and a plot. `bench worker KIND` is
// how the harness starts the reference contenders; it is not meant to be run
// by hand.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks a bad command line; main exits 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run dispatches between the harness (the default) and the worker
// subcommands the harness starts as child processes.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "worker" {
		if len(args) < 3 {
			return fmt.Errorf("%w: bench worker needs a kind: %s", errUsage, workerKinds())
		}
		return runWorker(ctx, args[2], args[3:], stdout, stderr)
	}
	return runHarness(ctx, args[1:], stdout, stderr)
}
