package consumer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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
		return pingError(cfg, err, timeout)
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

// pingError says what stopped the first contact with the brokers, naming
// the setting to look at: an answer that refused the credentials or a
// certificate that is not trusted is not "no broker answered".
func pingError(cfg Config, err error, timeout time.Duration) error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.IllegalSaslState) || errors.Is(err, kerr.UnsupportedSaslMechanism):
		who := cfg.SASL.Mechanism
		if cfg.SASL.Username != "" {
			who += fmt.Sprintf(" user %q", cfg.SASL.Username)
		}
		return fmt.Errorf("the brokers refused the SASL credentials (%s): %w", who, err)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("the brokers' TLS certificate is not trusted (%v): give the CA that signed it as the TLS CA file", unknownCA)
	case errors.As(err, &hostname):
		return fmt.Errorf("the brokers' TLS certificate does not name the address dialled (%v): use a broker address the certificate names", hostname)
	case errors.As(err, &verify):
		return fmt.Errorf("the brokers' TLS certificate was refused: %w", verify)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no broker answered within %s", timeout)
	}
	return fmt.Errorf("no broker answered: %w", err)
}
