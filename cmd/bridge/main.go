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
	"strings"
	"syscall"

	"github.com/thena-ai/kafka-sns-bridge/internal/memlimit"
)

// errUsage marks an error in how the command was called; main prints usage.
var errUsage = errors.New("usage")

func main() {
	// GOMEMLIMIT from the container's memory limit, unless the environment sets it.
	if _, err := memlimit.Apply(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "bridge: GOMEMLIMIT left unset: %v\n", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		printError(os.Stderr, err)
		stop()
		os.Exit(exitCode(err))
	}
}

// printError writes err for a person, one "bridge: " line per problem,
// unless the command has reported it already (in its log).
func printError(w io.Writer, err error) {
	var done *reportedError
	if errors.As(err, &done) {
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "bridge: %s\n", line)
	}
}

// exitCode is 2 for a usage error and 1 for everything else.
func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// reportedError is an error the command has already written where it
// belongs (bridge run: its JSON log); main only sets the exit status.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }

func (e *reportedError) Unwrap() error { return e.err }

const usageText = `Usage: bridge <command> [flags]

Commands:
  run        consume Kafka, publish to SNS (the service; the default command)
  translate  show what one Kafka record would become on SNS
  schemas    print each local schema's id, fingerprint and canonical form
  demo       run the whole pipeline on an embedded Kafka and SNS double
  produce    write a steady stream of realistic events to a real Kafka
  dlq        list, show and replay dead letters (bridge dlq -h)
  version    print the version, commit and Go version (also: bridge --version)

Run 'bridge <command> -h' (or 'bridge help <command>') for a command's flags.
`

// run is the whole program behind main, with its inputs passed in so tests
// can drive it end to end.
func run(ctx context.Context, args []string, getenv func(string) string, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "run", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "-h", "-help", "--help":
		cmd = "help"
	case "-version", "--version":
		cmd = "version"
	default:
		if strings.HasPrefix(cmd, "-") { // flags only: the default command
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
	case "produce":
		return runProduce(ctx, rest, env)
	case "dlq":
		return runDLQ(ctx, rest, env)
	case "version":
		if len(rest) > 0 {
			return fmt.Errorf("%w: version takes no arguments", errUsage)
		}
		fmt.Fprintln(stdout, build())
		return nil
	case "help":
		if len(rest) == 1 && rest[0] != "help" {
			return run(ctx, []string{args[0], rest[0], "-h"}, getenv, environ, stdin, stdout, stderr)
		}
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

// newFlagSet returns the flag set of command name: on -h or a bad flag it
// prints usage (synopsis and description, ending in "Flags:") and then the
// flags.
func newFlagSet(name, usage string, env commandEnv) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprint(env.stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a command's args into fs. Flags may follow the
// command's other arguments (bridge translate rec.bin -config c.yaml), as
// in most command-line tools; after "--" everything is an argument. The
// arguments are fs.Args() afterwards. A bad flag is a usage error; -h
// returns flag.ErrHelp unwrapped, for helpIsDone.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parsing "--" alone leaves fs.Args() the arguments.
	_ = fs.Parse(append([]string{"--"}, positional...))
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// helpIsDone turns the flag.ErrHelp of a -h into success: the usage is
// printed and there is nothing else to do.
func helpIsDone(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
