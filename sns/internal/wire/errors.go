// Error answers, read as the SDK reads them (smithy-go's awsQuery protocol):
// the first element named Error (any case) holds Code and Message; a code
// SNS models (errorShapes, the SDK's TypeRegistry) becomes the modeled error
// with its own code and fault and a message read by the shape deserializer;
// any other code becomes an error with FaultUnknown; a body that holds no
// readable Error element becomes a *smithy.DeserializationError. The whole
// chain is the SDK's: *smithy.OperationError, *awshttp.ResponseError (the
// status and the x-amzn-RequestId), then the error.

package wire

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// APIError is an error SNS answered with, as the SDK reports it: Code and
// Fault are what the SDK's error for the answer returns (the modeled code
// and fault for the errors SNS models, the answer's code and FaultUnknown
// for the others), Message what it reads as the message. It implements
// smithy.APIError; the HTTP status is on the *awshttp.ResponseError that
// wraps it.
type APIError struct {
	Code    string
	Message string
	Fault   smithy.ErrorFault
	// Type is the answer's Type element ("Sender" or "Receiver"), which the
	// SDK does not read; RequestID is the answer's RequestId element.
	Type      string
	RequestID string
}

// Error returns the code and message.
func (e *APIError) Error() string { return fmt.Sprintf("api error %s: %s", e.Code, e.Message) }

// ErrorCode returns the SNS error code.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage returns the SNS error message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault returns whether SNS blames the sender or itself, as the SDK
// would.
func (e *APIError) ErrorFault() smithy.ErrorFault { return e.Fault }

var _ smithy.APIError = (*APIError)(nil)

// BodyError describes an answer the SDK cannot read: an error status whose
// body holds no Error element (empty, HTML, JSON, plain text, truncated
// XML). It is the Err of the *smithy.DeserializationError such an answer
// becomes, and unwraps to the XML reader's error, as the SDK's does.
type BodyError struct {
	Status      int
	ContentType string
	Size        int
	// Kind is "empty", "json", "html", "xml" or "text".
	Kind string
	// JSONType and JSONMessage are a JSON body's __type and message;
	// QueryError is the X-Amzn-Query-Error header ("Code;Sender"). The SDK
	// reads neither for SNS, so neither becomes an error code.
	JSONType    string
	JSONMessage string
	QueryError  string
	Err         error
}

// Error describes the answer without quoting it.
func (e *BodyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SNS answered HTTP %d with ", e.Status)
	if e.Kind == "empty" {
		b.WriteString("an empty body")
	} else {
		fmt.Fprintf(&b, "%d bytes of %s", e.Size, e.Kind)
	}
	if e.JSONType != "" {
		fmt.Fprintf(&b, " (__type %s)", e.JSONType)
	}
	if e.QueryError != "" {
		fmt.Fprintf(&b, " (x-amzn-query-error %s)", e.QueryError)
	}
	fmt.Fprintf(&b, " and no readable Error element: %v", e.Err)
	return b.String()
}

// Unwrap returns the XML reader's error.
func (e *BodyError) Unwrap() error { return e.Err }

// errorShape is an error SNS models: its shape name, the code its SDK error
// returns, and whether the SDK's error has FaultServer (else FaultClient).
type errorShape struct {
	shape, code string
	server      bool
}

// errorShapes are the errors the SDK's TypeRegistry for SNS holds
// (TestErrorShapesMatchSDK keeps the list in step with the SDK).
var errorShapes = []errorShape{
	{"AuthorizationErrorException", "AuthorizationError", false},
	{"BatchEntryIdsNotDistinctException", "BatchEntryIdsNotDistinct", false},
	{"BatchRequestTooLongException", "BatchRequestTooLong", false},
	{"ConcurrentAccessException", "ConcurrentAccess", false},
	{"EmptyBatchRequestException", "EmptyBatchRequest", false},
	{"EndpointDisabledException", "EndpointDisabled", false},
	{"FilterPolicyLimitExceededException", "FilterPolicyLimitExceeded", false},
	{"InternalErrorException", "InternalError", true},
	{"InvalidBatchEntryIdException", "InvalidBatchEntryId", false},
	{"InvalidParameterException", "InvalidParameter", false},
	{"InvalidParameterValueException", "ParameterValueInvalid", false},
	{"InvalidSecurityException", "InvalidSecurity", false},
	{"InvalidStateException", "InvalidState", false},
	{"KMSAccessDeniedException", "KMSAccessDenied", false},
	{"KMSDisabledException", "KMSDisabled", false},
	{"KMSInvalidStateException", "KMSInvalidState", false},
	{"KMSNotFoundException", "KMSNotFound", false},
	{"KMSOptInRequired", "KMSOptInRequired", false},
	{"KMSThrottlingException", "KMSThrottling", false},
	{"NotFoundException", "NotFound", false},
	{"OptedOutException", "OptedOut", false},
	{"PlatformApplicationDisabledException", "PlatformApplicationDisabled", false},
	{"ReplayLimitExceededException", "ReplayLimitExceeded", false},
	{"ResourceNotFoundException", "ResourceNotFound", false},
	{"StaleTagException", "StaleTag", false},
	{"SubscriptionLimitExceededException", "SubscriptionLimitExceeded", false},
	{"TagLimitExceededException", "TagLimitExceeded", false},
	{"TagPolicyException", "TagPolicy", false},
	{"ThrottledException", "Throttled", false},
	{"TooManyEntriesInBatchRequestException", "TooManyEntriesInBatchRequest", false},
	{"TopicLimitExceededException", "TopicLimitExceeded", false},
	{"UserErrorException", "UserError", false},
	{"ValidationException", "ValidationException", false},
	{"VerificationException", "VerificationException", false},
}

