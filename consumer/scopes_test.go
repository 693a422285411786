package consumer

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thena-ai/kafka-sns-bridge/sns"
)

var errTest = errors.New("test: failed for good")

func TestScopes(t *testing.T) {
	// A step is one of:
	//
	//	push a1     push item a1 (scope a) translated, strict; "a1!" failed
	//	            permanently (a dead letter), "a1~" relaxed, "a1+300"
	//	            with an entry of 300 bytes (100 otherwise)
	//	take        take the next run of scope a at time 0; "take b", "take a@5"
	//	            (at 5s); want is the run ("" none)
	//	upto a3     take the next run of scope a, draining: only items pushed
	//	            before a3 may go (items take offsets in push order)
	//	finish a1   a1 is published or dead-lettered
	//	back a1@5   the publisher handed a1 back, due again at 5s
	//
	// parked and atLimit are the gauges after the step.
	type step struct {
		do      string
		want    string
		parked  float64
		atLimit float64
	}
	lim := runLimits{entries: 3, bytes: 350}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a strict scope: one run at a time, up to the entry limit", []step{
			{"push a1", "", 0, 0}, {"push a2", "", 0, 0}, {"push a3", "", 0, 0}, {"push a4", "", 0, 0},
			{"take", "a1 a2 a3", 1, 1}, // a4 waits behind the run: parked, at the limit
			{"take", "", 1, 1},
			{"finish a3", "", 1, 1}, {"finish a1", "", 1, 1}, // in any order; the run is out until all are done
			{"take", "", 1, 1},
			{"finish a2", "", 0, 0},
			{"take", "a4", 0, 0},
			{"push a5", "", 1, 1},
			{"finish a4", "", 0, 0},
			{"take", "a5", 0, 0},
		}},
		{"the byte limit: a run stops before going over; a large head goes alone", []step{
			{"push a1", "", 0, 0}, {"push a2+200", "", 0, 0}, {"push a3", "", 0, 0}, {"push a4+400", "", 0, 0}, {"push a5", "", 0, 0},
			{"take", "a1 a2", 1, 1}, {"finish a1", "", 1, 1}, {"finish a2", "", 0, 0},
			{"take", "a3", 1, 1}, {"finish a3", "", 0, 0},
			{"take", "a4", 1, 1}, {"finish a4", "", 0, 0},
			{"take", "a5", 0, 0},
		}},
		{"a dead letter goes alone, after the run before it and before the next", []step{
			{"push a1", "", 0, 0}, {"push a2!", "", 0, 0}, {"push a3", "", 0, 0},
			{"take", "a1", 1, 0}, // a2 waits, but for its turn, not for a publish limit
			{"take", "", 1, 0},
			{"finish a1", "", 0, 0},
			{"take", "a2", 1, 1}, {"take", "", 1, 1},
			{"finish a2", "", 0, 0},
			{"take", "a3", 0, 0},
		}},
		{"scopes are independent", []step{
			{"push a1", "", 0, 0}, {"push a2", "", 0, 0}, {"push b1", "", 0, 0},
			{"take", "a1 a2", 0, 0}, {"take b", "b1", 0, 0},
			{"push b2", "", 1, 1},
			{"finish a1", "", 1, 1}, {"finish a2", "", 1, 1},
			{"finish b1", "", 0, 0}, {"take b", "b2", 0, 0},
		}},
		{"a relaxed scope: up to inflight runs at once", []step{
			{"push a1~", "", 0, 0}, {"push a2~", "", 0, 0}, {"push a3~", "", 0, 0}, {"push a4~", "", 0, 0},
			{"push a5~", "", 0, 0}, {"push a6~", "", 0, 0}, {"push a7~", "", 0, 0},
			{"take", "a1 a2 a3", 1, 0}, {"take", "a4 a5 a6", 1, 1}, // inflight is 2
			{"take", "", 1, 1},
			{"finish a5", "", 1, 1}, {"finish a4", "", 1, 1}, {"finish a6", "", 1, 0},
			{"take", "a7", 0, 0},
		}},
		{"a strict event after relaxed ones waits for all of them", []step{
			{"push a1~", "", 0, 0}, {"push a2~", "", 0, 0}, {"push a3", "", 0, 0},
			{"take", "a1 a2", 1, 1}, // stops at the strict one, which may not overtake
			{"take", "", 1, 1},
			{"finish a2", "", 1, 1}, {"finish a1", "", 0, 0},
			{"take", "a3", 0, 0},
		}},
		{"a handed-back head goes first again, when due", []step{
			{"push a1", "", 0, 0}, {"push a2", "", 0, 0}, {"push a3", "", 0, 0}, {"push a4", "", 0, 0},
			{"take", "a1 a2 a3", 1, 1},
			{"back a1@5", "", 1, 1}, {"finish a2", "", 1, 1}, {"finish a3", "", 0, 0},
			{"take", "", 0, 0},       // not yet due
			{"take a@5", "a1", 1, 1}, // alone: what followed it was published
			{"finish a1", "", 0, 0},
			{"take", "a4", 0, 0},
		}},
		{"while draining only what lies below the drain limit goes", []step{
			{"push a1!", "", 0, 0}, {"push a2", "", 0, 0}, {"push a3", "", 0, 0}, {"push a4", "", 0, 0},
			{"upto a3", "a1", 1, 1}, {"finish a1", "", 0, 0},
			{"upto a3", "a2", 1, 1}, // a3 is past the limit: not in the run
			{"finish a2", "", 0, 0},
			{"upto a3", "", 0, 0},
			{"take", "a3 a4", 0, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parked := prometheus.NewGauge(prometheus.GaugeOpts{Name: "parked"})
			atLimit := prometheus.NewGauge(prometheus.GaugeOpts{Name: "at_limit"})
			ss := newScopes(2, parked, atLimit)
			items := make(map[string]*item)
			names := make(map[*item]string)
			t0 := time.Unix(1000, 0)
			for i, st := range tc.steps {
				verb, arg, _ := strings.Cut(st.do, " ")
				key, at := "a", t0
				if k, sec, ok := strings.Cut(arg, "@"); ok {
					d, _ := time.ParseDuration(sec + "s")
					key, at = k, t0.Add(d)
				} else if arg != "" && verb != "push" && verb != "finish" {
					key = arg
				}
				got := ""
				switch verb {
				case "push":
					name, size := arg, 100
					it := &item{cost: 1}
					if n, bytes, ok := strings.Cut(name, "+"); ok {
						name = n
						size, _ = strconv.Atoi(bytes)
					}
					switch {
					case strings.HasSuffix(name, "!"):
						name = strings.TrimSuffix(name, "!")
						it.err = errTest
					case strings.HasSuffix(name, "~"):
						name = strings.TrimSuffix(name, "~")
						it.out.Relaxed = true
					}
					if it.err == nil {
						it.out.Entry = &sns.Entry{Size: size}
					}
					it.offset = int64(len(items))
					items[name], names[it] = it, name
					ss.push(it, scopeID{key: name[:1]})
				case "take", "upto":
					below := int64(math.MaxInt64)
					if verb == "upto" {
						key, below = arg[:1], items[arg].offset
					}
					if rn := ss.take(ss.byID[scopeID{key: key}], at, lim, below); rn != nil {
						var ns []string
						for _, it := range rn.items {
							ns = append(ns, names[it])
						}
						got = strings.Join(ns, " ")
					}
				case "finish":
					ss.finish(items[arg])
				case "back":
					name, _, _ := strings.Cut(arg, "@")
					items[name].due = at
					ss.handBack(items[name])
				}
				if got != st.want {
					t.Errorf("step %d (%s): got %q, want %q", i, st.do, got, st.want)
				}
				if p, l := metricValue(parked), metricValue(atLimit); p != st.parked || l != st.atLimit {
					t.Errorf("step %d (%s): parked %v, at limit %v; want %v, %v", i, st.do, p, l, st.parked, st.atLimit)
				}
			}
			ss.clear()
			if p, l := metricValue(parked), metricValue(atLimit); p != 0 || l != 0 {
				t.Errorf("gauges %v, %v after clear, want 0", p, l)
			}
		})
	}
}
