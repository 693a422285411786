package main

// The claim check's wiring: the s3 section, the store the translator
// writes offloaded events with, and the start-up check of the buckets the
// routes offload to.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
	"github.com/thena-ai/kafka-sns-bridge/internal/offload"
	"github.com/thena-ai/kafka-sns-bridge/internal/translate"
	"github.com/thena-ai/kafka-sns-bridge/mapping"
)

// s3Settings is how the bridge reaches S3 for routes that offload large
// events (large_events: offload or truncate_then_offload). Credentials come
// from the standard AWS chain, as for SNS.
type s3Settings struct {
	// Region; empty uses sns.region.
	Region string `yaml:"region"`
	// Endpoint overrides the S3 endpoint (the local stack's moto); empty
	// means AWS. With it, requests are path-style.
	Endpoint string `yaml:"endpoint"`
	// Profile; empty uses sns.profile.
	Profile        string        `yaml:"profile"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// offloads reports whether any route may offload events to S3.
func (s settings) offloads() bool {
	for _, r := range s.Routing.Routes {
		if r.Offloads() {
			return true
		}
	}
	return false
}

func (s settings) s3ClientConfig() offload.ClientConfig {
	return offload.ClientConfig{
		Region:         cmp.Or(s.S3.Region, s.SNS.Region),
		Endpoint:       s.S3.Endpoint,
		Profile:        cmp.Or(s.S3.Profile, s.SNS.Profile),
		RequestTimeout: s.S3.RequestTimeout,
	}
}

// checkOnly is the PayloadStore of the operator tools (bridge translate,
// dlq show, and dlq replay's check of whether a dead letter would now
// succeed): it stores nothing, so that a check or a dry run never writes
// to S3. What dlq replay sends is translated again with the real store.
type checkOnly struct{}

func (checkOnly) Put(context.Context, *mapping.OffloadedEvent) error { return nil }

// payloadStore returns the translator option that stores offloaded events,
// none when no route offloads. reg, when set, gets the offload metrics.
func (s settings) payloadStore(ctx context.Context, reg prometheus.Registerer) ([]translate.Option, error) {
	if !s.offloads() {
		return nil, nil
	}
	client, err := offload.NewClient(ctx, s.s3ClientConfig())
	if err != nil {
		return nil, problemf("s3", "%v", err)
	}
	store, err := offload.NewStore(client, reg)
	if err != nil {
		return nil, err
	}
	return []translate.Option{translate.WithPayloadStore(store)}, nil
}

// checkBuckets asks S3 for every bucket a route offloads to, so that a
// missing or forbidden bucket stops start-up naming its route rather than
// holding back the first large event.
func checkBuckets(ctx context.Context, s settings) error {
	if !s.offloads() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	client, err := offload.NewClient(ctx, s.s3ClientConfig())
	if err != nil {
		return problemf("s3", "%v", err)
	}
	store, err := offload.NewStore(client, nil)
	if err != nil {
		return err
	}
	paths := map[string][]string{} // bucket -> the keys naming it
	var buckets []string
	for i, r := range s.Routing.Routes {
		if !r.Offloads() {
			continue
		}
		if paths[r.Offload.Bucket] == nil {
			buckets = append(buckets, r.Offload.Bucket)
		}
		paths[r.Offload.Bucket] = append(paths[r.Offload.Bucket], fmt.Sprintf("routing.routes[%d].offload.bucket", i))
	}
	var errs []error
	for _, b := range buckets {
		err := store.CheckBucket(ctx, b)
		if err == nil {
			continue
		}
		where := strings.Join(paths[b], ", ")
		switch failure.ReasonOf(err) {
		case offload.ReasonBucketMissing:
			errs = append(errs, problemf(where, "S3 bucket %s does not exist in %s (create it, or correct the name or s3.region)", b, s.s3ClientConfig().Region))
		case failure.ReasonForbidden:
			errs = append(errs, problemf(where, "the bridge's AWS identity may not use S3 bucket %s (%s): allow it s3:ListBucket (HeadBucket) and s3:PutObject", b, failure.CodeOf(err)))
		default:
			if s.S3.Endpoint != "" {
				return problemf("s3.endpoint", "%s does not answer: %v (check the URL and that S3 runs there)", redactURL(s.S3.Endpoint), rootCause(err))
			}
			return problemf("s3.region", "S3 in %q does not answer: %v", s.s3ClientConfig().Region, rootCause(err))
		}
	}
	return errors.Join(errs...)
}
