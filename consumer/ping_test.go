package consumer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestPingNamesMissingSourceTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := Config{Brokers: c.ListenAddrs(), GroupID: "g", Topics: []string{"events"}}
	if err := Ping(context.Background(), cfg, 5*time.Second); err != nil {
		t.Errorf("Ping with every topic present: %v", err)
	}
	cfg.Topics = []string{"events", "tickets"}
	if err := Ping(context.Background(), cfg, 5*time.Second); err == nil || !strings.Contains(err.Error(), `"tickets"`) {
		t.Errorf("Ping: %v, want an error naming tickets", err)
	}
}

func TestPingAuthenticatesWithSCRAM(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"),
		kfake.EnableSASL(), kfake.Superuser(SASLScramSHA512, "bridge", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := Config{Brokers: c.ListenAddrs(), GroupID: "g", Topics: []string{"events"},
		SASL: SASLConfig{Mechanism: SASLScramSHA512, Username: "bridge", Password: "s3cret"}}
	if err := Ping(context.Background(), cfg, 5*time.Second); err != nil {
		t.Errorf("Ping with the right credentials: %v", err)
	}
	cfg.SASL.Password = "wrong"
	if err := Ping(context.Background(), cfg, 2*time.Second); err == nil {
		t.Error("Ping succeeded with a wrong password")
	}
}
