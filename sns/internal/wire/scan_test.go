package wire

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/thena-ai/kafka-sns-bridge/sns/internal/wire/wiretest"
)

// TestScanAgreesWithDecode checks, on every known answer, that the scanner
// either declines or reads what decode.go reads, and that it reads the
// answers SNS and moto really give (the fast path is the common path).
func TestScanAgreesWithDecode(t *testing.T) {
	mustScan := map[string]bool{"sns": true, "moto": true, "fifo": true, "throttled entries": true,
		"entities and odd case": true, "repeated members": true, "empty result": true}
	for name, body := range wiretest.BatchAnswers {
		t.Run(name, func(t *testing.T) {
			if _, ok := scanAndDecode(t, []byte(body)); mustScan[name] && !ok {
				t.Errorf("the scanner declined %q", name)
			}
		})
	}
	for name, body := range wiretest.PublishAnswers {
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
	if !scanBatch(wiretest.BatchAnswers["sns"], &res) {
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
	if !scanBatch(wiretest.BatchAnswers["throttled entries"], &res) || res.Failed[1].Message != `KMS & <co> "slow" '` {
		t.Errorf("entities: %+v", res)
	}
	res = BatchResult{}
	if !scanBatch(wiretest.BatchAnswers["repeated members"], &res) || len(res.Successful) != 1 || res.Successful[0].ID != "2" {
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
	for _, b := range wiretest.BatchAnswers {
		f.Add([]byte(b))
	}
	for _, a := range wiretest.ErrorAnswers {
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

// BenchmarkParseAnswer reads a ten-entry answer with the scanner (the
// path taken) and with the encoding/xml reader it falls back to.
func BenchmarkParseAnswer(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>`)
	for i := range 10 {
		fmt.Fprintf(&sb, `<member><Id>%d</Id><MessageId>6d5f8e3c-2b1a-4c9d-8e7f-%012d</MessageId></member>`, i, i)
	}
	sb.WriteString(`</Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishBatchResponse>`)
	body := []byte(sb.String())
	for _, reader := range []struct {
		name string
		read func([]byte, *BatchResult) error
	}{{"scan", parseBatch}, {"decode", decodeBatch}} {
		b.Run(reader.name, func(b *testing.B) {
			var res BatchResult
			b.ReportAllocs()
			for b.Loop() {
				res.reset()
				if err := reader.read(body, &res); err != nil || len(res.Successful) != 10 {
					b.Fatal(err)
				}
			}
		})
	}
}
