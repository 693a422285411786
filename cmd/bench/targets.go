package main

import (
	"fmt"
	"strings"
)

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

// targets are the project's performance targets, each checked on the
// medians of the runs that measure it (docs/benchmarks.md, issues 10 and 12).
func (r *report) targets() []target {
	ss := r.summaries()
	var ts []target
	add := func(name string, known, pass bool, detail string) {
		ts = append(ts, target{name: name, known: known, pass: pass, detail: detail})
	}
	notRun := func(name string) { add(name, false, false, "not run") }
	lat := r.opts.sinkLatency

	// The drain of the main backlog against the reference contenders.
	main, ok := r.mainShape()
	on := sameShape(main)
	if !ok {
		on = func(shape) bool { return false }
	}
	b, okB := find(ss, "bridge", on)
	rc, okC := find(ss, "raw-consume", on)
	rp, okP := find(ss, "raw-publish", on)
	name := "bridge throughput ≥ 0.8 × min(raw consume, raw publish)"
	if okB && okC && okP {
		floor := 0.8 * min(rc.rate.med, rp.rate.med)
		add(name, true, b.rate.med >= floor, fmt.Sprintf("%.0f vs %.0f events/s (%.2f × the lower reference)", b.rate.med, floor, b.rate.med/min(rc.rate.med, rp.rate.med)))
	} else {
		notRun(name)
	}
	name = "bridge CPU/event ≤ 1.25 × raw publish's"
	if okB && okP {
		add(name, true, b.cpu.med <= 1.25*rp.cpu.med, fmt.Sprintf("%.1f vs %.1f µs/event (%.2f ×)", b.cpu.med, 1.25*rp.cpu.med, b.cpu.med/rp.cpu.med))
	} else {
		notRun(name)
	}
	name = "bridge throughput ≥ 3 × one-per-message peer, at no more CPU/event"
	if pm, ok := find(ss, "per-message", on); okB && ok {
		add(name, true, b.rate.med >= 3*pm.rate.med && b.cpu.med <= pm.cpu.med,
			fmt.Sprintf("%.2f × the throughput, %.2f × the CPU/event", b.rate.med/pm.rate.med, b.cpu.med/pm.cpu.med))
	} else {
		notRun(name)
	}
	name = fmt.Sprintf("with %s sink latency the bridge keeps ≥ 0.8 of its throughput", lat)
	if sl, ok := find(ss, "bridge-slow-sink", on); okB && ok {
		add(name, true, sl.rate.med >= 0.8*b.rate.med, fmt.Sprintf("%.0f vs %.0f events/s (%.2f ×)", sl.rate.med, b.rate.med, sl.rate.med/b.rate.med))
	} else {
		notRun(name)
	}
	ts = append(ts, r.skewTargets(ss)...)
	ts = append(ts, r.pushTargets(ss)...)
	ts = append(ts, r.cpuTargets(ss)...)

	var peak float64
	seen := false
	small := false
	for _, x := range r.runs {
		if mustContender(x.Contender).kind == cBridge {
			peak = max(peak, float64(x.MaxRSS)/(1<<20))
			seen = true
			small = small || x.Events < 1000000
		}
	}
	note := ""
	if small {
		note = " (some runs drained fewer than 1,000,000 events)"
	}
	add("bridge peak RSS < 300 MiB in every run", seen, peak < 300, fmt.Sprintf("%.0f MiB at most%s", peak, note))
	return ts
}

// perKeyEntries is the most events of one key a strict-order bridge has in
// flight: one PublishBatch of ten.
const perKeyEntries = 10

