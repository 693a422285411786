// The group consumer's fetch options (isolation level, rack) and the
// OAUTHBEARER token source: the Kafka client settings beyond the brokers,
// TLS and SASL mechanisms that every client shares (ClientOpts).

package consumer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// Isolation levels of Config.IsolationLevel.
const (
	IsolationReadCommitted   = "read_committed"
	IsolationReadUncommitted = "read_uncommitted"
)

// tokenCommandTimeout bounds one run of SASLConfig.TokenCommand, so that a
// hung helper fails the connection attempt instead of holding it.
const tokenCommandTimeout = 30 * time.Second

// tokenEarly is how long before its expiry a command's token is asked for
// again: a connection authenticated with it must not outlive it.
const tokenEarly = time.Minute

// fetchOpts are the group consumer's options for what it fetches and from
// which replica. kgo's own default is read_uncommitted; the bridge's is
// read_committed, so that records of an aborted transaction never reach
// SNS.
func (c Config) fetchOpts() []kgo.Opt {
	level := kgo.ReadCommitted()
	if c.IsolationLevel == IsolationReadUncommitted {
		level = kgo.ReadUncommitted()
	}
	opts := []kgo.Opt{kgo.FetchIsolationLevel(level)}
	if c.Rack != "" {
		opts = append(opts, kgo.Rack(c.Rack))
	}
	return opts
}

// validateToken checks OAUTHBEARER's token source: exactly one of
// TokenFile and TokenCommand with that mechanism, neither with another.
func (s SASLConfig) validateToken(bad func(field, format string, args ...any) error) error {
	if s.Mechanism != SASLOAuthBearer {
		switch {
		case s.TokenFile != "":
			return bad("SASL.TokenFile", "is for %s only (the mechanism is %q)", SASLOAuthBearer, s.Mechanism)
		case len(s.TokenCommand) > 0:
			return bad("SASL.TokenCommand", "is for %s only (the mechanism is %q)", SASLOAuthBearer, s.Mechanism)
		}
		return nil
	}
	switch {
	case s.TokenFile == "" && len(s.TokenCommand) == 0:
		return bad("SASL.Mechanism", "%s needs a token: set SASL.TokenFile or SASL.TokenCommand", SASLOAuthBearer)
	case s.TokenFile != "" && len(s.TokenCommand) > 0:
		return bad("SASL.TokenCommand", "set SASL.TokenFile or SASL.TokenCommand, not both")
	case len(s.TokenCommand) > 0 && strings.TrimSpace(s.TokenCommand[0]) == "":
		return bad("SASL.TokenCommand", "the first element must be the program to run")
	case s.Username != "" || s.Password != "":
		return bad("SASL.Username", "%s takes no username or password (the token names the principal)", SASLOAuthBearer)
	}
	return nil
}

// tokenSource hands OAUTHBEARER a token at each authentication: read from
// the file every time, or from the command's cached output while it is
// valid. Safe for concurrent use: connections to several brokers
// authenticate at once.
type tokenSource struct {
	file    string
	command []string
	now     func() time.Time

	mu      sync.Mutex
	cached  string
	expires time.Time // zero: not cached
}

func (s SASLConfig) tokenSource(now func() time.Time) *tokenSource {
	return &tokenSource{file: s.TokenFile, command: s.TokenCommand, now: now}
}

// auth is the oauth.Oauth callback.
func (ts *tokenSource) auth(ctx context.Context) (oauth.Auth, error) {
	tok, err := ts.token(ctx)
	if err != nil {
		return oauth.Auth{}, err
	}
	return oauth.Auth{Token: tok}, nil
}

func (ts *tokenSource) token(ctx context.Context) (string, error) {
	if ts.file != "" {
		raw, err := os.ReadFile(ts.file)
		if err != nil {
			return "", fmt.Errorf("reading the OAUTHBEARER token file: %w", err)
		}
		tok := strings.TrimSpace(string(raw))
		if tok == "" {
			return "", fmt.Errorf("the OAUTHBEARER token file %s is empty", ts.file)
		}
		return tok, nil
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.cached != "" && ts.now().Before(ts.expires) {
		return ts.cached, nil
	}
	tok, err := ts.run(ctx)
	if err != nil {
		return "", err
	}
	ts.cached, ts.expires = "", time.Time{}
	if exp, ok := jwtExpiry(tok); ok {
		ts.cached, ts.expires = tok, exp.Add(-tokenEarly)
	}
	return tok, nil
}

// run runs the token command and returns what it printed, trimmed. Its
// standard error goes into the error (not the token: that is a secret).
func (ts *tokenSource) run(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, tokenCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ts.command[0], ts.command[1:]...) //nolint:gosec // the operator's own command
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg != "" {
			return "", fmt.Errorf("the OAUTHBEARER token command %s failed: %w: %s", ts.command[0], err, msg)
		}
		return "", fmt.Errorf("the OAUTHBEARER token command %s failed: %w", ts.command[0], err)
	}
	tok := strings.TrimSpace(stdout.String())
	if tok == "" {
		return "", fmt.Errorf("the OAUTHBEARER token command %s printed no token", ts.command[0])
	}
	return tok, nil
}

// jwtExpiry reads the "exp" claim of tok when it is a JWT; the token is
// not verified (the broker does that), only its lifetime read.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Float64()
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0), true
}
