package consumer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestPingNamesMissingSourceTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := Config{Brokers: c.ListenAddrs(), GroupID: "g", Topics: []string{"events"}}
	if err := Ping(context.Background(), cfg, 5*time.Second); err != nil {
		t.Errorf("Ping with every topic present: %v", err)
	}
	cfg.Topics = []string{"events", "tickets"}
	if err := Ping(context.Background(), cfg, 5*time.Second); err == nil || !strings.Contains(err.Error(), `"tickets"`) {
		t.Errorf("Ping: %v, want an error naming tickets", err)
	}
}

func TestPingAuthenticatesWithSCRAM(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"),
		kfake.EnableSASL(), kfake.Superuser(SASLScramSHA512, "bridge", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := Config{Brokers: c.ListenAddrs(), GroupID: "g", Topics: []string{"events"},
		SASL: SASLConfig{Mechanism: SASLScramSHA512, Username: "bridge", Password: "s3cret"}}
	if err := Ping(context.Background(), cfg, 5*time.Second); err != nil {
		t.Errorf("Ping with the right credentials: %v", err)
	}
	cfg.SASL.Password = "wrong"
	// kfake drops the connection (EOF) where Kafka answers
	// SASL_AUTHENTICATION_FAILED; e2e/secure_test.go checks the message
	// against the real broker.
	if err := Ping(context.Background(), cfg, 2*time.Second); err == nil {
		t.Error("Ping succeeded with a wrong password")
	}
}

// A failed first contact names its cause: refused credentials and an
// untrusted or mismatched certificate are not "no broker answered".
func TestPingErrorNamesTheCause(t *testing.T) {
	cfg := Config{SASL: SASLConfig{Mechanism: SASLScramSHA512, Username: "bridge"}}
	dial := func(err error) error { return fmt.Errorf("unable to dial: %w", err) }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("SASL: %w", kerr.SaslAuthenticationFailed), `the brokers refused the SASL credentials (SCRAM-SHA-512 user "bridge")`},
		{dial(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), "the brokers' TLS certificate is not trusted (x509: certificate signed by unknown authority): give the CA that signed it as the TLS CA file"},
		{dial(&tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "10.0.0.9"}}), "the brokers' TLS certificate does not name the address dialled"},
		{dial(&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}), "the brokers' TLS certificate was refused"},
		{context.DeadlineExceeded, "no broker answered within 15s"},
		{dial(errors.New("connection refused")), "no broker answered: unable to dial: connection refused"},
	} {
		if got := pingError(cfg, tc.err, 15*time.Second); !strings.Contains(got.Error(), tc.want) {
			t.Errorf("pingError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
