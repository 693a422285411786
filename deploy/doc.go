// Package deploy holds the files that run the bridge outside Go: the
// docker-compose stack's Prometheus configuration and Grafana provisioning,
// the compose init script, the Grafana dashboard
// (grafana/dashboards/kafka-sns-bridge.json), the Prometheus alert rules
// (prometheus/alerts.yml, with promtool unit tests in alerts_test.yml), and
// the Kubernetes manifests (k8s/, kustomize), their SASL/SCRAM variant
// (k8s-scram/) and the prometheus-operator objects (k8s-monitoring/, the
// PrometheusRule generated from prometheus/alerts.yml by
// TestPrometheusRuleIsGenerated -update). docs/operations.md explains them.
//
// Its tests check those files, since no Docker engine or cluster runs in
// CI: one builds and runs the bridge (the demo) and fails if the dashboard
// or an alert names a metric the bridge does not export; others check the
// manifests against config.yaml and run promtool and kubectl kustomize when
// they are installed.
package deploy
