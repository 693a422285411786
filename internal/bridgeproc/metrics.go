package bridgeproc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Metrics is one scrape of /metrics: each series, named as the text format
// writes it ("name" or "name{label=\"value\",...}"), to its value.
type Metrics map[string]float64

// ParseMetrics reads the Prometheus text format; comments and lines that are
// not a series and a value are left out.
func ParseMetrics(text string) Metrics {
	m := Metrics{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m
}

// Scrape reads the /metrics of the bridge serving at addr (host:port).
func Scrape(ctx context.Context, addr string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return ParseMetrics(string(raw)), nil
}

// Sum adds the values of the series of metric name whose labels contain
// every one of labels (`reason="too_large"`).
func (m Metrics) Sum(name string, labels ...string) float64 {
	total := 0.0
	for series, v := range m {
		n, rest, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(rest, l)
		}
		if ok {
			total += v
		}
	}
	return total
}

// Max is the largest value among the series of metric name, 0 when it has
// none.
func (m Metrics) Max(name string) float64 {
	out := 0.0
	for series, v := range m {
		if n, _, _ := strings.Cut(series, "{"); n == name && v > out {
			out = v
		}
	}
	return out
}
