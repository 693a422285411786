package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Ping checks at start-up that the brokers answer with cfg's TLS and SASL
// settings and that every source topic exists (unless Topics are regular
// expressions), so that a wrong address, credential or topic name stops the
// bridge within timeout with a message naming it instead of leaving a
// consumer that silently waits. It blocks for at most timeout.
func Ping(ctx context.Context, cfg Config, timeout time.Duration) error {
	cfg = cfg.withDefaults()
	common, err := cfg.ClientOpts()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(common, kgo.RetryTimeout(timeout))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no broker answered within %s", timeout)
		}
		return fmt.Errorf("no broker answered: %w", err)
	}
	if cfg.TopicRegex {
		return nil
	}
	details, err := kadm.NewClient(cl).ListTopics(ctx, cfg.Topics...)
	if err != nil {
		return fmt.Errorf("listing source topics: %w", err)
	}
	var errs []error
	for _, t := range cfg.Topics {
		d, ok := details[t]
		if !ok || d.Err != nil {
			errs = append(errs, fmt.Errorf("source topic %q does not exist or is not readable", t))
		}
	}
	return errors.Join(errs...)
}
