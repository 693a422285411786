package sns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

func apiErr(code string) error {
	return fmt.Errorf("operation error SNS: PublishBatch: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
}

func TestClassify(t *testing.T) {
	status := func(code int) error {
		return &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
			Err:      errors.New("no error body"),
		}
	}
	tests := []struct {
		name   string
		err    error
		class  failure.Class
		reason string
		code   string
	}{
		{"network error", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}},
			failure.Transient, failure.ReasonSNSUnavail, CodeNetwork},
		{"call timeout", fmt.Errorf("publish: %w", context.DeadlineExceeded), failure.Transient, failure.ReasonSNSUnavail, CodeTimeout},
		{"publisher cancelled the call", context.Canceled, failure.Transient, failure.ReasonSNSUnavail, CodeCanceled},
		{"HTTP 503 without a code", status(503), failure.Transient, failure.ReasonSNSUnavail, CodeHTTP5xx},
		{"HTTP 500 without a code", status(500), failure.Transient, failure.ReasonSNSUnavail, CodeHTTP5xx},
		{"InternalError", apiErr("InternalError"), failure.Transient, failure.ReasonSNSUnavail, "InternalError"},
		{"typed InternalError", &types.InternalErrorException{}, failure.Transient, failure.ReasonSNSUnavail, "InternalError"},
		{"Throttled", apiErr("Throttled"), failure.Transient, failure.ReasonThrottled, "Throttled"},
		{"Throttling", apiErr("Throttling"), failure.Transient, failure.ReasonThrottled, "Throttling"},
		{"KMSThrottling", apiErr("KMSThrottling"), failure.Transient, failure.ReasonThrottled, "KMSThrottling"},
		{"TooManyRequestsException", apiErr("TooManyRequestsException"), failure.Transient, failure.ReasonThrottled, "TooManyRequestsException"},
		{"HTTP 429 without a code", status(429), failure.Transient, failure.ReasonThrottled, CodeHTTP429},
		{"breaker open", gobreaker.ErrOpenState, failure.Transient, failure.ReasonBreakerOpen, CodeBreakerOpen},
		{"breaker half-open full", gobreaker.ErrTooManyRequests, failure.Transient, failure.ReasonBreakerOpen, CodeBreakerOpen},
		{"unknown code", apiErr("SomethingNew"), failure.Transient, failure.ReasonSNSUnavail, "SomethingNew"},
		{"InvalidParameter", apiErr("InvalidParameter"), failure.Permanent, failure.ReasonSNSRejected, "InvalidParameter"},
		{"ParameterValueInvalid", &types.InvalidParameterValueException{}, failure.Permanent, failure.ReasonSNSRejected, "ParameterValueInvalid"},
		{"ValidationException", apiErr("ValidationException"), failure.Permanent, failure.ReasonSNSRejected, "ValidationException"},
		{"BatchRequestTooLong", apiErr("BatchRequestTooLong"), failure.Permanent, failure.ReasonTooLarge, "BatchRequestTooLong"},
		{"NotFound", &types.NotFoundException{}, failure.Systemic, failure.ReasonTopicMissing, "NotFound"},
		{"AuthorizationError", apiErr("AuthorizationError"), failure.Systemic, failure.ReasonForbidden, "AuthorizationError"},
		{"InvalidSecurity", apiErr("InvalidSecurity"), failure.Systemic, failure.ReasonForbidden, "InvalidSecurity"},
		{"KMSDisabled", apiErr("KMSDisabled"), failure.Systemic, failure.ReasonForbidden, "KMSDisabled"},
		{"KMSInvalidState", apiErr("KMSInvalidState"), failure.Systemic, failure.ReasonForbidden, "KMSInvalidState"},
		{"KMSNotFound", apiErr("KMSNotFound"), failure.Systemic, failure.ReasonForbidden, "KMSNotFound"},
		{"KMSOptInRequired", apiErr("KMSOptInRequired"), failure.Systemic, failure.ReasonForbidden, "KMSOptInRequired"},
		{"KMSAccessDenied", apiErr("KMSAccessDenied"), failure.Systemic, failure.ReasonForbidden, "KMSAccessDenied"},
		{"bad credentials", apiErr("InvalidClientTokenId"), failure.Systemic, failure.ReasonForbidden, "InvalidClientTokenId"},
		{"BatchEntryIdsNotDistinct", apiErr("BatchEntryIdsNotDistinct"), failure.Systemic, failure.ReasonSNSRejected, "BatchEntryIdsNotDistinct"},
		{"TooManyEntriesInBatchRequest", apiErr("TooManyEntriesInBatchRequest"), failure.Systemic, failure.ReasonSNSRejected, "TooManyEntriesInBatchRequest"},
		{"already classified", failure.Permanentf(failure.ReasonTooLarge, "x"), failure.Permanent, failure.ReasonTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := Classify(tt.err)
			if fe.Class != tt.class || fe.Reason != tt.reason || fe.Code != tt.code {
				t.Errorf("Classify = %s/%s/%q, want %s/%s/%q", fe.Class, fe.Reason, fe.Code, tt.class, tt.reason, tt.code)
			}
			if !errors.Is(fe, tt.err) && fe != tt.err {
				t.Errorf("Classify lost the cause %v", tt.err)
			}
		})
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

