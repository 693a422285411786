package consumer

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A transactional producer's aborted writes never reach SNS under the
// default isolation level; read_uncommitted, asked for, publishes them.
func TestAbortedTransactionsAreNeverPublished(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  []string
	}{
		{"", []string{"committed|0", "committed|1", "plain|0"}},
		{IsolationReadUncommitted, []string{"aborted|0", "aborted|1", "committed|0", "committed|1", "plain|0"}},
	} {
		t.Run(cmpName(tc.level), func(t *testing.T) {
			bubble(t, 1, false, func(t *testing.T, h *harness) {
				tx := h.transactionalProducer()
				defer tx.close()
				tx.write(kgo.TryAbort, rec("aborted", 0, ""), rec("aborted", 1, ""))
				tx.write(kgo.TryCommit, rec("committed", 0, ""), rec("committed", 1, ""))
				h.produce(rec("plain", 0, ""))

				cfg := h.config()
				cfg.IsolationLevel = tc.level
				h.start("a", cfg)
				h.eventually("the last record published", func() bool {
					return slices.ContainsFunc(h.sink.snapshot(), func(p publication) bool { return p.key == "plain" })
				})
				time.Sleep(3 * time.Second) // a few more polls: nothing more may arrive
				var got []string
				for _, p := range h.sink.snapshot() {
					got = append(got, fmt.Sprintf("%s|%d", p.key, p.seq))
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Errorf("published %v, want %v", got, tc.want)
				}
			})
		})
	}
}

func cmpName(level string) string {
	if level == "" {
		return "default"
	}
	return level
}

// The consumer's client carries the configured rack (so that brokers with a
// rack-aware replica selector serve its fetches from the same zone) and
// reads committed records unless told otherwise.
func TestFetchOptionsCarryRackAndIsolation(t *testing.T) {
	for _, tc := range []struct {
		cfg       Config
		rack      string
		committed bool
	}{
		{Config{}, "", true},
		{Config{Rack: "use1-az1"}, "use1-az1", true},
		{Config{IsolationLevel: IsolationReadUncommitted}, "", false},
	} {
		cl, err := kgo.NewClient(append(tc.cfg.withDefaults().fetchOpts(), kgo.SeedBrokers("127.0.0.1:1"))...)
		if err != nil {
			t.Fatal(err)
		}
		if got := cl.OptValue(kgo.Rack); got != tc.rack {
			t.Errorf("%+v: rack %v, want %q", tc.cfg, got, tc.rack)
		}
		// OptValue gives the level as the protocol's number: 1 is committed.
		want := int8(0)
		if tc.committed {
			want = 1
		}
		if got := cl.OptValue(kgo.FetchIsolationLevel); got != want {
			t.Errorf("%+v: isolation %v, want %v", tc.cfg, got, want)
		}
		cl.Close()
	}
}

// jwt is an unsigned token whose payload holds claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + ".sig"
}

// A token file is read at every authentication, so a rotated token is used
// from the next connection on.
func TestOAuthBearerTokenFileIsReadAtEachAuthentication(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := SASLConfig{Mechanism: SASLOAuthBearer, TokenFile: path}.mechanism()
	if m == nil || m.Name() != SASLOAuthBearer {
		t.Fatalf("mechanism %v, want %s", m, SASLOAuthBearer)
	}
	first := func() string {
		t.Helper()
		_, msg, err := m.Authenticate(context.Background(), "broker:9096")
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		return string(msg)
	}
	write("token-one\n")
	if msg := first(); !strings.Contains(msg, "auth=Bearer token-one\x01") {
		t.Errorf("first message %q does not carry token-one", msg)
	}
	write("token-two")
	if msg := first(); !strings.Contains(msg, "auth=Bearer token-two\x01") {
		t.Errorf("after rotation, message %q does not carry token-two", msg)
	}
	write("")
	if _, _, err := m.Authenticate(context.Background(), "broker:9096"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty token file: %v, want an error saying it is empty", err)
	}
}

