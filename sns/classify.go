package sns

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/sony/gobreaker/v2"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// Codes the classifier reports for failures that carry no SNS error code.
const (
	CodeTimeout     = "Timeout"      // the call's deadline passed
	CodeNetwork     = "NetworkError" // the request could not be sent or the response read
	CodeBreakerOpen = "BreakerOpen"  // the topic's breaker refused the call
	CodeHTTP5xx     = "HTTP5xx"      // a 5xx response without a recognisable error code
	CodeHTTP429     = "HTTP429"      // a 429 (too many requests) response without a recognisable error code
	CodeNoResult    = "NoResult"     // a 200 response that listed the entry neither as successful nor failed
	CodeCanceled    = "Canceled"     // the call was cancelled by the publisher shutting down
)

type codeClass struct {
	class  failure.Class
	reason string
}

// codeClasses is delivery.md's table of SNS error codes. Codes missing here
// fall back to the fault side (see Classify and classifyEntry).
var codeClasses = map[string]codeClass{
	// Transient: SNS or its dependencies are unwell or asking us to slow down.
	"InternalError":       {failure.Transient, failure.ReasonSNSUnavail},
	"InternalFailure":     {failure.Transient, failure.ReasonSNSUnavail},
	"ServiceUnavailable":  {failure.Transient, failure.ReasonSNSUnavail},
	"Throttled":           {failure.Transient, failure.ReasonThrottled},
	"Throttling":          {failure.Transient, failure.ReasonThrottled},
	"ThrottlingException": {failure.Transient, failure.ReasonThrottled},
	"RequestThrottled":    {failure.Transient, failure.ReasonThrottled},
	"TooManyRequests":     {failure.Transient, failure.ReasonThrottled},
	// TooManyRequestsException is the JSON protocols' spelling; CodeHTTP429
	// a 429 answer without a code.
	"TooManyRequestsException": {failure.Transient, failure.ReasonThrottled},
	CodeHTTP429:                {failure.Transient, failure.ReasonThrottled},
	"KMSThrottling":            {failure.Transient, failure.ReasonThrottled},
	"RequestTimeout":           {failure.Transient, failure.ReasonSNSUnavail},
	"ConcurrentAccess":         {failure.Transient, failure.ReasonSNSUnavail},
	CodeTimeout:                {failure.Transient, failure.ReasonSNSUnavail},
	CodeNetwork:                {failure.Transient, failure.ReasonSNSUnavail},
	CodeHTTP5xx:                {failure.Transient, failure.ReasonSNSUnavail},
	CodeNoResult:               {failure.Transient, failure.ReasonSNSUnavail},
	CodeCanceled:               {failure.Transient, failure.ReasonSNSUnavail},
	CodeBreakerOpen:            {failure.Transient, failure.ReasonBreakerOpen},

	// Permanent: this one event is unacceptable to SNS.
	"InvalidParameter":      {failure.Permanent, failure.ReasonSNSRejected},
	"ParameterValueInvalid": {failure.Permanent, failure.ReasonSNSRejected},
	"ValidationException":   {failure.Permanent, failure.ReasonSNSRejected},
	// BatchRequestTooLong on a batch of one means the entry alone is over the
	// limit; the publisher splits larger batches before deciding (see send).
	"BatchRequestTooLong": {failure.Permanent, failure.ReasonTooLarge},

	// Systemic: the destination is missing or not ours to publish to.
	"NotFound":                    {failure.Systemic, failure.ReasonTopicMissing},
	"ResourceNotFound":            {failure.Systemic, failure.ReasonTopicMissing},
	"AuthorizationError":          {failure.Systemic, failure.ReasonForbidden},
	"InvalidSecurity":             {failure.Systemic, failure.ReasonForbidden},
	"AccessDenied":                {failure.Systemic, failure.ReasonForbidden},
	"InvalidClientTokenId":        {failure.Systemic, failure.ReasonForbidden},
	"SignatureDoesNotMatch":       {failure.Systemic, failure.ReasonForbidden},
	"UnrecognizedClientException": {failure.Systemic, failure.ReasonForbidden},
	"ExpiredToken":                {failure.Systemic, failure.ReasonForbidden},
	"KMSDisabled":                 {failure.Systemic, failure.ReasonForbidden},
	"KMSInvalidState":             {failure.Systemic, failure.ReasonForbidden},
	"KMSNotFound":                 {failure.Systemic, failure.ReasonForbidden},
	"KMSOptInRequired":            {failure.Systemic, failure.ReasonForbidden},
	"KMSAccessDenied":             {failure.Systemic, failure.ReasonForbidden},
	// The batch itself is malformed: the publisher built it wrongly. No event
	// is at fault, so none is dead-lettered; the topic stops and alerts.
	"BatchEntryIdsNotDistinct":     {failure.Systemic, failure.ReasonSNSRejected},
	"InvalidBatchEntryId":          {failure.Systemic, failure.ReasonSNSRejected},
	"TooManyEntriesInBatchRequest": {failure.Systemic, failure.ReasonSNSRejected},
	"EmptyBatchRequest":            {failure.Systemic, failure.ReasonSNSRejected},
}

