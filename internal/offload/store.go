package offload

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// API is the part of the S3 client the Store uses; *s3.Client satisfies it.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// ClientConfig is how NewClient reaches S3. Credentials always come from
// the standard AWS chain.
type ClientConfig struct {
	// Region; empty uses AWS_REGION / the shared config.
	Region string
	// Endpoint overrides the S3 endpoint (moto on the local stack); empty
	// means AWS. With an endpoint, requests use path-style addressing
	// (http://endpoint/bucket/key), which local S3s serve.
	Endpoint string
	// Profile is a shared config profile; empty uses the default chain.
	Profile string
	// RequestTimeout bounds one call (default 10s).
	RequestTimeout time.Duration
	// Credentials replaces the chain's (tests).
	Credentials aws.CredentialsProvider
}

// NewClient builds an S3 client that makes one attempt per call.
func NewClient(ctx context.Context, cfg ClientConfig) (*s3.Client, error) {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(cfg.RequestTimeout)),
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
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS config: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("s3 client config: Region is empty and the AWS config chain sets none")
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// Store puts offloaded events into S3 and counts them. It is safe for
// concurrent use.
type Store struct {
	client API
	// Counters; nil records nothing (the operator tools).
	offloads *prometheus.CounterVec // by bucket
	bytes    *prometheus.CounterVec // by bucket
	errors   *prometheus.CounterVec // by class and code
}

// NewStore returns a Store over client. With reg set it registers
// bridge_offloads_total{bucket}, bridge_offloaded_bytes_total{bucket} and
// bridge_offload_errors_total{class,code}.
func NewStore(client API, reg prometheus.Registerer) (*Store, error) {
	if client == nil {
		return nil, errors.New("offload: NewStore: client is nil")
	}
	s := &Store{client: client}
	if reg == nil {
		return s, nil
	}
	s.offloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bridge_offloads_total",
		Help: "Events over their topic's size limit stored in S3 and published as an extended-client pointer, by bucket (retries and replays count again).",
	}, []string{"bucket"})
	s.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bridge_offloaded_bytes_total",
		Help: "Bytes of event bodies stored in S3 by offloading, by bucket.",
	}, []string{"bucket"})
	s.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bridge_offload_errors_total",
		Help: "Failed S3 PutObject calls of offloaded events, by class (transient, systemic) and S3 error code; the event is retried.",
	}, []string{"class", "code"})
	for _, c := range []prometheus.Collector{s.offloads, s.bytes, s.errors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ContentType is the type of every stored object: the event's JSON body.
const ContentType = "application/json"

// Put stores ev's body at its bucket and key with its server-side
// encryption. The error is a *failure.Error from Classify.
func (s *Store) Put(ctx context.Context, ev *mapping.OffloadedEvent) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(ev.Bucket),
		Key:           aws.String(ev.Key),
		Body:          strings.NewReader(ev.Body),
		ContentLength: aws.Int64(int64(len(ev.Body))),
		ContentType:   aws.String(ContentType),
	}
	switch ev.SSE {
	case mapping.SSEAES256:
		in.ServerSideEncryption = s3types.ServerSideEncryptionAes256
	case mapping.SSEKMS:
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		if ev.KMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(ev.KMSKeyID)
		}
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		fe := Classify(err)
		if s.errors != nil {
			s.errors.WithLabelValues(fe.Class.String(), fe.Code).Inc()
		}
		return &failure.Error{Class: fe.Class, Reason: fe.Reason, Code: fe.Code,
			Err: fmt.Errorf("storing offloaded event in s3://%s/%s: %w", ev.Bucket, ev.Key, err)}
	}
	if s.offloads != nil {
		s.offloads.WithLabelValues(ev.Bucket).Inc()
		s.bytes.WithLabelValues(ev.Bucket).Add(float64(len(ev.Body)))
	}
	return nil
}

// CheckBucket asks S3 for bucket (HeadBucket): nil when it exists and the
// bridge may use it, else a *failure.Error saying why (systemic
// bucket_missing or forbidden, or transient when S3 does not answer).
// A successful HeadBucket does not prove PutObject is allowed; a policy
// that denies only writes shows at the first offload.
func (s *Store) CheckBucket(ctx context.Context, bucket string) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		fe := Classify(err)
		return &failure.Error{Class: fe.Class, Reason: fe.Reason, Code: fe.Code, Err: fmt.Errorf("bucket %s: %w", bucket, err)}
	}
	return nil
}

// statusCode returns the HTTP status of err's response, 0 when there was none.
func statusCode(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
