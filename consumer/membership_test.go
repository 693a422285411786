package consumer

import (
	"context"
	"testing"
	"time"
)

// A static member that stops leaves its group explicitly: the other member
// owns its partitions at once, not after the session timeout.
func TestStaticMemberLeavesOnShutdown(t *testing.T) {
	realTime(t, 4, true, func(t *testing.T, h *harness) {
		cfg := h.config()
		cfg.SessionTimeout = 45 * time.Second
		a, b := cfg, cfg
		a.InstanceID, b.InstanceID = "bridge-a", "bridge-b"
		ra := h.start("a", a)
		rb := h.start("b", b)
		if _, err := h.c.WaitGroupStable(context.Background(), group, 2); err != nil {
			t.Fatal(err)
		}
		h.eventually("both own partitions", func() bool { return len(ra.e.partitions()) > 0 && len(rb.e.partitions()) > 0 })
		ra.stop()
		deadline := time.Now().Add(cfg.SessionTimeout / 3)
		for len(rb.e.partitions()) != 4 {
			if time.Now().After(deadline) {
				t.Fatalf("b owns %d of 4 partitions %v after a stopped: a did not leave", len(rb.e.partitions()), cfg.SessionTimeout/3)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