// EntryError is what SNS said about one rejected entry or call. It is the
// cause (Err) inside the *failure.Error a Result carries, so the consumer can
// put Code, Message and SenderFault into the dead-letter headers.
type EntryError struct {
	Code        string
	Message     string
	SenderFault bool
}

// Error returns the SNS code and message.
func (e *EntryError) Error() string {
	return fmt.Sprintf("sns %s (sender fault %t): %s", e.Code, e.SenderFault, e.Message)
}

// Classify returns err as a classified *failure.Error, following delivery.md:
//
//   - transient: network errors, timeouts, HTTP 5xx, InternalError, breaker
//     open; throttling (Throttled, Throttling, TooManyRequestsException,
//     KMSThrottling, HTTP 429: reason throttled); and any
//     code it does not know, so that an unknown error can never cause a dead
//     letter;
//   - permanent: InvalidParameter, ParameterValueInvalid, ValidationException,
//     BatchRequestTooLong;
//   - systemic: NotFound, AuthorizationError, InvalidSecurity, the KMS access
//     errors, credential errors, and malformed batches (the publisher's bug).
//
// The returned error's Code is the SNS code (or one of the Code* constants).
// Classify returns nil for nil and returns a *failure.Error unchanged.
func Classify(err error) *failure.Error {
	if err == nil {
		return nil
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		return fe
	}
	code := errorCode(err)
	cc, ok := codeClasses[code]
	if !ok {
		cc = codeClass{failure.Transient, failure.ReasonSNSUnavail}
	}
	return &failure.Error{Class: cc.class, Reason: cc.reason, Code: code, Err: err}
}

// errorCode names err with an SNS code or one of the Code* constants.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" {
		return apiErr.ErrorCode()
	}
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return CodeBreakerOpen
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		switch st := respErr.HTTPStatusCode(); {
		case st == 429:
			return CodeHTTP429
		case st >= 500:
			return CodeHTTP5xx
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return CodeTimeout
	}
	return CodeNetwork
}

// classifyEntry classifies one Failed entry of a PublishBatch response. Known
// codes follow the table; an unknown code is permanent when SNS blames the
// sender and transient otherwise.
func classifyEntry(code, message string, senderFault bool) *failure.Error {
	cause := &EntryError{Code: code, Message: message, SenderFault: senderFault}
	cc, ok := codeClasses[code]
	if !ok {
		cc = codeClass{failure.Transient, failure.ReasonSNSUnavail}
		if senderFault {
			cc = codeClass{failure.Permanent, failure.ReasonSNSRejected}
		}
	}
	return &failure.Error{Class: cc.class, Reason: cc.reason, Code: code, Err: cause}
}

// unreachable reports whether err is a call that got no answer: no
// connection, or none in time. The connections it went over may be what
// hangs.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	code := Classify(err).Code
	return code == CodeTimeout || code == CodeNetwork
}

// isThrottle reports whether fe is SNS (or KMS behind it) asking for a lower
// rate: reason throttled. Throttling is never held against the topic's
// breaker; it slows the topic's send rate instead.
func isThrottle(fe *failure.Error) bool { return fe.Reason == failure.ReasonThrottled }
