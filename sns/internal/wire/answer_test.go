package wire_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire"
	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire/wiretest"
)

var oneEntry = []wire.Entry{{ID: "0", Body: "x"}}

// answerBoth gives the same answer to the SDK and to a wire client.
func answerBoth(t testing.TB, status int, header map[string]string, body string) (viaSDK, direct outcome) {
	t.Helper()
	sdk, w := clients(t, "http://sns.test", answering(status, header, body))
	return publishBoth(context.Background(), sdk, w, testTopic, oneEntry)
}

// TestAnswersMatchSDK reads every known answer, successes and errors, with
// the SDK and with the wire client, and wants the same outcome: result
// entries, or status, code, message, fault and error kind.
func TestAnswersMatchSDK(t *testing.T) {
	for name, body := range wiretest.BatchAnswers {
		t.Run("200 "+name, func(t *testing.T) {
			viaSDK, direct := answerBoth(t, 200, map[string]string{"X-Amzn-RequestId": "rid"}, body)
			if !reflect.DeepEqual(viaSDK, direct) {
				t.Errorf("SDK    %+v\ndirect %+v", viaSDK, direct)
			}
		})
	}
	for name, a := range wiretest.ErrorAnswers {
		t.Run(name, func(t *testing.T) {
			viaSDK, direct := answerBoth(t, a.Status, a.Header, a.Body)
			if !reflect.DeepEqual(viaSDK, direct) {
				t.Errorf("SDK    %+v\ndirect %+v", viaSDK, direct)
			}
			if !direct.Err || direct.Status != a.Status {
				t.Errorf("an HTTP %d answer gave %+v", a.Status, direct)
			}
		})
	}
}

// FuzzAnswerMatchesSDK is TestAnswersMatchSDK on any status and body.
func FuzzAnswerMatchesSDK(f *testing.F) {
	for _, body := range wiretest.BatchAnswers {
		f.Add(200, false, body)
	}
	for _, a := range wiretest.ErrorAnswers {
		f.Add(a.Status, a.Header["X-Amzn-Query-Error"] != "", a.Body)
	}
	f.Fuzz(func(t *testing.T, status int, queryHeader bool, body string) {
		status = 200 + (status%400+400)%400 // 200..599
		header := map[string]string{"X-Amzn-RequestId": "rid"}
		if queryHeader {
			header["X-Amzn-Query-Error"] = "Throttling;Sender"
		}
		viaSDK, direct := answerBoth(t, status, header, body)
		if !reflect.DeepEqual(viaSDK, direct) {
			t.Fatalf("HTTP %d %q:\nSDK    %+v\ndirect %+v", status, body, viaSDK, direct)
		}
	})
}

// TestErrorShapesMatchSDK keeps the package's list of modeled errors equal
// to the SDK's TypeRegistry: a new SDK that models another error fails here.
func TestErrorShapesMatchSDK(t *testing.T) {
	var fromSDK []string
	for id, entry := range awssns.TypeRegistry.Entries {
		v, ok := entry.New().(smithy.APIError)
		if !ok {
			continue
		}
		shape := id[strings.Index(id, "#")+1:]
		fromSDK = append(fromSDK, fmt.Sprintf("%s %s %t", shape, v.ErrorCode(), v.ErrorFault() == smithy.FaultServer))
		if v.ErrorFault() != smithy.FaultServer && v.ErrorFault() != smithy.FaultClient {
			t.Errorf("%s has fault %v; the package knows client and server faults only", id, v.ErrorFault())
		}
	}
	var ours []string
	for _, s := range wire.ErrorShapes() {
		ours = append(ours, fmt.Sprintf("%s %s %t", s.Shape, s.Code, s.Server))
	}
	sort.Strings(fromSDK)
	sort.Strings(ours)
	if !reflect.DeepEqual(fromSDK, ours) {
		t.Errorf("SDK's modeled errors:\n%s\nthe package's:\n%s", strings.Join(fromSDK, "\n"), strings.Join(ours, "\n"))
	}
}

// TestErrorChain checks what a caller can take out of an error besides what
// the SDK offers: the answer's Type and RequestId, and what an unreadable
// body held.
func TestErrorChain(t *testing.T) {
	_, w := clients(t, "http://sns.test", answering(404, map[string]string{"X-Amzn-RequestId": "hdr-1"},
		wiretest.ErrorAnswers["NotFound (moto)"].Body))
	var res wire.BatchResult
	err := w.PublishBatch(context.Background(), testTopic, oneEntry, &res)
	var op *smithy.OperationError
	var re *awshttp.ResponseError
	var ae *wire.APIError
	if !errors.As(err, &op) || op.Service() != "SNS" || op.Operation() != "PublishBatch" ||
		!errors.As(err, &re) || re.HTTPStatusCode() != 404 || re.ServiceRequestID() != "hdr-1" ||
		!errors.As(err, &ae) || ae.Code != "NotFound" || ae.Type != "Sender" || ae.RequestID != "3IdF" ||
		ae.Fault != smithy.FaultClient {
		t.Errorf("NotFound answer gave %v (%#v)", err, ae)
	}
	if len(res.Successful)+len(res.Failed) != 0 {
		t.Errorf("failed call left a result: %+v", res)
	}

	json := wiretest.ErrorAnswers["400 json query-compatible"]
	_, w = clients(t, "http://sns.test", answering(json.Status, json.Header, json.Body))
	err = w.PublishBatch(context.Background(), testTopic, oneEntry, &res)
	var be *wire.BodyError
	var apiErr smithy.APIError
	if !errors.As(err, &be) || be.Kind != "json" || be.JSONType != "com.amazonaws.sns#InvalidParameterException" ||
		be.QueryError != "InvalidParameter;Sender" || be.Status != 400 || errors.As(err, &apiErr) {
		t.Errorf("JSON answer gave %v (%#v)", err, be)
	}
	if s := err.Error(); !strings.Contains(s, "__type com.amazonaws.sns#InvalidParameterException") || strings.Contains(s, "Invalid parameter: Message") {
		t.Errorf("error text %q must name the JSON type and not quote the body", s)
	}

	_, w = clients(t, "http://sns.test", answering(503, nil, ""))
	err = w.PublishBatch(context.Background(), testTopic, oneEntry, &res)
	if !errors.As(err, &be) || be.Kind != "empty" || !strings.Contains(err.Error(), "HTTP 503 with an empty body") {
		t.Errorf("empty 503 gave %v", err)
	}
}
