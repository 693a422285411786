// Command kafkacheck is the Kafka client scripts/stack_test.sh uses to check the local stack from
// the outside, with the client library the bridge uses (franz-go). It reads the addresses that
// `scripts/stack.sh env` exports:
//
//	kafkacheck create TOPIC   create TOPIC (one partition) over PLAINTEXT (BRIDGE_TEST_KAFKA)
//	kafkacheck exists TOPIC   fail unless TOPIC exists
//	kafkacheck secure TOPIC   over SASL_SSL (BRIDGE_TEST_KAFKA_SASL_SSL, _CA, _USER, _PASSWORD):
//	                          produce one record to TOPIC and consume it back; then check that a
//	                          wrong password and a client that does not trust the stack's CA are
//	                          both refused
//
// Each prints one line saying what it checked, or fails with exit status 1 and the reason.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// errUsage marks a bad command line; main exits 2.
var errUsage = errors.New("usage: kafkacheck create|exists|secure TOPIC")

// timeout bounds each check: the stack is up when this runs, so anything slower is a failure.
const timeout = 30 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kafkacheck: %v\n", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 3 {
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	topic := args[2]
	switch args[1] {
	case "create":
		return create(ctx, getenv, stdout, topic)
	case "exists":
		return exists(ctx, getenv, stdout, topic)
	case "secure":
		return secure(ctx, getenv, stdout, topic)
	}
	return errUsage
}

// env reads the named variables, failing when one is empty.
func env(getenv func(string) string, names ...string) ([]string, error) {
	values := make([]string, len(names))
	for i, name := range names {
		if values[i] = getenv(name); values[i] == "" {
			return nil, fmt.Errorf("%s is not set (eval \"$(scripts/stack.sh env)\")", name)
		}
	}
	return values, nil
}

func plaintextAdmin(getenv func(string) string) (*kadm.Client, error) {
	v, err := env(getenv, "BRIDGE_TEST_KAFKA")
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(v[0], ",")...))
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

func create(ctx context.Context, getenv func(string) string, stdout io.Writer, topic string) error {
	adm, err := plaintextAdmin(getenv)
	if err != nil {
		return err
	}
	defer adm.Close()
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	fmt.Fprintf(stdout, "created topic %s\n", topic)
	return nil
}

func exists(ctx context.Context, getenv func(string) string, stdout io.Writer, topic string) error {
	adm, err := plaintextAdmin(getenv)
	if err != nil {
		return err
	}
	defer adm.Close()
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("listing topic %s: %w", topic, err)
	}
	if !topics.Has(topic) || topics[topic].Err != nil {
		return fmt.Errorf("topic %s does not exist", topic)
	}
	fmt.Fprintf(stdout, "topic %s exists\n", topic)
	return nil
}

// secureOpts are the options of a SASL_SSL client: roots nil means the system's roots.
func secureOpts(brokers string, roots *x509.CertPool, user, password string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism()),
	}
}

func secure(ctx context.Context, getenv func(string) string, stdout io.Writer, topic string) error {
	v, err := env(getenv, "BRIDGE_TEST_KAFKA_SASL_SSL", "BRIDGE_TEST_KAFKA_CA",
		"BRIDGE_TEST_KAFKA_USER", "BRIDGE_TEST_KAFKA_PASSWORD")
	if err != nil {
		return err
	}
	brokers, caFile, user, password := v[0], v[1], v[2], v[3]
	if mech := getenv("BRIDGE_TEST_KAFKA_SASL_MECHANISM"); mech != "SCRAM-SHA-512" {
		return fmt.Errorf("BRIDGE_TEST_KAFKA_SASL_MECHANISM is %q, want SCRAM-SHA-512", mech)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no PEM certificate", caFile)
	}

	if err := roundTrip(ctx, secureOpts(brokers, roots, user, password), topic); err != nil {
		return fmt.Errorf("over SASL_SSL at %s as %s: %w", brokers, user, err)
	}
	fmt.Fprintf(stdout, "SASL_SSL %s: produced and consumed a record on %s as %s\n", brokers, topic, user)

	err = refused(ctx, secureOpts(brokers, roots, user, password+"-wrong"))
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		return fmt.Errorf("with a wrong password: want %v, got %v", kerr.SaslAuthenticationFailed, err)
	}
	fmt.Fprintf(stdout, "SASL_SSL %s: a wrong password is refused: %v\n", brokers, err)

	err = refused(ctx, secureOpts(brokers, nil, user, password))
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(err, &unknownCA) {
		return fmt.Errorf("without the stack's CA: want a certificate signed by an unknown authority, got %v", err)
	}
	fmt.Fprintf(stdout, "SASL_SSL %s: a client without the CA is refused: %v\n", brokers, err)
	return nil
}

// roundTrip produces a record with a random value to topic and reads the topic from the start
// until that record comes back.
func roundTrip(ctx context.Context, opts []kgo.Opt, topic string) error {
	cl, err := kgo.NewClient(append(opts,
		kgo.DefaultProduceTopic(topic),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// Ping first: producing would retry a refused login until the deadline and hide why.
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	value := "kafkacheck " + hex.EncodeToString(nonce)
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(value)}).FirstErr(); err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	for {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consuming: the record produced did not come back: %w", err)
		}
		if err := fetches.Err(); err != nil {
			return fmt.Errorf("consuming: %w", err)
		}
		for it := fetches.RecordIter(); !it.Done(); {
			if string(it.Next().Value) == value {
				return nil
			}
		}
	}
}

// refused is the error of a client that should not get in: nil when the broker let it.
func refused(ctx context.Context, opts []kgo.Opt) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.Ping(ctx)
}
