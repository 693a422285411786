package consumer

import "github.com/prometheus/client_golang/prometheus"

// keyQueues hold a partition's translated, unfinished items by ordering
// key, oldest first. Only the head of a key is ever out (publishing or
// dead-lettering): that is what keeps a key's events in order across
// retries and partial batch failures. A key is parked while items wait
// behind its head. keyQueues are not safe for concurrent use; the
// partition guards them.
type keyQueues struct {
	byKey map[string][]*item
	// parked counts parked keys (bridge_parked_keys, shared by every
	// partition of the engine).
	parked prometheus.Gauge
}

func newKeyQueues(parked prometheus.Gauge) keyQueues {
	return keyQueues{byKey: make(map[string][]*item), parked: parked}
}

// push queues it behind the earlier items of its key. It reports whether it
// is the key's head, to be handed out now.
func (k *keyQueues) push(it *item) bool {
	q := append(k.byKey[it.key], it)
	k.byKey[it.key] = q
	if len(q) == 2 {
		k.parked.Inc()
	}
	return len(q) == 1
}

// pop removes it, the head of its key, and returns the key's next head to
// hand out, or nil when the key has nothing left.
func (k *keyQueues) pop(it *item) *item {
	q := k.byKey[it.key]
	if len(q) == 0 || q[0] != it {
		return nil
	}
	q[0] = nil
	q = q[1:]
	switch len(q) {
	case 0:
		delete(k.byKey, it.key)
		return nil
	case 1:
		k.parked.Dec()
	}
	k.byKey[it.key] = q
	return q[0]
}

// clear drops every queue and takes its parked keys off the gauge.
func (k *keyQueues) clear() {
	for _, q := range k.byKey {
		if len(q) > 1 {
			k.parked.Dec()
		}
	}
	k.byKey = nil
}
