package sns_test

import "github.com/prometheus/client_golang/prometheus"

// metricValue reads one series (counter or gauge) of the fixture's registry;
// 0 when absent.
func metricValue(f *fixture, name string, labels map[string]string) float64 {
	return metricIn(f.reg, name, labels)
}

// metricIn reads the first series of name (counter or gauge) in reg whose
// labels include labels; 0 when absent, -1 when reg cannot be read.
func metricIn(reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func publishedCounter(f *fixture) float64 {
	return metricValue(f, "bridge_sns_published_total", map[string]string{"topic_arn": f.topic, "event_type": "ticket:created"})
}

func retriesCounter(f *fixture, code string) float64 {
	return metricValue(f, "bridge_sns_retries_total", map[string]string{"code": code})
}

func errorsCounter(f *fixture, class, code string) float64 {
	return metricValue(f, "bridge_sns_errors_total", map[string]string{"class": class, "code": code})
}

func breakerGauge(f *fixture) float64 {
	return metricValue(f, "bridge_sns_breaker_state", map[string]string{"topic_arn": f.topic})
}