// A token command runs again only when its JWT is about to expire; a token
// that is not a JWT is asked for at every authentication.
func TestOAuthBearerTokenCommandIsCachedUntilExpiry(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	exp := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	script := filepath.Join(dir, "token.sh")
	body := fmt.Sprintf("#!/bin/sh\necho run >> %s\ncat %s\n", runs, filepath.Join(dir, "out"))
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	setOut := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "out"), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	countRuns := func() int {
		raw, _ := os.ReadFile(runs)
		return strings.Count(string(raw), "run")
	}
	now := exp.Add(-time.Hour)
	ts := SASLConfig{Mechanism: SASLOAuthBearer, TokenCommand: []string{script}}.tokenSource(func() time.Time { return now })
	token := func() string {
		t.Helper()
		a, err := ts.auth(context.Background())
		if err != nil {
			t.Fatalf("auth: %v", err)
		}
		return a.Token
	}

	tok := jwt(fmt.Sprintf(`{"sub":"bridge","exp":%d}`, exp.Unix()))
	setOut(tok + "\n")
	if got := token(); got != tok {
		t.Fatalf("token %q, want the command's output %q", got, tok)
	}
	now = exp.Add(-2 * time.Minute)
	token()
	if n := countRuns(); n != 1 {
		t.Errorf("command ran %d times for two authentications within the token's life, want 1", n)
	}
	now = exp.Add(-30 * time.Second)
	token()
	if n := countRuns(); n != 2 {
		t.Errorf("command ran %d times, want 2: within a minute of exp the token is fetched again", n)
	}

	setOut("opaque-token")
	now = exp.Add(time.Hour)
	token()
	token()
	if n := countRuns(); n != 4 {
		t.Errorf("command ran %d times, want 4: a token without exp is not cached", n)
	}

	failing := SASLConfig{Mechanism: SASLOAuthBearer, TokenCommand: []string{"/bin/sh", "-c", "echo no credentials >&2; exit 3"}}.tokenSource(time.Now)
	if _, err := failing.auth(context.Background()); err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("failing command: %v, want its standard error in the error", err)
	}
}

// transactional is a transactional producer to the harness's cluster.
type transactional struct {
	t  *testing.T
	cl *kgo.Client
}

// transactionalProducer starts one; the caller closes it (before the
// harness's cluster goes).
func (h *harness) transactionalProducer() *transactional {
	h.t.Helper()
	cl, err := kgo.NewClient(append(h.clientOpts(), kgo.TransactionalID("orders-writer"))...)
	if err != nil {
		h.t.Fatal(err)
	}
	return &transactional{t: h.t, cl: cl}
}

func (tx *transactional) close() { tx.cl.Close() }

// write produces recs in one transaction and ends it (commit or abort).
// Each transaction leaves a marker at the offset after its records.
func (tx *transactional) write(end kgo.TransactionEndTry, recs ...*kgo.Record) {
	tx.t.Helper()
	ctx := context.Background()
	if err := tx.cl.BeginTransaction(); err != nil {
		tx.t.Fatal(err)
	}
	if err := tx.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tx.t.Fatal(err)
	}
	if err := tx.cl.EndTransaction(ctx, end); err != nil {
		tx.t.Fatal(err)
	}
}

// A partition whose last write is a committed transaction ends on the
// transaction's marker, an offset no record occupies. Once the transaction's
// records are published the commit moves past the marker too, so the
// partition's lag reads 0, not 1.
func TestLagReachesZeroAfterATransactionMarker(t *testing.T) {
	bubble(t, 1, false, func(t *testing.T, h *harness) {
		h.produce(rec("plain", 0, ""))
		tx := h.transactionalProducer()
		defer tx.close()
		tx.write(kgo.TryCommit, rec("committed", 0, ""), rec("committed", 1, ""))
		r := h.start("a", h.config())
		h.eventually("all three published", func() bool { return h.sink.count() == 3 })
		h.eventually("commits at the end, past the marker", h.committedToEnd)
		if got := metricValue(r.e.metrics.committedLag.WithLabelValues(srcTopic, "0")); got != 0 {
			t.Errorf("bridge_committed_offset_lag = %v once everything is committed, want 0", got)
		}
		if got := metricValue(r.e.metrics.consumed.WithLabelValues(srcTopic)); got != 3 {
			t.Errorf("%v records consumed, want 3: a marker is not a record", got)
		}
	})
}

// A marker finished as it is taken does not carry the commit past records
// before it that are still out: while SNS holds the first transaction's
// records, a later transaction publishes and both markers are taken, but
// nothing is committed past the first held record. Once SNS answers, the
// held records are published once each, in order, and the commit reaches
// the end.
func TestMarkerDoesNotCommitPastRecordsStillOut(t *testing.T) {
	bubble(t, 1, false, func(t *testing.T, h *harness) {
		tx := h.transactionalProducer()
		defer tx.close()
		held := []*kgo.Record{rec("held", 0, ""), rec("held", 1, "")}
		tx.write(kgo.TryCommit, held...)
		tx.write(kgo.TryCommit, rec("other", 0, ""))
		r := h.start("a", h.config(), func(p *fakePublisher) { p.hold("held") })
		h.eventually("the later transaction published", func() bool { return h.sink.count() == 1 })
		time.Sleep(5 * time.Second) // several commit intervals
		if c, ok := h.committed()[0]; ok && c > held[0].Offset {
			t.Errorf("committed %d while the record at %d is held: the markers carried the commit past it", c, held[0].Offset)
		}
		r.pub.release("held")
		h.eventually("everything published", func() bool { return h.sink.count() == 3 })
		h.eventually("commits at the end", h.committedToEnd)
		if got := h.publishedSeqs("held"); !slices.Equal(got, seqs(2)) {
			t.Errorf("held published %v, want 0, 1 once each, in order", got)
		}
	})
}
