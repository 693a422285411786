package main

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// version and commit are set at build time by make build and the
// Dockerfile: -ldflags "-X main.version=v1.4.0 -X main.commit=0123abc".
// Left empty, they come from the build information Go records (the module
// version of go install, the VCS revision of go build in a checkout).
var version, commit string

// buildInfo is what a binary says about itself: in `bridge version`, the
// dead-letter headers and bridge_build_info.
type buildInfo struct {
	Version string
	Commit  string
	Go      string
}

// build returns this binary's buildInfo.
func build() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		var revision, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if b.Commit == "" && revision != "" {
			b.Commit = revision
			if modified == "true" {
				b.Commit += "-dirty"
			}
		}
	}
	b.Version = cmp.Or(b.Version, "dev")
	b.Commit = cmp.Or(b.Commit, "unknown")
	return b
}

// String is the line `bridge version` prints.
func (b buildInfo) String() string {
	return fmt.Sprintf("kafka-sns-bridge %s (commit %s, %s %s/%s)", b.Version, b.Commit, b.Go, runtime.GOOS, runtime.GOARCH)
}

// collector is bridge_build_info{version,commit,go}, always 1: the
// usual way to show in a dashboard, and join onto alerts, which build each
// replica runs.
func (b buildInfo) collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "bridge_build_info",
		Help:        "Always 1; the labels say which build the process runs: version, VCS commit and Go version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "go": b.Go},
	})
	g.Set(1)
	return g
}
