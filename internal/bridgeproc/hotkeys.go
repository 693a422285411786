package bridgeproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/thena-ai/kafka-sns-bridge/consumer"
)

// HotKeys reads /debug/keys?n=n of the bridge serving at addr (host:port):
// its hottest ordering keys, as consumer.Engine.HotKeys reports them.
func HotKeys(ctx context.Context, addr string, n int) ([]consumer.KeyStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/keys?n="+strconv.Itoa(n), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /debug/keys: %s", resp.Status)
	}
	var page struct {
		Keys []consumer.KeyStats `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("GET /debug/keys: %w", err)
	}
	return page.Keys, nil
}

// HotKeys reads the bridge's /debug/keys?n=n (HotKeys); it fails while the
// address is not known.
func (b *Bridge) HotKeys(ctx context.Context, n int) ([]consumer.KeyStats, error) {
	addr := b.Addr()
	if addr == "" {
		return nil, errors.New("the bridge has not said where it listens yet")
	}
	return HotKeys(ctx, addr, n)
}
