package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
)

const (
	dashboardDir = "grafana/dashboards"
	alertsFile   = "prometheus/alerts.yml"
)

// needsFault lists metric families the dashboard or the alerts use that the
// bridge registers but that have no series (and so no # TYPE line) until a
// fault happens: client_golang writes nothing for a vector without
// children. The demo's traffic is clean apart from its poison records, so
// these cannot appear in the scrape. Each entry must still be declared in
// the bridge's source (checked below), so a typo cannot hide here.
var needsFault = map[string]string{
	// Only an event over its topic's size limit is truncated; the demo's
	// generated events all fit.
	"bridge_truncations_total": "internal/translate/translate.go",
	// Engine retries need a transient decode error (schema registry down)
	// or a failed dead-letter write.
	"bridge_retries_total": "consumer/metrics.go",
	// Failed SNS entry attempts need SNS to fail; the demo's double does not.
	"bridge_sns_errors_total": "sns/metrics.go",
	// SNS retries need a transient SNS error (throttling, 5xx, timeout).
	"bridge_sns_retries_total": "sns/metrics.go",
}

// metricPrefixes are the families the bridge exports: its own, franz-go's
// (bridge_kafka_*), and the Go and process collectors.
var metricPrefixes = []string{"bridge_", "go_", "process_"}

// TestDashboardAndAlertsUseExportedMetrics runs the real bridge (the demo:
// the whole pipeline on an embedded Kafka and the SNS double), scrapes
// /metrics and fails if the dashboard or an alert rule names a metric the
// bridge does not export: a renamed metric would otherwise leave an empty
// panel and an alert that can never fire.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	exprs := dashboardExprs(t)
	for name, e := range alertExprs(t) {
		exprs["alert "+name] = e
	}
	if len(exprs) == 0 {
		t.Fatal("no PromQL expressions found in the dashboard or the alert rules")
	}
	used := map[string][]string{} // metric name -> where
	for where, e := range exprs {
		for _, n := range metricNames(e) {
			used[n] = append(used[n], where)
		}
	}

	// Families we expect to see: everything used, less what needs a fault.
	want := map[string]bool{}
	for n := range used {
		if fam := familyGuess(n); needsFault[fam] == "" {
			want[fam] = true
		}
	}
	families := scrapeRunningBridge(t, want)

	for _, n := range sortedKeys(used) {
		fam, ok := resolveFamily(n, families)
		if !ok {
			if src := needsFault[fam]; src != "" {
				t.Logf("%s: no series without a fault (declared in %s)", fam, src)
				continue
			}
			t.Errorf("%s is not exported by the bridge; used by %s", n, strings.Join(used[n], "; "))
			continue
		}
		if strings.HasSuffix(n, "_bucket") && families[fam] != "histogram" {
			t.Errorf("%s: %s is a %s, not a histogram; used by %s", n, fam, families[fam], strings.Join(used[n], "; "))
		}
		if _, listed := needsFault[fam]; listed {
			t.Logf("%s is listed in needsFault but the demo exported it; the entry may be unnecessary", fam)
		}
	}
}

// TestNeedsFaultEntriesAreDeclared keeps needsFault honest: each family it
// excuses is declared (Name: "...") in the file it points at.
func TestNeedsFaultEntriesAreDeclared(t *testing.T) {
	for fam, src := range needsFault {
		raw, err := os.ReadFile(filepath.Join("..", src))
		if err != nil {
			t.Errorf("%s: %v", fam, err)
			continue
		}
		if !regexp.MustCompile(`Name:\s*"` + regexp.QuoteMeta(fam) + `"`).Match(raw) {
			t.Errorf("needsFault excuses %s, but %s does not declare it", fam, src)
		}
	}
}

// TestMetricNameCheck shows the check above can fail: an unknown name, a
// histogram suffix on a counter and a name inside a label value.
func TestMetricNameCheck(t *testing.T) {
	families := map[string]string{
		"bridge_end_to_end_latency_seconds": "histogram",
		"bridge_dead_letters_total":         "counter",
		"go_goroutines":                     "gauge",
	}
	tests := []struct {
		expr    string
		names   []string
		missing []string
	}{
		{`histogram_quantile(0.99, sum by (le) (rate(bridge_end_to_end_latency_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`,
			[]string{"bridge_end_to_end_latency_seconds_bucket"}, nil},
		{`sum(rate(bridge_dead_letters_total[5m])) / sum(rate(bridge_records_consumd_total[5m]))`,
			[]string{"bridge_dead_letters_total", "bridge_records_consumd_total"}, []string{"bridge_records_consumd_total"}},
		{`go_goroutines{job="bridge_go_process"} and on() process_open_fds offset 5m`,
			[]string{"go_goroutines", "process_open_fds"}, []string{"process_open_fds"}},
		{`label_values(bridge_dead_letters_total, reason)`, []string{"bridge_dead_letters_total"}, nil},
		{`sum(rate(bridge_dead_letters_total_count[5m]))`, []string{"bridge_dead_letters_total_count"}, []string{"bridge_dead_letters_total_count"}},
	}
	for _, tt := range tests {
		names := metricNames(tt.expr)
		if !slices.Equal(names, tt.names) {
			t.Errorf("metricNames(%q) = %v, want %v", tt.expr, names, tt.names)
		}
		var missing []string
		for _, n := range names {
			if _, ok := resolveFamily(n, families); !ok {
				missing = append(missing, n)
			}
		}
		if !slices.Equal(missing, tt.missing) {
			t.Errorf("%q: missing %v, want %v", tt.expr, missing, tt.missing)
		}
	}
}

