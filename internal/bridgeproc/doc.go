// Package bridgeproc runs the bridge binary as a child process, for the
// end-to-end tests (e2e/, through internal/testenv) and the benchmark
// harness (cmd/bench) alike: build it (Build), write its configuration
// (Config), give it an environment that can never reach a developer's real
// AWS account (Env), start it and wait until /readyz answers (Start,
// Bridge.WaitReady), and read its /metrics (Scrape, Metrics).
//
// Nothing here needs a testing.TB: errors are returned, so cmd/bench, which
// is not a test binary, uses the same code. internal/testenv wraps it for
// tests (testenv.StartBridge fails the test and logs the bridge's stderr).
// The bridge itself never imports this package.
package bridgeproc