// skewTargets are issue 10's hot-organization targets, at -sink-latency.
func (r *report) skewTargets(ss []summary) []target {
	var ts []target
	lat := r.opts.sinkLatency
	add := func(name string, known, pass bool, detail string) {
		ts = append(ts, target{name: name, known: known, pass: pass, detail: detail})
	}
	floor := func(name string, orgs int, want float64) {
		if x, ok := find(ss, "bridge-slow-sink", uniform(orgs)); ok {
			add(name, true, x.rate.med >= want, fmt.Sprintf("%.0f events/s, %.3f SNS requests/event", x.rate.med, x.reqs.med))
		} else {
			add(name, false, false, "not run")
		}
	}
	floor(fmt.Sprintf("one organization at %s: ≥ 500 events/s", lat), 1, 500)
	floor(fmt.Sprintf("10 organizations at %s: ≥ 5,000 events/s", lat), 10, 5000)

	// The per-key limit: measured with one organization when that ran, else
	// ten events per sink round trip.
	limit, limitFrom := perKeyEntries/lat.Seconds(), fmt.Sprintf("%d per %s round trip", perKeyEntries, lat)
	if one, ok := find(ss, "bridge-slow-sink", uniform(1)); ok {
		limit, limitFrom = one.rate.med, "measured with one organization"
	}
	z, okZ := find(ss, "bridge-slow-sink", zipfShape)
	zname := fmt.Sprintf("Zipf over many organizations at %s: ≥ 0.8 × min(uniform throughput, per-key limit / the busiest's share)", lat)
	if okZ {
		zname = fmt.Sprintf("Zipf(%g) over %d organizations at %s: ≥ 0.8 × min(uniform throughput, per-key limit / the busiest's share)", z.shape.Zipf, z.shape.Orgs, lat)
	}
	if u, okU := uniformLike(ss, "bridge-slow-sink", z.shape); okZ && okU {
		share := z.shape.topShare()
		want := 0.8 * min(u.rate.med, limit/share)
		add(zname, true, z.rate.med >= want, fmt.Sprintf("%.0f vs %.0f events/s (uniform %.0f; per-key limit %.0f events/s, %s, over a share of %.1f %%)",
			z.rate.med, want, u.rate.med, limit, limitFrom, 100*share))
	} else {
		add(zname, false, false, "not run (needs bridge-slow-sink on the Zipf and the uniform backlog)")
	}

	rname := fmt.Sprintf("relaxed order, standard topic, Zipf at %s: ≥ 0.8 × the uniform throughput", lat)
	rx, okR := find(ss, "bridge-relaxed-slow-sink", zipfShape)
	if u, okU := uniformLike(ss, "bridge-slow-sink", rx.shape); okR && okU {
		add(rname, true, rx.rate.med >= 0.8*u.rate.med, fmt.Sprintf("%.0f vs %.0f events/s (%.2f × uniform)", rx.rate.med, 0.8*u.rate.med, rx.rate.med/u.rate.med))
	} else {
		add(rname, false, false, "not run (needs bridge-relaxed-slow-sink on the Zipf backlog and bridge-slow-sink on the uniform one)")
	}

	// No regression against the base revision, at each sink latency run.
	any := false
	for _, pair := range [][2]string{{"bridge", "base"}, {"bridge-slow-sink", "base-slow-sink"}} {
		for _, orgs := range []int{10000} {
			cur, ok1 := find(ss, pair[0], uniform(orgs))
			old, ok2 := find(ss, pair[1], uniform(orgs))
			if !ok1 || !ok2 {
				continue
			}
			any = true
			at := "at once"
			if cur.c.slow {
				at = "at " + lat.String()
			}
			add(fmt.Sprintf("uniform %d organizations, sink answering %s: no regression (≥ 0.95 × base's events/s, CPU/event no higher)", orgs, at), true,
				cur.rate.med >= 0.95*old.rate.med && cur.cpu.med <= old.cpu.med,
				fmt.Sprintf("%.0f vs %.0f events/s (%.2f ×), %.1f vs %.1f µs/event (%.2f ×)", cur.rate.med, old.rate.med, cur.rate.med/old.rate.med, cur.cpu.med, old.cpu.med, cur.cpu.med/old.cpu.med))
		}
	}
	if !any {
		add("uniform 10000 organizations: no regression (≥ 0.95 × base's events/s, CPU/event no higher)", false, false, "not run (needs -base-rev)")
	}
	return ts
}

// pushTargets are issue 10's targets against an SNS that throttles.
func (r *report) pushTargets(ss []summary) []target {
	var ts []target
	quotas, storms := 0, 0
	for _, x := range ss {
		if x.c.kind != cBridge {
			continue
		}
		switch x.c.push {
		case vQuota:
			quotas++
			want := 0.9 * x.quota
			ts = append(ts, target{known: true,
				name:   fmt.Sprintf("%s: quota sink of %g messages/s: ≥ %.0f delivered/s and at most 10 %% of entries throttled", x.name, x.quota, want),
				pass:   x.rate.med >= want && x.throttled.med <= 10,
				detail: fmt.Sprintf("%.0f delivered/s, %.1f %% throttled", x.rate.med, x.throttled.med)})
		case vThrottle:
			storms++
			pass := x.notRecovered == 0 && x.recovery.med <= 2
			detail := fmt.Sprintf("full speed %.1fs after the storm (median; %.0f events/s before it, %.0f during)", x.recovery.med, x.before.med, x.during.med)
			if x.notRecovered > 0 {
				detail = fmt.Sprintf("%d of %d runs ran out of backlog before full speed was seen again (use more -events or a shorter -storm-for)", x.notRecovered, x.n)
				pass = false
			}
			ts = append(ts, target{known: x.notRecovered < x.n, pass: pass, detail: detail,
				name: fmt.Sprintf("%s: random %.0f %% throttling for %s: full speed again within 2 s after it ends", x.name, 100*r.opts.stormShare, r.opts.stormFor)})
		}
	}
	if quotas == 0 {
		ts = append(ts, target{name: fmt.Sprintf("quota sink of %g messages/s: ≥ %.0f delivered/s and at most 10 %% of entries throttled", r.opts.quota, 0.9*r.opts.quota), detail: "not run (bridge-quota)"})
	}
	if storms == 0 {
		ts = append(ts, target{name: fmt.Sprintf("random %.0f %% throttling for %s: full speed again within 2 s after it ends", 100*r.opts.stormShare, r.opts.stormFor), detail: "not run (bridge-throttle)"})
	}
	return ts
}

// cpuTargets are issue 12's CPU targets on the uniform drain.
func (r *report) cpuTargets(ss []summary) []target {
	var ts []target
	b, okB := find(ss, "bridge", uniform(10000))
	name := "bridge CPU ≤ 40 µs/event on the uniform drain (10,000 organizations)"
	if okB {
		ts = append(ts, target{name: name, known: true, pass: b.cpu.med <= 40, detail: fmt.Sprintf("%.1f µs/event", b.cpu.med)})
	} else {
		ts = append(ts, target{name: name, detail: "not run"})
	}
	name = "bridge CPU/event ≤ 0.6 × the SDK raw-publish contender's"
	if rp, ok := find(ss, "raw-publish", uniform(10000)); okB && ok {
		ts = append(ts, target{name: name, known: true, pass: b.cpu.med <= 0.6*rp.cpu.med, detail: fmt.Sprintf("%.1f vs %.1f µs/event (%.2f ×)", b.cpu.med, rp.cpu.med, b.cpu.med/rp.cpu.med)})
	} else {
		ts = append(ts, target{name: name, detail: "not run"})
	}
	return ts
}

// targetLine is one target as the harness prints it.
func targetLine(t target) string {
	return strings.Join([]string{t.verdict("----"), t.name + ": " + t.detail}, "  ")
}
