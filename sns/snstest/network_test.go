package snstest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// TestNetwork: requests reach the double over the in-memory network with a
// real http.Transport, reusing a connection; a request the double holds is
// abandoned by the transport's response-header timeout and its connection
// closed; Refuse closes the open connections and refuses dials until it is
// turned off.
func TestNetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{})
		arn, err := s.CreateTopic("t", nil)
		if err != nil {
			t.Fatal(err)
		}
		n := s.Network()
		defer n.Close()
		tr := &http.Transport{DialContext: n.DialContext, ResponseHeaderTimeout: time.Second}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		publish := func() (*http.Response, error) {
			form := url.Values{"Action": {"Publish"}, "TopicArn": {arn}, "Message": {"m"}}
			resp, err := c.Post("http://sns.test/", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return resp, err
		}
		for range 2 {
			if resp, err := publish(); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("publish: %v %v", resp, err)
			}
		}
		if n.Dials() != 1 || s.Count(arn) != 2 {
			t.Errorf("%d dials for 2 requests, %d published; want 1 and 2", n.Dials(), s.Count(arn))
		}

		remove := s.Inject(&Fault{Action: "Publish", Latency: time.Hour})
		start := time.Now()
		if _, err := publish(); err == nil || time.Since(start) != time.Second {
			t.Errorf("held request: %v after %v; want a timeout after 1s", err, time.Since(start))
		}
		remove()
		synctest.Wait()
		if got := n.Open(); got != 0 {
			t.Errorf("%d connections open after the timed-out one; want it closed", got)
		}

		if _, err := publish(); err != nil {
			t.Fatal(err)
		}
		n.Refuse(true)
		synctest.Wait()
		if got := n.Open(); got != 0 {
			t.Errorf("%d connections open after Refuse; want none", got)
		}
		if _, err := publish(); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("publish while refused: %v, want ECONNREFUSED", err)
		}
		n.Refuse(false)
		if _, err := publish(); err != nil {
			t.Errorf("publish after Refuse(false): %v", err)
		}
	})
}
