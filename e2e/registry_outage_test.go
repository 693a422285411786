//go:build integration

package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
	"github.com/thena-ai/kafka-sns-bridge/internal/testenv"
)

// readyStatus is the HTTP status of the bridge's /readyz, 0 when it does
// not answer.
func readyStatus(b *testenv.Bridge) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.Addr()+"/readyz", nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// logged reports whether the bridge logged a line whose message starts
// with prefix.
func logged(b *testenv.Bridge, prefix string) bool {
	for _, l := range b.LogLines() {
		if msg, _ := l["msg"].(string); strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// TestRegistryOutageShowsWithinSeconds: the schema registry stops
// answering (a proxy resets every connection) just before events of schemas
// the bridge has not looked up yet arrive. Within seconds the bridge logs
// that decoding is stalled and bridge_translate_stalled_partitions counts
// the partition; once it has been stalled for
// http.ready_translate_stall_timeout, /readyz answers 503. When the
// registry answers again every event is delivered, nothing is
// dead-lettered, the gauge falls to zero, the recovery is logged, and the
// bridge is ready again. (SNS side: the double.)
func TestRegistryOutageShowsWithinSeconds(t *testing.T) {
	const (
		visible      = 5 * time.Second
		readyBound   = 3 * time.Second
		stalledGauge = "bridge_translate_stalled_partitions"
	)
	topic, dlq := sourceTopic(t, 1)
	s := newSink(t, true)
	proxy := newFaultProxy(t, hostPort(t, testenv.Registry(t)))
	cfg := doubleConfig(t, topic, s)
	path := strings.TrimPrefix(strings.TrimPrefix(testenv.Registry(t), "http://"), hostPort(t, testenv.Registry(t)))
	cfg.Set("schemas.registry_url", proxy.url()+path)
	cfg.Set("http.ready_translate_stall_timeout", readyBound.String())
	b := testenv.StartBridge(t, "bridge", cfg)

	proxy.cut()
	g, err := eventgen.New(51, eventgen.Options{Orgs: 3})
	if err != nil {
		t.Fatal(err)
	}
	var recs []eventgen.Record
	for range 20 {
		recs = append(recs, g.TicketUpdated(300))
	}
	produced := produce(t, testenv.KafkaClient(t), topic, recs)
	arrived := time.Now()

	stalled := func() bool {
		m, err := b.Scrape()
		return err == nil && m.Sum(stalledGauge) == 1
	}
	if !waitFor(visible, stalled) {
		t.Fatalf("%s never reached 1 within %v of the events arriving with the registry down", stalledGauge, visible)
	}
	t.Logf("stall visible in %v", time.Since(arrived).Round(10*time.Millisecond))
	if !logged(b, "translation stalled") && !logged(b, "translate failed, retrying") {
		t.Error("no log line says decoding is stalled")
	}
	if !waitFor(readyBound+visible, func() bool { return readyStatus(b) == http.StatusServiceUnavailable }) {
		t.Errorf("/readyz still answers %d with decoding stalled for over %v", readyStatus(b), readyBound)
	}
	t.Logf("unready %v after the events arrived", time.Since(arrived).Round(10*time.Millisecond))
	if s.acceptedCount() != 0 {
		t.Errorf("%d events published while the registry was down", s.acceptedCount())
	}

	proxy.restore()
	restored := time.Now()
	if !waitFor(time.Minute, func() bool { return s.acceptedCount() == len(produced) }) {
		t.Fatalf("%d of %d events delivered after the registry came back", s.acceptedCount(), len(produced))
	}
	t.Logf("every event delivered %v after the registry came back", time.Since(restored).Round(10*time.Millisecond))
	if !waitFor(10*time.Second, func() bool { return !stalled() && readyStatus(b) == http.StatusOK }) {
		t.Errorf("after the recovery: %s still 1 or /readyz %d", stalledGauge, readyStatus(b))
	}
	if !logged(b, "translation recovered") {
		t.Error("no log line says decoding recovered")
	}
	if dead := readAll(t, dlq); len(dead) != 0 {
		t.Errorf("%d events dead-lettered for a registry outage", len(dead))
	}
	if err := b.Stop(40 * time.Second); err != nil {
		t.Errorf("bridge on SIGTERM: %v", err)
	}
}
