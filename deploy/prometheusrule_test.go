package deploy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the generated k8s-monitoring/prometheusrule.yaml from prometheus/alerts.yml")

const prometheusRuleFile = "k8s-monitoring/prometheusrule.yaml"

// prometheusRule is the PrometheusRule object holding the groups of
// alerts.yml as they are written there, comments included: one source for
// the alert rules, whether Prometheus reads the file or prometheus-operator
// the object.
func prometheusRule(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	var groups *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "groups" {
			// The file's own header (how to test it) does not describe the object.
			key := *root.Content[i]
			key.HeadComment = ""
			groups = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{&key, root.Content[i+1]}}
		}
	}
	if groups == nil {
		t.Fatalf("%s has no groups", alertsFile)
	}
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	obj := &yaml.Node{Kind: yaml.MappingNode, HeadComment: "Generated from deploy/prometheus/alerts.yml by\n" +
		"go test ./deploy -run TestPrometheusRuleIsGenerated -update; do not edit.", Content: []*yaml.Node{
		str("apiVersion"), str("monitoring.coreos.com/v1"),
		str("kind"), str("PrometheusRule"),
		str("metadata"), {Kind: yaml.MappingNode, Content: []*yaml.Node{
			str("name"), str("kafka-sns-bridge"),
			str("labels"), {Kind: yaml.MappingNode, Content: []*yaml.Node{str("app.kubernetes.io/name"), str("kafka-sns-bridge")}},
		}},
		str("spec"), groups,
	}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(obj); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The PrometheusRule is alerts.yml's groups, generated, never copied by
// hand: an alert changed in one place and not the other fails here.
func TestPrometheusRuleIsGenerated(t *testing.T) {
	want := prometheusRule(t)
	if *update {
		if err := os.WriteFile(prometheusRuleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(prometheusRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what %s generates: edit the alerts there and run go test ./deploy -run TestPrometheusRuleIsGenerated -update", prometheusRuleFile, alertsFile)
	}
	// The object holds the same rules as the file, read back.
	var obj struct {
		Spec alertRules `yaml:"spec"`
	}
	readFile(t, prometheusRuleFile, &obj)
	file := loadAlerts(t)
	if len(obj.Spec.Groups) != len(file.Groups) {
		t.Fatalf("%d groups in the PrometheusRule, %d in %s", len(obj.Spec.Groups), len(file.Groups), alertsFile)
	}
	for i, g := range file.Groups {
		if len(obj.Spec.Groups[i].Rules) != len(g.Rules) {
			t.Errorf("group %d: %d rules in the PrometheusRule, %d in the file", i, len(obj.Spec.Groups[i].Rules), len(g.Rules))
		}
		for j, r := range g.Rules {
			if j < len(obj.Spec.Groups[i].Rules) && obj.Spec.Groups[i].Rules[j].Expr != r.Expr {
				t.Errorf("rule %s: expression differs", r.Alert+r.Record)
			}
		}
	}
}

// The ServiceMonitor scrapes the metrics Service of deploy/k8s: its
// selector matches the Service's labels and its port is one the Service
// names.
func TestServiceMonitorScrapesTheService(t *testing.T) {
	var sm map[string]any
	readFile(t, filepath.Join("k8s-monitoring", "servicemonitor.yaml"), &sm)
	if str(sm, "apiVersion") != "monitoring.coreos.com/v1" || str(sm, "kind") != "ServiceMonitor" {
		t.Fatalf("servicemonitor.yaml is %s %s", str(sm, "apiVersion"), str(sm, "kind"))
	}
	svc := one(t, loadManifests(t), "Service")
	svcLabels := obj(svc, "metadata", "labels")
	for k, v := range obj(sm, "spec", "selector", "matchLabels") {
		if svcLabels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%v; the Service has %v", k, v, svcLabels[k])
		}
	}
	ports := map[string]bool{}
	for _, p := range list(obj(svc, "spec"), "ports") {
		ports[str(p.(map[string]any), "name")] = true
	}
	eps := list(obj(sm, "spec"), "endpoints")
	if len(eps) == 0 {
		t.Fatal("the ServiceMonitor has no endpoints")
	}
	for _, e := range eps {
		ep := e.(map[string]any)
		if !ports[str(ep, "port")] || str(ep, "path") != "/metrics" {
			t.Errorf("endpoint port %q path %q; the Service's ports are %v and the bridge serves /metrics", str(ep, "port"), str(ep, "path"), ports)
		}
	}
	var rule map[string]any
	readFile(t, prometheusRuleFile, &rule)
	var k map[string]any
	readFile(t, filepath.Join("k8s-monitoring", "kustomization.yaml"), &k)
	if len(list(k, "resources")) != 2 {
		t.Errorf("k8s-monitoring/kustomization.yaml lists %v, want the ServiceMonitor and the PrometheusRule", list(k, "resources"))
	}
}
