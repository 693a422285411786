package wire

import (
	"reflect"
	"testing"
)

// TestScanAgreesWithDecode checks, on every known answer, that the scanner
// either declines or reads what decode.go reads, and that it reads the
// answers SNS and moto really give (the fast path is the common path).
func TestScanAgreesWithDecode(t *testing.T) {
	mustScan := map[string]bool{"sns": true, "moto": true, "fifo": true, "throttled entries": true,
		"entities and odd case": true, "repeated members": true, "empty result": true}
	for name, body := range batchAnswers {
		t.Run(name, func(t *testing.T) {
			if _, ok := scanAndDecode(t, []byte(body)); mustScan[name] && !ok {
				t.Errorf("the scanner declined %q", name)
			}
		})
	}
	for name, body := range publishAnswers {
		t.Run("publish "+name, func(t *testing.T) {
			var fast, slow PublishResult
			ok := scanPublish(body, &fast)
			err := decodePublish([]byte(body), &slow)
			if !ok && name != "none" {
				t.Errorf("the scanner declined %q", name)
			}
			if ok && (err != nil || fast != slow) {
				t.Errorf("scan = %+v, decode = %+v, %v", fast, slow, err)
			}
		})
	}
}

func TestScanReadsSNSAnswer(t *testing.T) {
	var res BatchResult
	if !scanBatch(batchAnswers["sns"], &res) {
		t.Fatal("declined")
	}
	want := BatchResult{
		Successful: []Success{{ID: "1", MessageID: "567910cd-659e-55d4-8ccb-5aaf14679dc0"}},
		Failed:     []Failure{{ID: "2", Code: "InvalidParameter", Message: "Invalid parameter: Message", SenderFault: true}},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("got %+v\nwant %+v", res, want)
	}
	res = BatchResult{}
	if !scanBatch(batchAnswers["throttled entries"], &res) || res.Failed[1].Message != `KMS & <co> "slow" '` {
		t.Errorf("entities: %+v", res)
	}
	res = BatchResult{}
	if !scanBatch(batchAnswers["repeated members"], &res) || len(res.Successful) != 1 || res.Successful[0].ID != "2" {
		t.Errorf("a repeated list must replace the earlier one: %+v", res)
	}
}

// scanAndDecode runs both readers on body and fails t if the scanner
// accepted it and they disagree. It reports whether the scanner accepted.
func scanAndDecode(t testing.TB, body []byte) (BatchResult, bool) {
	var fast, slow BatchResult
	ok := scanBatch(string(body), &fast)
	err := decodeBatch(body, &slow)
	if ok {
		if err != nil {
			t.Fatalf("scanner accepted %q, decode failed: %v", body, err)
		}
		normalize(&fast)
		normalize(&slow)
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("answer %q:\nscan   %+v\ndecode %+v", body, fast, slow)
		}
	}
	return fast, ok
}

func normalize(r *BatchResult) {
	if len(r.Successful) == 0 {
		r.Successful = nil
	}
	if len(r.Failed) == 0 {
		r.Failed = nil
	}
}

// FuzzScanMatchesDecode holds the scanner to decode.go's reading on every
// answer it accepts.
func FuzzScanMatchesDecode(f *testing.F) {
	for _, b := range batchAnswers {
		f.Add([]byte(b))
	}
	for _, a := range errorAnswers {
		f.Add([]byte(a.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		scanAndDecode(t, body)
		var fast, slow PublishResult
		if scanPublish(string(body), &fast) {
			if err := decodePublish(body, &slow); err != nil || fast != slow {
				t.Fatalf("publish answer %q: scan %+v, decode %+v %v", body, fast, slow, err)
			}
		}
	})
}
