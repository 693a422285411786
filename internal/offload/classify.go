package offload

import (
	"context"
	"errors"
	"net"

	"github.com/aws/smithy-go"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// Codes Classify reports for failures that carry no S3 error code.
const (
	CodeTimeout = "Timeout"      // the call's deadline passed
	CodeNetwork = "NetworkError" // the request could not be sent or the answer read
	CodeHTTP5xx = "HTTP5xx"      // a 5xx answer without an error code
	CodeHTTP4xx = "HTTP4xx"      // a 4xx answer without an error code
)

type codeClass struct {
	class  failure.Class
	reason string
}

// codeClasses are the S3 error codes Classify knows; HeadBucket answers
// carry no body, so its 403 and 404 come as Forbidden and NotFound.
var codeClasses = map[string]codeClass{
	// Transient: S3 is unwell or asks for a lower rate.
	"SlowDown":                {failure.Transient, failure.ReasonThrottled},
	"Throttling":              {failure.Transient, failure.ReasonThrottled},
	"ThrottlingException":     {failure.Transient, failure.ReasonThrottled},
	"RequestLimitExceeded":    {failure.Transient, failure.ReasonThrottled},
	"KMS.ThrottlingException": {failure.Transient, failure.ReasonThrottled},
	"InternalError":           {failure.Transient, ReasonS3Unavail},
	"ServiceUnavailable":      {failure.Transient, ReasonS3Unavail},
	"RequestTimeout":          {failure.Transient, ReasonS3Unavail},
	"OperationAborted":        {failure.Transient, ReasonS3Unavail},
	CodeTimeout:               {failure.Transient, ReasonS3Unavail},
	CodeNetwork:               {failure.Transient, ReasonS3Unavail},
	CodeHTTP5xx:               {failure.Transient, ReasonS3Unavail},

	// Systemic: the bucket is missing or not ours to write.
	"NoSuchBucket":                 {failure.Systemic, ReasonBucketMissing},
	"NotFound":                     {failure.Systemic, ReasonBucketMissing},
	"AccessDenied":                 {failure.Systemic, failure.ReasonForbidden},
	"Forbidden":                    {failure.Systemic, failure.ReasonForbidden},
	"AllAccessDisabled":            {failure.Systemic, failure.ReasonForbidden},
	"InvalidAccessKeyId":           {failure.Systemic, failure.ReasonForbidden},
	"SignatureDoesNotMatch":        {failure.Systemic, failure.ReasonForbidden},
	"ExpiredToken":                 {failure.Systemic, failure.ReasonForbidden},
	"InvalidToken":                 {failure.Systemic, failure.ReasonForbidden},
	"AccountProblem":               {failure.Systemic, failure.ReasonForbidden},
	"KMS.DisabledException":        {failure.Systemic, failure.ReasonForbidden},
	"KMS.NotFoundException":        {failure.Systemic, failure.ReasonForbidden},
	"KMS.KMSInvalidStateException": {failure.Systemic, failure.ReasonForbidden},
	"PermanentRedirect":            {failure.Systemic, ReasonBucketMissing}, // the bucket is in another region
	"AuthorizationHeaderMalformed": {failure.Systemic, ReasonBucketMissing},
}

// Reasons of S3 failures, beside internal/failure's throttled and
// forbidden.
const (
	ReasonS3Unavail     = "s3_unavailable" // S3 unreachable, timing out or answering 5xx
	ReasonBucketMissing = "bucket_missing" // the bucket does not exist (or not in this region)
)

// Classify turns an S3 call's error into a *failure.Error (see the package
// documentation for the table). A canceled context is transient: the
// record is tried again by whoever owns it next.
func Classify(err error) *failure.Error {
	if err == nil {
		return nil
	}
	code := ""
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		code = apiErr.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		code = CodeTimeout
	case statusCode(err) >= 500:
		code = CodeHTTP5xx
	case statusCode(err) >= 400:
		code = CodeHTTP4xx
	default:
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &ne) || errors.As(err, &oe) || statusCode(err) == 0 {
			code = CodeNetwork
		}
	}
	if cc, ok := codeClasses[code]; ok {
		return &failure.Error{Class: cc.class, Reason: cc.reason, Code: code, Err: err}
	}
	if s := statusCode(err); s >= 500 || s == 429 {
		return &failure.Error{Class: failure.Transient, Reason: ReasonS3Unavail, Code: code, Err: err}
	}
	// Any other S3 refusal is the configuration's, the same for every
	// event: retry slowly rather than dead-letter events S3 would take once
	// it is fixed.
	return &failure.Error{Class: failure.Systemic, Reason: failure.ReasonForbidden, Code: code, Err: err}
}
