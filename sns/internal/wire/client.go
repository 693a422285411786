// The client: where the endpoint, the credentials and the signer come from
// (the SDK's resolved SNS options), and one call on the wire: body into a
// pooled buffer, SHA-256 once, SigV4, send, read the answer into the same
// buffer, parse.

package wire

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// signingName is SNS's SigV4 service name.
const signingName = "sns"

// userAgent names this client; the SDK's User-Agent is its own.
const userAgent = "kafka-sns-bridge-wire"

// Client publishes to SNS. It is safe for concurrent use. Build it with New
// or NewFromConfig.
type Client struct {
	url       string
	header    http.Header // the endpoint's headers, set on every request
	region    string      // signing region
	service   string      // signing name
	creds     aws.CredentialsProvider
	signer    awssns.HTTPSignerV4
	http      awssns.HTTPClient
	now       func() time.Time
	skew      atomic.Int64 // server clock minus ours, from the last answer's Date
	trackSkew bool
}

// NewFromConfig returns a Client configured as awssns.NewFromConfig(cfg,
// optFns...) configures the SDK's client: the same region, credentials,
// HTTP client, BaseEndpoint and AWS_ENDPOINT_URL_SNS, FIPS and dual-stack
// settings.
func NewFromConfig(ctx context.Context, cfg aws.Config, optFns ...func(*awssns.Options)) (*Client, error) {
	return New(ctx, awssns.NewFromConfig(cfg, optFns...).Options())
}

// New returns a Client for the options of an SDK SNS client (its
// Options()): requests go through o.HTTPClient to the endpoint
// o.EndpointResolverV2 resolves for o.Region, o.BaseEndpoint and
// o.EndpointOptions, resolved once here, signed by o.HTTPSignerV4 with
// o.Credentials (cached; nil means unsigned, as for the SDK's anonymous
// credentials). New fails when the endpoint cannot be resolved.
func New(ctx context.Context, o awssns.Options) (*Client, error) {
	c := &Client{
		region:    o.Region,
		service:   signingName,
		creds:     o.Credentials,
		signer:    o.HTTPSignerV4,
		http:      o.HTTPClient,
		now:       time.Now,
		trackSkew: !o.DisableClockSkewCorrection,
	}
	if aws.IsCredentialsProvider(c.creds, (*aws.AnonymousCredentials)(nil)) {
		c.creds = nil
	}
	if c.creds != nil && !aws.IsCredentialsProvider(c.creds, (*aws.CredentialsCache)(nil)) {
		c.creds = aws.NewCredentialsCache(c.creds)
	}
	if c.signer == nil {
		c.signer = v4.NewSigner()
	}
	if c.http == nil {
		c.http = awshttp.NewBuildableClient()
	}
	resolver := o.EndpointResolverV2
	if resolver == nil {
		resolver = awssns.NewDefaultEndpointResolverV2()
	}
	params := awssns.EndpointParameters{
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		Endpoint:     o.BaseEndpoint,
	}
	if o.Region != "" {
		if !validRegion(o.Region) {
			return nil, fmt.Errorf("sns wire client: invalid region %q", o.Region)
		}
		params.Region = aws.String(o.Region)
	}
	ep, err := resolver.ResolveEndpoint(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("sns wire client: resolving the SNS endpoint: %w", err)
	}
	u := url.URL{
		Scheme:  ep.URI.Scheme,
		Host:    ep.URI.Host,
		Path:    smithyhttp.JoinPath(ep.URI.Path, "/"),
		RawPath: smithyhttp.JoinPath(ep.URI.RawPath, ""),
	}
	if ep.URI.RawPath == "" {
		u.RawPath = ""
	}
	c.url = u.String()
	c.header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {userAgent}}
	for k := range ep.Headers {
		c.header.Set(k, ep.Headers.Get(k))
	}
	// An endpoint may name its own signing name and region (SNS's rules do
	// not today).
	if opts, ok := smithyauth.GetAuthOptions(&ep.Properties); ok {
		for _, opt := range opts {
			if opt.SchemeID != smithyauth.SchemeIDSigV4 {
				continue
			}
			if n, ok := smithyhttp.GetSigV4SigningName(&opt.SignerProperties); ok && n != "" {
				c.service = n
			}
			if r, ok := smithyhttp.GetSigV4SigningRegion(&opt.SignerProperties); ok && r != "" {
				c.region = r
			}
		}
	}
	return c, nil
}

