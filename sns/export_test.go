package sns

import (
	"context"
	"net"

	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// NewClientOver is NewClient with its own transport and settings, but
// connections from dial: the tests' in-memory network.
func NewClientOver(ctx context.Context, cfg ClientConfig, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*awssns.Client, error) {
	cfg.dial = dial
	return NewClient(ctx, cfg)
}
