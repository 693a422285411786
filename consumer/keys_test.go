package consumer

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestKeyQueues(t *testing.T) {
	// An op pushes an item of a key ("+a") or pops the head of a key ("-a").
	// want is the head that push reports (the pushed item, when it is the
	// head) or the next head that pop returns, by name ("" for none);
	// parked is bridge_parked_keys after the op.
	type op struct {
		do     string
		want   string
		parked float64
	}
	for _, tc := range []struct {
		name string
		ops  []op
	}{
		{"one key in order", []op{
			{"+a", "a1", 0}, {"+a", "", 1}, {"+a", "", 1}, // a2 and a3 wait behind a1
			{"-a", "a2", 1}, {"-a", "a3", 0}, {"-a", "", 0}, // each pop hands out the next
			{"+a", "a4", 0}, // an emptied key starts afresh
		}},
		{"keys are independent", []op{
			{"+a", "a1", 0}, {"+b", "b1", 0}, {"+a", "", 1}, {"+b", "", 2},
			{"-b", "b2", 1}, {"-a", "a2", 0},
		}},
		{"dropped with parked keys", []op{
			{"+a", "a1", 0}, {"+a", "", 1}, {"+b", "b1", 1}, {"+b", "", 2}, {"+b", "", 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "parked"})
			k := newKeyQueues(g)
			names := make(map[*item]string)
			queued := make(map[string][]*item)
			n := make(map[string]int)
			for i, o := range tc.ops {
				key := o.do[1:]
				switch o.do[0] {
				case '+':
					n[key]++
					it := &item{key: key}
					names[it] = fmt.Sprintf("%s%d", key, n[key])
					queued[key] = append(queued[key], it)
					got := ""
					if k.push(it) {
						got = names[it]
					}
					if got != o.want {
						t.Errorf("op %d: push(%s) head %q, want %q", i, names[it], got, o.want)
					}
				case '-':
					head := queued[key][0]
					queued[key] = queued[key][1:]
					if got := names[k.pop(head)]; got != o.want {
						t.Errorf("op %d: pop(%s) next head %q, want %q", i, names[head], got, o.want)
					}
				}
				if v := metricValue(g); v != o.parked {
					t.Errorf("op %d: parked keys %v, want %v", i, v, o.parked)
				}
			}
			k.clear()
			if v := metricValue(g); v != 0 {
				t.Errorf("parked keys %v after clear, want 0", v)
			}
		})
	}
}

// pop of an item that is not its key's head changes nothing.
func TestKeyQueuesPopIgnoresANonHead(t *testing.T) {
	k := newKeyQueues(prometheus.NewGauge(prometheus.GaugeOpts{Name: "parked"}))
	a1, a2 := &item{key: "a"}, &item{key: "a"}
	k.push(a1)
	k.push(a2)
	if next := k.pop(a2); next != nil {
		t.Errorf("pop of a non-head returned %v", next)
	}
	if next := k.pop(a1); next != a2 {
		t.Error("the queue changed after a pop of a non-head")
	}
}
