package benchsink

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// capture records the body of the one request the SDK sends.
type capture struct{ body []byte }

func (c *capture) RoundTrip(req *http.Request) (*http.Response, error) {
	c.body, _ = io.ReadAll(req.Body)
	return &http.Response{StatusCode: 500, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: req}, nil
}

// BenchmarkPublishBatch is the sink's own cost for a PublishBatch of ten
// 1.6 KB messages with the bridge's six attributes, as the SDK writes it
// (without the HTTP server's cost); ns/op over 10 is its cost per event.
func BenchmarkPublishBatch(b *testing.B) {
	for _, tc := range sinks {
		if tc.listen && !tc.double {
			continue
		}
		b.Run(tc.name, func(b *testing.B) {
			s := newServer(Options{Double: tc.double})
			arn, _ := s.CreateTopic("events")
			cap := &capture{}
			body := strings.Repeat(`{"eventId":"01JDXQ","payload":{"ticket":{"title":"Printer on fire","description":"It is really on fire"}}},`, 16)
			in := batch(arn, 10, body, false)
			recorder := clientWith(cap)
			_, _ = recorder.PublishBatch(context.Background(), in)
			if len(cap.body) == 0 {
				b.Fatal("no body captured")
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(cap.body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(cap.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10/1000, "µs/event")
		})
	}
}
