// Command bridge carries the Thena platform's Avro domain events from Kafka to
// Amazon SNS. `bridge run` is the service; the other subcommands are the tools
// an operator uses around it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks an error in how the command was called; main prints usage.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bridge: %v\n", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a usage error and 1 for everything else.
func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usageText = `Usage: bridge <command> [flags]

Commands:
  run        consume Kafka, publish to SNS (the service; the default command)
  translate  show what one Kafka record would become on SNS
  schemas    print each local schema's id, fingerprint and canonical form
  demo       run the whole pipeline on an embedded Kafka and SNS double
  dlq        list, show and replay dead letters (bridge dlq -h)
  version    print the version

Run 'bridge <command> -h' for a command's flags.
`

// run is the whole program behind main, with its inputs passed in so tests
// can drive it end to end.
func run(ctx context.Context, args []string, getenv func(string) string, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "run", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
		if len(cmd) > 0 && cmd[0] == '-' { // flags only: the default command
			cmd, rest = "run", args[1:]
		}
	}
	env := commandEnv{getenv: getenv, environ: environ, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "run":
		return runService(ctx, rest, env)
	case "translate":
		return runTranslate(ctx, rest, env)
	case "schemas":
		return runSchemas(rest, env)
	case "demo":
		return runDemo(ctx, rest, env)
	case "dlq":
		return runDLQ(ctx, rest, env)
	case "version":
		fmt.Fprintf(stdout, "kafka-sns-bridge %s\n", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText)
		return nil
	default:
		fmt.Fprint(stderr, usageText)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// commandEnv is what every subcommand receives from run.
type commandEnv struct {
	getenv  func(string) string
	environ []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
}

// parseFlags parses a command's args into fs. A bad flag is a usage error;
// -h returns flag.ErrHelp unwrapped, for helpIsDone.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// helpIsDone turns the flag.ErrHelp of a -h into success: the usage is
// printed and there is nothing else to do.
func helpIsDone(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