// shapeNamespace prefixes the shape ids the SDK's registry is keyed by.
const shapeNamespace = "com.amazonaws.sns#"

// errorShapeOf maps an answer's code to its modeled error as the SDK
// resolves it: by shape id or shape name first, then by the code.
var errorShapeOf = func() map[string]*errorShape {
	m := make(map[string]*errorShape, 3*len(errorShapes))
	for i := range errorShapes {
		m[errorShapes[i].code] = &errorShapes[i]
	}
	for i := range errorShapes {
		m[errorShapes[i].shape] = &errorShapes[i]
		m[shapeNamespace+errorShapes[i].shape] = &errorShapes[i]
	}
	return m
}()

// responseError is the error an answer of status (not 2xx) with payload
// becomes, before the chain's wrappers.
func responseError(resp *http.Response, payload []byte) error {
	info, errorBody, err := protocolErrorInfo(payload)
	if err != nil {
		return &smithy.DeserializationError{Err: describeBody(resp, payload, err)}
	}
	shape, ok := errorShapeOf[info.Code]
	if !ok {
		return &APIError{Code: info.Code, Message: info.Message, Fault: smithy.FaultUnknown,
			Type: info.Type, RequestID: requestIDElement(payload)}
	}
	msg, err := modeledMessage(errorBody, shape)
	if err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	fault := smithy.FaultClient
	if shape.server {
		fault = smithy.FaultServer
	}
	return &APIError{Code: shape.code, Message: msg, Fault: fault, Type: info.Type, RequestID: requestIDElement(payload)}
}

// protocolError is the Error element as the SDK unmarshals it (Type is
// ours; unmarshaling it cannot fail where the SDK's does not).
type protocolError struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
	Type    string `xml:"Type"`
}

// protocolErrorInfo is smithy-go's GetProtocolErrorInfo: the Error element
// (re-encoded, as the SDK does, which is where some malformed bodies fail)
// and its Code and Message, "UnknownError" when absent. This is the one use
// of reflection (xml.Unmarshal), kept so the error path is the SDK's.
func protocolErrorInfo(payload []byte) (protocolError, []byte, error) {
	info := protocolError{Code: "UnknownError", Message: "UnknownError"}
	body, err := extractElement(payload, "Error")
	if err != nil {
		return info, nil, err
	}
	var pe protocolError
	if err := xml.Unmarshal(body, &pe); err != nil {
		return info, nil, err
	}
	if pe.Code != "" {
		info.Code = pe.Code
	}
	if pe.Message != "" {
		info.Message = pe.Message
	}
	info.Type = pe.Type
	return info, body, nil
}

// extractElement is smithy-go's ExtractElement: the first element called
// name (any case), with its tags, as an encoder re-encodes its tokens.
func extractElement(payload []byte, name string) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(payload))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok || !strings.EqualFold(start.Name.Local, name) {
			continue
		}
		var buf bytes.Buffer
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeToken(start); err != nil {
			return nil, err
		}
		if err := enc.Flush(); err != nil {
			return nil, err
		}
		for depth := 1; depth > 0; {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if err := enc.EncodeToken(tok); err != nil {
				return nil, err
			}
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
		}
		if err := enc.Flush(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
}

// modeledMessage reads a modeled error's members from the Error element as
// the SDK's shape deserializer does: "message" in any case, the last one
// given; VerificationException also reads "Status", which can fail the same
// way.
func modeledMessage(errorBody []byte, shape *errorShape) (string, error) {
	r := newXMLReader(errorBody)
	if _, ok, err := r.nextStart(); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("expected start element")
		}
		return "", err
	}
	var msg string
	err := r.members(func(name string) (err error) {
		switch {
		case strings.EqualFold(name, "message"):
			msg, err = r.text()
		case shape.shape == "VerificationException" && strings.EqualFold(name, "Status"):
			_, err = r.text()
		default:
			err = r.skip()
		}
		return err
	})
	return msg, err
}

// requestIDElement returns the RequestId element of an error answer, if any.
func requestIDElement(payload []byte) string {
	b, err := extractElement(payload, "RequestId")
	if err != nil {
		return ""
	}
	var id string
	if xml.Unmarshal(b, &id) != nil {
		return ""
	}
	return id
}

// describeBody says what an unreadable error answer held.
func describeBody(resp *http.Response, payload []byte, err error) *BodyError {
	be := &BodyError{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Size: len(payload),
		QueryError: resp.Header.Get("X-Amzn-Query-Error"), Err: err}
	trimmed := bytes.TrimSpace(payload)
	switch {
	case len(trimmed) == 0:
		be.Kind = "empty"
	case trimmed[0] == '{':
		be.Kind = "json"
		var j struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(trimmed, &j) == nil {
			be.JSONType, be.JSONMessage = j.Type, j.Message
		}
	case strings.Contains(strings.ToLower(be.ContentType), "html") ||
		bytes.HasPrefix(bytes.ToLower(trimmed[:min(len(trimmed), 14)]), []byte("<!doctype html")) ||
		bytes.HasPrefix(bytes.ToLower(trimmed[:min(len(trimmed), 5)]), []byte("<html")):
		be.Kind = "html"
	case trimmed[0] == '<':
		be.Kind = "xml"
	default:
		be.Kind = "text"
	}
	return be
}

// wrapResponse wraps err (from reading the answer resp) as the SDK does.
func wrapResponse(op string, resp *http.Response, requestID string, err error) error {
	return operationError(op, &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: err},
		RequestID:     requestID,
	})
}

func operationError(op string, err error) error {
	return &smithy.OperationError{ServiceID: awssns.ServiceID, OperationName: op, Err: err}
}
