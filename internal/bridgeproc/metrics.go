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
	text, err := Fetch(ctx, addr)
	if err != nil {
		return nil, err
	}
	return ParseMetrics(text), nil
}

// Fetch returns the /metrics page of the bridge serving at addr (host:port),
// in the Prometheus text format.
func Fetch(ctx context.Context, addr string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	raw, err := io.ReadAll(resp.Body)
	return string(raw), err
}

// Types returns the metric families a page in the Prometheus text format
// declares with # TYPE lines: name to type (counter, gauge, histogram, ...).
func Types(text string) map[string]string {
	types := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
	}
	return types
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
