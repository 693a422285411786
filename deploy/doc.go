// Package deploy holds the files that run the bridge outside Go: the
// docker-compose stack's Prometheus and Grafana provisioning, the compose
// init script, and (with the operator tooling) Kubernetes manifests. Its tests
// check those files, since no Docker engine or cluster runs in CI.
package deploy