// validRegion is the SDK's check of a region: host labels, dots between.
func validRegion(r string) bool {
	for _, label := range strings.Split(r, ".") {
		if !smithyhttp.ValidHostLabel(label) || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}

// Endpoint returns the URL requests go to.
func (c *Client) Endpoint() string { return c.url }

// PublishBatch publishes entries to topicARN in one PublishBatch call and
// fills res (which must not be nil) with the per-entry answer. It blocks
// for the call. The error, when the call failed as a whole, is shaped as the
// SDK's (see the package doc); res is then empty.
func (c *Client) PublishBatch(ctx context.Context, topicARN string, entries []Entry, res *BatchResult) error {
	res.reset()
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = AppendPublishBatch((*buf)[:0], topicARN, entries)
	payload, requestID, err := c.call(ctx, "PublishBatch", buf)
	if err != nil {
		return err
	}
	res.RequestID = requestID
	if err := parseBatch(payload.body, res); err != nil {
		res.reset()
		return wrapResponse("PublishBatch", payload.resp, requestID, err)
	}
	return nil
}

// Publish publishes e (its ID unused) to topicARN in one Publish call and
// fills res, which must not be nil. Errors are as PublishBatch's.
func (c *Client) Publish(ctx context.Context, topicARN string, e *Entry, res *PublishResult) error {
	*res = PublishResult{}
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = AppendPublish((*buf)[:0], topicARN, e)
	payload, requestID, err := c.call(ctx, "Publish", buf)
	if err != nil {
		return err
	}
	res.RequestID = requestID
	if err := parsePublish(payload.body, res); err != nil {
		*res = PublishResult{}
		return wrapResponse("Publish", payload.resp, requestID, err)
	}
	return nil
}

// answer is a 2xx answer: its body lives in the call's buffer.
type answer struct {
	resp *http.Response
	body []byte
}

// call sends the form body in *buf as action and returns a 2xx answer,
// read into *buf; any other outcome is returned as the SDK's error.
func (c *Client) call(ctx context.Context, action string, buf *[]byte) (answer, string, error) {
	// The SDK does not start an attempt whose context has ended.
	if err := ctx.Err(); err != nil {
		return answer{}, "", operationError(action, err)
	}
	body := &requestBody{b: *buf}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, body)
	if err != nil {
		return answer{}, "", operationError(action, err)
	}
	req.ContentLength = int64(len(*buf))
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return answer{}, "", operationError(action, fmt.Errorf("get identity: %w", err))
		}
		sum := sha256.Sum256(*buf)
		var hash [sha256.Size * 2]byte
		hex.Encode(hash[:], sum[:])
		at := c.now().Add(time.Duration(c.skew.Load()))
		if err := c.signer.SignHTTP(ctx, creds, req, string(hash[:]), c.service, c.region, at); err != nil {
			return answer{}, "", operationError(action, fmt.Errorf("sign request: %w", err))
		}
	}

	sent := c.now()
	resp, err := c.http.Do(req)
	// From here the transport may still hold the body, but it reads nothing
	// more from buf, which the answer is read into.
	body.detach()
	if err != nil {
		var sendErr error = &smithyhttp.RequestSendError{Err: err}
		if ctx.Err() != nil {
			sendErr = &smithy.CanceledError{Err: ctx.Err()}
		}
		empty := &http.Response{Header: http.Header{}, Body: http.NoBody}
		return answer{}, "", wrapResponse(action, empty, "", sendErr)
	}
	c.recordSkew(resp, sent)
	requestID := resp.Header.Get("X-Amzn-Requestid")
	if requestID == "" {
		requestID = resp.Header.Get("X-Amz-Requestid")
	}
	*buf, err = readAll(resp, (*buf)[:0])
	resp.Body.Close()
	if err != nil {
		return answer{}, "", wrapResponse(action, resp, requestID, &smithy.DeserializationError{Err: err})
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return answer{}, "", wrapResponse(action, resp, requestID, responseError(resp, *buf))
	}
	return answer{resp: resp, body: *buf}, requestID, nil
}

// maxTrustedRequestDuration is the SDK's bound on a round trip whose Date
// header may correct the clock.
const maxTrustedRequestDuration = 15 * time.Minute

// recordSkew keeps the server's clock offset from resp's Date header, as the
// SDK does after every call, so that requests are signed in the server's
// time when the host clock is off.
func (c *Client) recordSkew(resp *http.Response, sent time.Time) {
	if !c.trackSkew || resp.Header.Get("Age") != "" {
		return
	}
	date := resp.Header.Get("Date")
	if date == "" {
		return
	}
	server, err := smithyhttp.ParseTime(date)
	if err != nil {
		return
	}
	at := c.now()
	if at.Sub(sent) > maxTrustedRequestDuration {
		return
	}
	c.skew.Store(int64(server.Sub(at)))
}

// readAll reads resp's body into buf.
func readAll(resp *http.Response, buf []byte) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n < 64<<20 && int(n) > cap(buf) {
		buf = make([]byte, 0, n+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// errDetached is what a request body reads after its call returned.
var errDetached = errors.New("sns wire: request body read after the call returned")

// requestBody is a request's body over a pooled buffer. detach cuts it off
// the buffer, so the buffer can be reused as soon as Do returns even when
// the transport still holds the body (an early answer), as the SDK's
// request body does.
type requestBody struct {
	mu  sync.Mutex
	b   []byte
	off int
}

func (r *requestBody) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b == nil {
		return 0, errDetached
	}
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

// Close does nothing: the buffer belongs to the call.
func (r *requestBody) Close() error { return nil }

func (r *requestBody) detach() {
	r.mu.Lock()
	r.b = nil
	r.mu.Unlock()
}

// maxPooled is the largest buffer kept for reuse: a full batch at the
// 256 KiB limit, escaped, fits.
const maxPooled = 4 << 20

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}
