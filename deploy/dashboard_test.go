package deploy

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// grafanaPanel is the part of a dashboard panel these tests read.
type grafanaPanel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource map[string]any `json:"datasource"`
	GridPos    struct{ H, W, X, Y int }
	Targets    []struct {
		Expr       string         `json:"expr"`
		Datasource map[string]any `json:"datasource"`
	} `json:"targets"`
}

// TestDashboardLayout: every panel queries the dashboard's data-source
// variable, has an id of its own and a place on the grid no other panel
// takes, so Grafana shows each where it was put.
func TestDashboardLayout(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dashboardDir, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no dashboards in %s", dashboardDir)
	}
	for _, f := range files {
		var d struct {
			UID        string         `json:"uid"`
			Title      string         `json:"title"`
			Panels     []grafanaPanel `json:"panels"`
			Templating struct {
				List []struct{ Name, Type string } `json:"list"`
			} `json:"templating"`
		}
		readFile(t, f, &d)
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: uid and title are needed for provisioning and links", f)
		}
		hasDS := false
		for _, v := range d.Templating.List {
			hasDS = hasDS || (v.Name == "datasource" && v.Type == "datasource")
		}
		if !hasDS {
			t.Errorf("%s: no datasource variable; panels would be bound to one Prometheus by uid", f)
		}
		ids := map[int]string{}
		cells := map[[2]int]string{}
		for _, p := range d.Panels {
			if other, dup := ids[p.ID]; dup {
				t.Errorf("%s: panels %q and %q share id %d", f, other, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("%s: panel %q has gridPos %+v outside the 24-column grid", f, p.Title, g)
			}
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, taken := cells[[2]int{x, y}]; taken {
						t.Errorf("%s: panels %q and %q overlap at (%d,%d)", f, other, p.Title, x, y)
						x, y = g.X+g.W, g.Y+g.H
						continue
					}
					cells[[2]int{x, y}] = p.Title
				}
			}
			if p.Type == "row" {
				continue
			}
			if p.Datasource["uid"] != "${datasource}" {
				t.Errorf("%s: panel %q does not use the ${datasource} variable", f, p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", f, p.Title)
			}
			for _, q := range p.Targets {
				if strings.TrimSpace(q.Expr) == "" {
					t.Errorf("%s: panel %q has an empty query", f, p.Title)
				}
			}
		}
	}
}

// TestDashboardProvisioning: compose mounts the dashboards where Grafana's
// provisioning file tells it to look.
func TestDashboardProvisioning(t *testing.T) {
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readFile(t, "grafana/provisioning/dashboards/bridge.yml", &prov)
	if len(prov.Providers) == 0 {
		t.Fatal("the provisioning file has no providers")
	}
	want := "./deploy/grafana/dashboards:" + prov.Providers[0].Options.Path
	found := false
	for _, v := range loadCompose(t).Services["grafana"].Volumes {
		found = found || strings.HasPrefix(v, want)
	}
	if !found {
		t.Errorf("grafana does not mount %s", want)
	}
}

// TestDashboardSelectsJobAndNamespace: one Prometheus often scrapes several
// bridge deployments (staging and production, one per team); the dashboard
// picks them by namespace and job, then replica, and every query honours
// all three, so no panel mixes deployments.
func TestDashboardSelectsJobAndNamespace(t *testing.T) {
	var d struct {
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
				IncludeAll bool   `json:"includeAll"`
				AllValue   string `json:"allValue"`
			} `json:"list"`
		} `json:"templating"`
	}
	readFile(t, filepath.Join(dashboardDir, "kafka-sns-bridge.json"), &d)
	vars := map[string]string{}
	var order []string
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Definition
		order = append(order, v.Name)
		if v.Name != "datasource" && (!v.IncludeAll || v.AllValue != ".*") {
			// ".*" also matches series without the label (a compose
			// Prometheus has no namespace), so "All" shows them.
			t.Errorf("variable %s: want All as .*, have includeAll %v allValue %q", v.Name, v.IncludeAll, v.AllValue)
		}
	}
	if strings.Join(order, ",") != "datasource,namespace,job,instance" {
		t.Errorf("variables %v, want datasource, namespace, job, instance", order)
	}
	if !strings.Contains(vars["job"], `namespace=~"$namespace"`) || !strings.Contains(vars["instance"], `job=~"$job"`) {
		t.Errorf("the pickers do not narrow each other: job %q, instance %q", vars["job"], vars["instance"])
	}
	metric := regexp.MustCompile(`\b(?:bridge|process|go)_[a-z_]+\b(\{[^}]*\})?`)
	want := `{namespace=~"$namespace", job=~"$job", instance=~"$instance"`
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			for _, m := range metric.FindAllStringSubmatch(q.Expr, -1) {
				if !strings.HasPrefix(m[1], want) {
					t.Errorf("panel %q: %s does not select %s}", p.Title, m[0], want)
				}
			}
		}
	}
}
