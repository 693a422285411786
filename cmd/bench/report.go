package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// report collects the runs and renders docs/benchmarks.md's generated part.
type report struct {
	opts       options
	machine    machine
	started    time.Time
	finished   time.Time
	loadBefore string
	loadAfter  string
	runs       []runResult
	latency    []latencyResult
	notes      []string
}

type machine struct {
	CPU, Memory, Go, Commit string
	Cores                   int
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func describeMachine(ctx context.Context) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if out, err := exec.CommandContext(ctx, "lscpu").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "Model name" {
				m.CPU = strings.TrimSpace(v)
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(firstLine(b)) // MemTotal: N kB
		if len(f) >= 2 {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		m.Go = strings.TrimPrefix(firstLine(out), "go version ")
	}
	if out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty", "--abbrev=12").Output(); err == nil {
		m.Commit = firstLine(out)
	}
	return m
}

// loadAverage is /proc/loadavg's three load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// stat is a median with its range.
type stat struct{ med, min, max float64 }

func stats(xs []float64) stat {
	if len(xs) == 0 {
		return stat{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med, s[0], s[len(s)-1]}
}

func (s stat) format(verb string) string {
	if s.min == s.max {
		return fmt.Sprintf(verb, s.med)
	}
	return fmt.Sprintf(verb+" ("+verb+"–"+verb+")", s.med, s.min, s.max)
}

// summary is one contender's statistics over its repetitions.
type summary struct {
	name                             string
	rate, cpu, rss, reqs, sink, busy stat
	n                                int
}

func (r *report) summaries() map[string]summary {
	by := map[string][]runResult{}
	for _, x := range r.runs {
		by[x.Contender] = append(by[x.Contender], x)
	}
	out := map[string]summary{}
	for c, xs := range by {
		var rate, cpu, rss, reqs, sink, busy []float64
		for _, x := range xs {
			sink = append(sink, x.SinkCPUSeconds/float64(x.Events)*1e6)
			busy = append(busy, x.MachineBusy*100)
			rate = append(rate, x.rate())
			cpu = append(cpu, x.cpuPerEvent()*1e6)
			rss = append(rss, float64(x.MaxRSS)/(1<<20))
			reqs = append(reqs, x.requestsPerEvent())
		}
		out[c] = summary{name: c, rate: stats(rate), cpu: stats(cpu), rss: stats(rss), reqs: stats(reqs), sink: stats(sink), busy: stats(busy), n: len(xs)}
	}
	return out
}

var contenderText = map[string]string{
	cBridge:     "**bridge** (`bridge run`, sink answers at once)",
	cBridgeSlow: "**bridge**, sink adds %s per call",
	cRawConsume: "raw consume (franz-go group, commits, nothing else)",
	cRawPublish: "raw publish (PublishBatch of ready-made messages)",
	cPerMessage: "one `Publish` per message (Watermill/Bento style)",
	cPipeline:   "bridge packages in process (diagnostic)",
}

func (r *report) contenderName(c string) string {
	if c == cBridgeSlow {
		return fmt.Sprintf(contenderText[c], r.opts.sinkLatency)
	}
	name := contenderText[base(c)]
	if base(c) == cPipeline && r.opts.fetchMaxWait > 0 {
		name = fmt.Sprintf("bridge packages in process, franz-go FetchMaxWait %s (diagnostic)", r.opts.fetchMaxWait)
	}
	if strings.HasSuffix(c, slowSuffix) {
		name += fmt.Sprintf(", sink adds %s per call", r.opts.sinkLatency)
	}
	return name
}

// target is one performance target and whether it was met.
type target struct {
	name   string
	pass   bool
	detail string
	known  bool // false when a contender it needs was not run
}

// verdict is PASS or MISS, or unmeasured when the target is not known.
func (t target) verdict(unmeasured string) string {
	switch {
	case !t.known:
		return unmeasured
	case t.pass:
		return "PASS"
	}
	return "MISS"
}

func (r *report) targets() []target {
	s := r.summaries()
	b, okB := s[cBridge]
	var ts []target
	add := func(name string, ok bool, pass bool, detail string) {
		ts = append(ts, target{name: name, known: ok, pass: pass, detail: detail})
	}
	rc, okC := s[cRawConsume]
	rp, okP := s[cRawPublish]
	if okB && okC && okP {
		floor := 0.8 * min(rc.rate.med, rp.rate.med)
		add("bridge throughput ≥ 0.8 × min(raw consume, raw publish)", true, b.rate.med >= floor,
			fmt.Sprintf("%.0f vs %.0f events/s (%.2f × the lower reference)", b.rate.med, floor, b.rate.med/min(rc.rate.med, rp.rate.med)))
	} else {
		add("bridge throughput ≥ 0.8 × min(raw consume, raw publish)", false, false, "not run")
	}
	if okB && okP {
		add("bridge CPU/event ≤ 1.25 × raw publish's", true, b.cpu.med <= 1.25*rp.cpu.med,
			fmt.Sprintf("%.1f vs %.1f µs/event (%.2f ×)", b.cpu.med, 1.25*rp.cpu.med, b.cpu.med/rp.cpu.med))
	} else {
		add("bridge CPU/event ≤ 1.25 × raw publish's", false, false, "not run")
	}
	if pm, ok := s[cPerMessage]; okB && ok {
		add("bridge throughput ≥ 3 × one-per-message peer, at no more CPU/event", true,
			b.rate.med >= 3*pm.rate.med && b.cpu.med <= pm.cpu.med,
			fmt.Sprintf("%.2f × the throughput, %.2f × the CPU/event", b.rate.med/pm.rate.med, b.cpu.med/pm.cpu.med))
	} else {
		add("bridge throughput ≥ 3 × one-per-message peer, at no more CPU/event", false, false, "not run")
	}
	if sl, ok := s[cBridgeSlow]; okB && ok {
		add(fmt.Sprintf("with %s sink latency the bridge keeps ≥ 0.8 of its throughput", r.opts.sinkLatency), true,
			sl.rate.med >= 0.8*b.rate.med, fmt.Sprintf("%.0f vs %.0f events/s (%.2f ×)", sl.rate.med, b.rate.med, sl.rate.med/b.rate.med))
	} else {
		add(fmt.Sprintf("with %s sink latency the bridge keeps ≥ 0.8 of its throughput", r.opts.sinkLatency), false, false, "not run")
	}
	var peak float64
	seen := false
	for _, x := range r.runs {
		if isBridge(x.Contender) {
			peak = max(peak, float64(x.MaxRSS)/(1<<20))
			seen = true
		}
	}
	note := ""
	if r.opts.events < 1000000 {
		note = fmt.Sprintf(" (draining %d events, not 1,000,000)", r.opts.events)
	}
	add("bridge peak RSS < 300 MiB while draining the backlog", seen, peak < 300, fmt.Sprintf("%.0f MiB at most%s", peak, note))
	return ts
}

const (
	beginMarker = "<!-- bench:begin (generated by go run ./cmd/bench; edit outside these markers) -->"
	endMarker   = "<!-- bench:end -->"
)

func (r *report) command() string {
	var b strings.Builder
	b.WriteString("go run ./cmd/bench")
	for _, a := range r.opts.args {
		if a == "" || strings.ContainsAny(a, " '\"$") {
			a = "'" + a + "'"
		}
		b.WriteString(" " + a)
	}
	return b.String()
}

// generated renders the measured part of the report.
func (r *report) generated() string {
	var b bytes.Buffer
	o := r.opts
	m := r.machine
	fmt.Fprintf(&b, "%s\n\n", beginMarker)
	fmt.Fprintf(&b, "Measured %s UTC, %.0f minutes.\n\n", r.started.UTC().Format("2006-01-02 15:04"), r.finished.Sub(r.started).Minutes())
	fmt.Fprintf(&b, "- Machine: %s, %d cores, %s memory (shared: Kafka, the SNS double and the harness run on the same cores)\n", m.CPU, m.Cores, m.Memory)
	fmt.Fprintf(&b, "- Go: %s; commit %s\n", m.Go, m.Commit)
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min): %s before, %s after\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(&b, "- Command: `%s`\n", r.command())
	fmt.Fprintf(&b, "- Backlog: %d events, seed %d, %d organizations, %d partitions; SNS calls in flight per topic: %d; %d repetitions\n\n",
		o.events, o.seed, o.orgs, o.partitions, o.inflight, o.reps)

	b.WriteString("Medians, with the range over the repetitions in parentheses.\n\n")
	b.WriteString("| contender | events/s | CPU µs/event | peak RSS MiB | SNS requests/event | SNS double's CPU µs/event | machine busy % |\n|---|---:|---:|---:|---:|---:|---:|\n")
	s := r.summaries()
	for _, c := range allContenders {
		x, ok := s[c]
		if !ok {
			continue
		}
		reqs := x.reqs.format("%.3f")
		if c == cRawConsume {
			reqs = "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.contenderName(c), x.rate.format("%.0f"), x.cpu.format("%.1f"), x.rss.format("%.0f"), reqs,
			x.sink.format("%.1f"), x.busy.format("%.0f"))
	}
	if len(r.latency) > 0 {
		fmt.Fprintf(&b, "\nBridge end-to-end latency (event timestamp to the sink accepting the message), events offered live at a fixed rate for %s, the first %s not counted:\n\n", o.rateDuration, o.warmup)
		b.WriteString("| offered events/s | sustained events/s | p50 ms | p99 ms | max ms | bridge CPU µs/event | bridge peak RSS MiB | machine busy % |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		by := map[int][]latencyResult{}
		var rates []int
		for _, l := range r.latency {
			if _, ok := by[l.Rate]; !ok {
				rates = append(rates, l.Rate)
			}
			by[l.Rate] = append(by[l.Rate], l)
		}
		for _, rate := range rates {
			var p50, p99, mx, cpu, rss, busy, sus []float64
			for _, l := range by[rate] {
				sus = append(sus, l.Sustained)
				busy = append(busy, l.MachineBusy*100)
				p50 = append(p50, ms(l.P50))
				p99 = append(p99, ms(l.P99))
				mx = append(mx, ms(l.Max))
				cpu = append(cpu, l.CPUSeconds/float64(l.Produced)*1e6)
				rss = append(rss, float64(l.MaxRSS)/(1<<20))
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", rate, stats(sus).format("%.0f"), stats(p50).format("%.1f"), stats(p99).format("%.1f"),
				stats(mx).format("%.0f"), stats(cpu).format("%.1f"), stats(rss).format("%.0f"), stats(busy).format("%.0f"))
		}
	}
	for _, n := range r.notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	b.WriteString("\nTargets (checked on the medians):\n\n| target | result | measured |\n|---|---|---|\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.name, t.verdict("not measured"), t.detail)
	}
	if r.opts.plot != "" {
		fmt.Fprintf(&b, "\n![Throughput and CPU per event](%s)\n", plotLink(r.opts))
	}
	fmt.Fprintf(&b, "\n%s\n", endMarker)
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// plotLink is the plot's path relative to the report, as Markdown links it.
func plotLink(o options) string {
	if i := strings.LastIndexByte(o.plot, '/'); i >= 0 && strings.HasPrefix(o.plot, o.out[:strings.LastIndexByte(o.out, '/')+1]) {
		return o.plot[i+1:]
	}
	return o.plot
}

// write prints the targets, writes the plot, and replaces the generated part
// of the report file (creating it from the template if it does not exist).
func (r *report) write(stdout, stderr io.Writer) error {
	gen := r.generated()
	for _, t := range r.targets() {
		fmt.Fprintf(stdout, "%s  %s: %s\n", t.verdict("----"), t.name, t.detail)
	}
	if r.opts.plot != "" {
		if err := writePlot(r.opts.plot, r); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		logf(stderr, "wrote %s", r.opts.plot)
	}
	if r.opts.out == "" {
		fmt.Fprint(stdout, gen)
		return nil
	}
	doc := reportTemplate
	if old, err := os.ReadFile(r.opts.out); err == nil {
		doc = string(old)
	}
	i, j := strings.Index(doc, beginMarker), strings.Index(doc, endMarker)
	if i < 0 || j < i {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + gen
	} else {
		doc = doc[:i] + gen + strings.TrimPrefix(doc[j+len(endMarker):], "\n")
	}
	if err := os.WriteFile(r.opts.out, []byte(doc), 0o644); err != nil {
		return err
	}
	logf(stderr, "wrote %s", r.opts.out)
	return nil
}

const reportTemplate = "# Benchmarks\n\n" + beginMarker + "\n" + endMarker + "\n"
