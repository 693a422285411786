package sns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// ClientConfig configures the SNS client. The zero value of every field but
// Region is usable.
type ClientConfig struct {
	// Region is the AWS region, e.g. "eu-west-1". Empty means the region from
	// the standard chain (AWS_REGION, the shared config profile); NewClient
	// fails if neither sets one.
	Region string
	// Endpoint overrides the SNS endpoint (BaseEndpoint), e.g.
	// "http://127.0.0.1:4566" for a local stack. Empty means the real service.
	Endpoint string
	// Profile selects a shared config profile. Empty means the default chain
	// (AWS_PROFILE or "default").
	Profile string
	// Credentials replaces the standard credential chain (environment, shared
	// config, web identity, container and instance roles). Leave nil in
	// production; local stacks use static credentials.
	Credentials aws.CredentialsProvider
	// HTTPClient replaces the HTTP client NewClient builds (and with it
	// RequestTimeout, DialTimeout, MaxIdleConnsPerHost and AWS_CA_BUNDLE).
	// Tests pass the in-process double's client here.
	HTTPClient *http.Client
	// RequestTimeout bounds one HTTP request, connection included. Default 10s.
	RequestTimeout time.Duration
	// ResponseTimeout is how long SNS may take to start answering a request
	// once it is sent. A connection that stays silent longer is abandoned
	// (closed) and the call fails as a Timeout, so that a hung SNS is noticed
	// before the publisher's CallTimeout; when the breaker opens on such
	// failures the idle connections are closed too, and the probes dial
	// anew (a probe out for a second is followed by another on a new
	// connection, so recovery does not wait for this). SNS answers
	// PublishBatch in tens of milliseconds; the default leaves room for a
	// slow SNS, or a loaded machine, without calls failing (and being sent
	// twice). Default DefaultResponseTimeout, 3s.
	ResponseTimeout time.Duration
	// DialTimeout bounds establishing a TCP connection. Default 3s.
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is the connection pool size to SNS. Default 128, so
	// that every batch in flight to two topics (2 x 64 by default) can keep
	// its connection.
	MaxIdleConnsPerHost int

	// dial, when set, replaces the transport's dialer (tests: an in-memory
	// network; see export_test.go).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultResponseTimeout is ClientConfig.ResponseTimeout's default.
const DefaultResponseTimeout = 3 * time.Second

const (
	defaultRequestTimeout      = 10 * time.Second
	defaultDialTimeout         = 3 * time.Second
	defaultMaxIdleConnsPerHost = 128
)

func (c ClientConfig) withDefaults() ClientConfig {
	c.RequestTimeout = cmp.Or(c.RequestTimeout, defaultRequestTimeout)
	c.ResponseTimeout = cmp.Or(c.ResponseTimeout, DefaultResponseTimeout)
	c.DialTimeout = cmp.Or(c.DialTimeout, defaultDialTimeout)
	c.MaxIdleConnsPerHost = cmp.Or(c.MaxIdleConnsPerHost, defaultMaxIdleConnsPerHost)
	return c
}

// Validate reports the first invalid field. Zero values mean "default" and
// are valid.
func (c ClientConfig) Validate() error {
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("sns client config: Endpoint %q is not an http(s) URL", c.Endpoint)
		}
	}
	if err := firstNegative("sns client config", field[time.Duration]{"RequestTimeout", c.RequestTimeout},
		field[time.Duration]{"ResponseTimeout", c.ResponseTimeout},
		field[time.Duration]{"DialTimeout", c.DialTimeout}); err != nil {
		return err
	}
	return firstNegative("sns client config", field[int]{"MaxIdleConnsPerHost", c.MaxIdleConnsPerHost})
}

// NewClient returns an SNS client configured by the standard AWS chain
// (environment, shared config and profile, web identity, container and
// instance roles) and cfg. The client makes exactly one attempt per call: the
// Publisher is the only retry layer, so retries do not multiply and the SDK's
// retry-token quota cannot run dry under throttling.
func NewClient(ctx context.Context, cfg ClientConfig) (*awssns.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	// The buildable client lets the chain apply AWS_CA_BUNDLE; a caller's
	// own client replaces it on the SNS client below.
	opts = append(opts, config.WithHTTPClient(newHTTPClient(cfg)))
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS config: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("sns client config: Region is empty and the AWS config chain sets none")
	}
	// Freeze the client the chain configured into a plain *http.Client, so
	// that the publisher can close its idle connections (CloseIdleConnections)
	// and the SDK applies no defaults of its own over ours.
	hc := awsCfg.HTTPClient
	if b, ok := hc.(*awshttp.BuildableClient); ok {
		hc = b.Freeze()
	}
	return awssns.NewFromConfig(awsCfg, func(o *awssns.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.HTTPClient = hc
		if cfg.HTTPClient != nil {
			o.HTTPClient = cfg.HTTPClient
		}
	}), nil
}

func newHTTPClient(cfg ClientConfig) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithTimeout(cfg.RequestTimeout).
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = cfg.DialTimeout
			d.KeepAlive = 30 * time.Second
		}).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = cfg.MaxIdleConnsPerHost * 2
			t.MaxIdleConnsPerHost = cfg.MaxIdleConnsPerHost
			t.IdleConnTimeout = 90 * time.Second
			t.TLSHandshakeTimeout = cfg.DialTimeout
			t.ResponseHeaderTimeout = cfg.ResponseTimeout
			t.ExpectContinueTimeout = time.Second
			if cfg.dial != nil {
				t.DialContext = cfg.dial
			}
		})
}