func TestClassifyEntry(t *testing.T) {
	tests := []struct {
		code   string
		sender bool
		class  failure.Class
	}{
		{"InvalidParameter", true, failure.Permanent},
		{"ParameterValueInvalid", true, failure.Permanent},
		{"SomethingNew", true, failure.Permanent}, // per-entry sender fault
		{"SomethingNew", false, failure.Transient},
		{"InternalError", false, failure.Transient},
		{"Throttled", true, failure.Transient}, // known transient code wins over SenderFault
		{"KMSThrottling", true, failure.Transient},
		{"KMSDisabled", true, failure.Systemic},
		{"NotFound", true, failure.Systemic},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s sender=%t", tt.code, tt.sender), func(t *testing.T) {
			fe := classifyEntry(tt.code, "msg", tt.sender)
			var ee *EntryError
			if fe.Class != tt.class || fe.Code != tt.code || !errors.As(fe, &ee) || ee.SenderFault != tt.sender {
				t.Errorf("classifyEntry = %+v, want class %s", fe, tt.class)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if _, err := NewPublisher(nil, ok); err == nil || !contains(err.Error(), "client") {
		t.Errorf("NewPublisher with a nil client = %v; want an error naming it", err)
	}
	tests := []struct {
		field  string
		mutate func(*Config)
	}{
		{"Linger", func(c *Config) { c.Linger = 2e9 }},
		{"MaxBatchEntries", func(c *Config) { c.MaxBatchEntries = 11 }},
		{"Encoder", func(c *Config) { c.Encoder = "fast" }},
		{"MaxInflightBatches", func(c *Config) { c.MaxInflightBatches = -1 }},
		{"MaxQueuedEntries", func(c *Config) { c.MaxQueuedEntries = -1 }},
		{"CallTimeout", func(c *Config) { c.CallTimeout = -1 }},
		{"BackoffBase", func(c *Config) { c.BackoffBase = -1 }},
		{"BackoffMax", func(c *Config) { c.BackoffMax = 1 }},
		{"BreakerOpenTimeout", func(c *Config) { c.BreakerOpenTimeout = -1 }},
		{"MaxMessageSize", func(c *Config) { c.Topics = map[string]TopicInfo{"arn": {MaxMessageSize: -1}} }},
	}
	for _, tt := range tests {
		c := ok
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !contains(err.Error(), tt.field) {
			t.Errorf("Validate with bad %s = %v; want an error naming it", tt.field, err)
		}
	}
	// A negative Linger is NoLinger, not a mistake: the YAML's linger: 0.
	noLinger := ok
	noLinger.Linger = NoLinger
	if err := noLinger.Validate(); err != nil || noLinger.withDefaults().Linger != 0 || ok.withDefaults().Linger != DefaultLinger {
		t.Errorf("Linger NoLinger: Validate = %v, linger %v (zero gives %v); want valid, 0 and DefaultLinger",
			err, noLinger.withDefaults().Linger, ok.withDefaults().Linger)
	}
	cc := ClientConfig{Endpoint: "localhost:4566"}
	if err := cc.Validate(); err == nil || !contains(err.Error(), "Endpoint") {
		t.Errorf("ClientConfig.Validate(bad endpoint) = %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

type nopAPI struct{ API }

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	p, err := NewPublisher(nopAPI{}, Config{BackoffBase: 100e6, BackoffMax: 5e9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	for n := range 100 {
		for range 20 {
			// The wait after n+1 consecutive failures.
			d := p.retryDelay(n+1, &failure.Error{Class: failure.Transient, Reason: failure.ReasonSNSUnavail})
			limit := p.cfg.BackoffMax
			if n <= 5 {
				limit = min(limit, p.cfg.BackoffBase<<n)
			}
			if d < 0 || d > limit {
				t.Fatalf("backoff(%d) = %v, outside [0, %v]", n, d, limit)
			}
		}
	}
	for range 50 {
		if d := p.retryDelay(1, &failure.Error{Class: failure.Systemic}); d < p.cfg.BackoffMax/2 || d > p.cfg.BackoffMax {
			t.Fatalf("systemic backoff %v outside [max/2, max]", d)
		}
	}
	// Throttling waits short whatever the count: the send rate paces.
	throttled := Classify(apiErr("Throttled"))
	for n := range 100 {
		if d := p.retryDelay(n+1, throttled); d < 0 || d > 100*time.Millisecond {
			t.Fatalf("throttled backoff(%d) = %v, outside [0, 100ms]", n, d)
		}
	}
}
