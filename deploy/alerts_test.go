package deploy

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const operationsGuide = "../docs/operations.md"

// runbookBase is where the alerts' runbook_url points: the operations guide
// on the repository's default branch.
const runbookBase = "https://github.com/thena-ai/kafka-sns-bridge/blob/main/docs/operations.md#"

// TestAlertRulesAreDocumented: every alert says what happened and links to
// its own section of docs/operations.md, so whoever is paged has a runbook.
func TestAlertRulesAreDocumented(t *testing.T) {
	anchors := markdownAnchors(t, operationsGuide)
	rules := loadAlerts(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[k]) == "" {
					t.Errorf("alert %s: annotation %s is missing", r.Alert, k)
				}
			}
			if r.Labels["severity"] == "" {
				t.Errorf("alert %s: no severity label", r.Alert)
			}
			url := r.Annotations["runbook_url"]
			anchor, ok := strings.CutPrefix(url, runbookBase)
			if !ok {
				t.Errorf("alert %s: runbook_url %q does not point into %s", r.Alert, url, runbookBase)
				continue
			}
			if !anchors[anchor] {
				t.Errorf("alert %s: runbook_url anchor #%s is not a heading of docs/operations.md", r.Alert, anchor)
			}
			if anchor != strings.ToLower(r.Alert) {
				t.Errorf("alert %s: runbook_url points at #%s, not at the alert's own section", r.Alert, anchor)
			}
		}
	}
	for _, want := range []string{"BridgeConsumerLagGrowing", "BridgeBreakerOpen", "BridgeSNSSystemicErrors",
		"BridgeDeadLetterRate", "BridgeEndToEndLatencyHigh"} {
		if _, ok := alertExprs(t)[want]; !ok {
			t.Errorf("alert %s is missing", want)
		}
	}
	if n == 0 {
		t.Fatal("no alert rules")
	}
}

// markdownAnchors returns the anchors GitHub generates for a Markdown
// file's headings: lower case, punctuation dropped, spaces to hyphens.
func markdownAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	drop := regexp.MustCompile(`[^\p{L}\p{N}\- _]`)
	anchors := map[string]bool{}
	fence := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		a := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")
		anchors[a] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return anchors
}

// TestAlertRulesPromtool runs promtool on the rules when it is installed
// (Debian's prometheus package ships it): `check rules` for syntax and
// `test rules` for prometheus/alerts_test.yml, which shows each alert firing
// on its situation and staying quiet on a near miss. The metric names are
// checked by TestDashboardAndAlertsUseExportedMetrics either way.
func TestAlertRulesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus); rule syntax and the rule unit tests were not run")
	}
	if out, err := exec.Command(promtool, "check", "rules", alertsFile).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", alertsFile, err, out)
	}

	// promtool compares annotations verbatim; the unit tests are about when
	// alerts fire, so they run against a copy without annotations.
	var doc map[string]any
	readFile(t, alertsFile, &doc)
	groups, _ := doc["groups"].([]any)
	for _, g := range groups {
		rules, _ := g.(map[string]any)["rules"].([]any)
		for _, r := range rules {
			delete(r.(map[string]any), "annotations")
		}
	}
	stripped, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alerts.yml"), stripped, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("prometheus/alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "alerts_test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules prometheus/alerts_test.yml: %v\n%s", err, out)
	}
}

// TestDashboardQueriesParse has promtool parse every dashboard query (as a
// recording rule, with Grafana's variables replaced by what Grafana would
// send), when promtool is installed: a typo in PromQL otherwise shows only
// as an error on a panel.
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus); dashboard queries were not parsed")
	}
	vars := strings.NewReplacer(`$__rate_interval`, `1m`, `$instance`, `.*`, `${instance}`, `.*`)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	where := map[string]string{}
	exprs := dashboardExprs(t)
	for _, k := range sortedKeys(exprs) {
		e := exprs[k]
		if strings.HasPrefix(strings.TrimSpace(e), "label_values(") || len(metricNames(e)) == 0 {
			continue // Grafana's own template functions and the data-source picker
		}
		name := fmt.Sprintf("dashboard:query_%d", len(rules))
		where[name] = k
		rules = append(rules, rule{Record: name, Expr: vars.Replace(e)})
	}
	if len(rules) < 10 {
		t.Fatalf("only %d dashboard queries found", len(rules))
	}
	doc := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	raw, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard_rules.yml")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		msg := string(out)
		for name, k := range where {
			msg = strings.ReplaceAll(msg, `"`+name+`"`, `"`+name+`" (`+k+`)`)
		}
		t.Fatalf("promtool rejects a dashboard query: %v\n%s", err, msg)
	}
}