// metricNames returns the metric names in a PromQL expression (or a Grafana
// query such as label_values(...)), in order of appearance, without
// duplicates. String literals are skipped, so label values do not count.
func metricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdentChar(expr[j]) {
				j++
			}
			word := expr[i:j]
			// $name and ${name} are Grafana variables, not metrics.
			if (i == 0 || (expr[i-1] != '$' && expr[i-1] != '{')) && hasMetricPrefix(word) && !slices.Contains(names, word) {
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || ('0' <= c && c <= '9') }

func hasMetricPrefix(w string) bool {
	for _, p := range metricPrefixes {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// histogramSuffixes are the series a histogram (or summary) family exports
// besides its own name.
var histogramSuffixes = []string{"_bucket", "_sum", "_count"}

// familyGuess strips a histogram suffix, for names not in any scrape.
func familyGuess(name string) string {
	for _, s := range histogramSuffixes {
		if base, ok := strings.CutSuffix(name, s); ok {
			return base
		}
	}
	return name
}

// resolveFamily maps a series name to the family that exports it: the name
// itself, or for _bucket/_sum/_count the histogram or summary it belongs to.
func resolveFamily(name string, families map[string]string) (string, bool) {
	if _, ok := families[name]; ok {
		return name, true
	}
	for _, s := range histogramSuffixes {
		if base, ok := strings.CutSuffix(name, s); ok {
			if typ := families[base]; typ == "histogram" || typ == "summary" {
				return base, true
			}
		}
	}
	return familyGuess(name), false
}

// dashboardExprs returns every query in the provisioned dashboards, keyed
// by "file: panel title (refId)": targets' expr and templating queries.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dashboardDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s (%v)", dashboardDir, err)
	}
	out := map[string]string{}
	for _, f := range files {
		var d any
		readFile(t, f, &d)
		collectQueries(filepath.Base(f), d, out)
	}
	return out
}

func collectQueries(where string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		if title, ok := v["title"].(string); ok {
			where = where + ": " + title
		} else if name, ok := v["name"].(string); ok {
			where = where + ": $" + name
		}
		for _, k := range []string{"expr", "query", "definition"} {
			if s, ok := v[k].(string); ok && s != "" {
				key := where + " (" + k + ")"
				if ref, ok := v["refId"].(string); ok {
					key = where + " (" + ref + ")"
				}
				for n := 2; out[key] != ""; n++ {
					key = fmt.Sprintf("%s (%s #%d)", where, k, n)
				}
				out[key] = s
			}
		}
		for k, c := range v {
			if k != "datasource" {
				collectQueries(where, c, out)
			}
		}
	case []any:
		for _, c := range v {
			collectQueries(where, c, out)
		}
	}
}

// alertRules is the part of a Prometheus rule file the tests read.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadAlerts(t *testing.T) alertRules {
	t.Helper()
	var r alertRules
	readFile(t, alertsFile, &r)
	return r
}

func alertExprs(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, g := range loadAlerts(t).Groups {
		for _, r := range g.Rules {
			out[r.Alert+r.Record] = r.Expr
		}
	}
	return out
}

// scrapeRunningBridge builds ./cmd/bridge, runs `bridge demo -events 0`
// (endless: the pipeline on an embedded Kafka and the SNS double, with poison
// records that are dead-lettered), scrapes /metrics until every family in
// want has appeared or a deadline passes, stops the bridge with SIGTERM and
// returns the families of the last scrape (name -> type).
func scrapeRunningBridge(t *testing.T, want map[string]bool) map[string]string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bridge")
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancelBuild()
	if err := bridgeproc.Build(buildCtx, bin); err != nil {
		t.Fatal(err)
	}
	addr, err := bridgeproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bridgeproc.LogBuffer
	b, err := bridgeproc.Start(context.Background(), bridgeproc.Options{
		Binary: bin, Args: []string{"demo", "-events", "0", "-poison", "4", "-samples", "0", "-http", addr},
		Addr: addr, Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		if err := b.Stop(45 * time.Second); err != nil {
			t.Errorf("the bridge did not stop cleanly on SIGTERM: %v\n%s", err, bridgeproc.LastLines(stderr.String(), 20))
		}
	}
	t.Cleanup(stop)
	readyCtx, cancelReady := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelReady()
	if err := b.WaitReady(readyCtx); err != nil {
		b.Kill()
		t.Fatalf("%v\n%s", err, bridgeproc.LastLines(stderr.String(), 20))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var families map[string]string
	var scrapeErr error
	for {
		families, scrapeErr = scrape(ctx, addr)
		if scrapeErr == nil && len(missingFrom(want, families)) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			if scrapeErr != nil {
				t.Fatalf("scraping %s: %v", addr, scrapeErr)
			}
			// Not fatal: the caller reports each missing name with the
			// panels and rules that use it.
			t.Logf("after 60 s these families still have no series: %v", missingFrom(want, families))
			stop()
			return families
		case <-time.After(500 * time.Millisecond):
		}
	}
	stop()
	return families
}

// scrape returns the families (name -> type) of the bridge's /metrics at
// addr.
func scrape(ctx context.Context, addr string) (map[string]string, error) {
	text, err := bridgeproc.Fetch(ctx, addr)
	if err != nil {
		return nil, err
	}
	families := bridgeproc.Types(text)
	if len(families) == 0 {
		return nil, errors.New("no # TYPE lines")
	}
	return families, nil
}

func missingFrom(want map[string]bool, have map[string]string) []string {
	var missing []string
	for n := range want {
		if _, ok := have[n]; !ok {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return missing
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
