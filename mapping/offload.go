package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// The AWS extended clients' claim check format (Amazon SNS and SQS
// Extended Client Libraries, Java and Python, and the payload offloading
// library they share). A message whose body was offloaded to S3 has the
// body PointerBody writes and a Number attribute AttrExtendedPayloadSize,
// the stored body's size in bytes; the extended SQS clients see the
// attribute, read the pointer and return the stored body in its place.
const (
	PointerClass            = "software.amazon.payloadoffloading.PayloadS3Pointer"
	AttrExtendedPayloadSize = "ExtendedPayloadSize"
)

// OffloadedEvent is an event Map offloaded: the S3 object its message
// points to, which must be stored before the message is published.
type OffloadedEvent struct {
	Bucket, Key string
	// Body is the event's whole JSON body, untruncated: the object's content
	// (application/json, UTF-8).
	Body string
	// SSE and KMSKeyID are the route's Offload.SSE and Offload.KMSKeyID.
	SSE, KMSKeyID string
}

// PointerBody is the body of a message whose event is stored at bucket and
// key: ["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"...","s3Key":"..."}].
func PointerBody(bucket, key string) string {
	b, _ := json.Marshal(bucket) // strings always marshal
	k, _ := json.Marshal(key)
	return `["` + PointerClass + `",{"s3BucketName":` + string(b) + `,"s3Key":` + string(k) + `}]`
}

// ParsePointer reports whether body is a claim check pointer and where it
// points.
func ParsePointer(body string) (bucket, key string, ok bool) {
	if !strings.HasPrefix(body, `["`+PointerClass+`",`) {
		return "", "", false
	}
	var p []json.RawMessage
	var loc struct {
		Bucket string `json:"s3BucketName"`
		Key    string `json:"s3Key"`
	}
	if json.Unmarshal([]byte(body), &p) != nil || len(p) != 2 || json.Unmarshal(p[1], &loc) != nil || loc.Bucket == "" || loc.Key == "" {
		return "", "", false
	}
	return loc.Bucket, loc.Key, true
}

// OffloadKey is the S3 key of the event with id eventID under prefix:
// prefix + eventID + ".json" when the id is 1 to 128 characters of
// letters, digits, '-', '_' and '.' (not only dots), else prefix + its hex
// SHA-256 + ".json". The same event always gets the same key, so storing
// it again (a replay, a retry) overwrites its object.
func OffloadKey(prefix, eventID string) string {
	if safeKeyPart(eventID) {
		return prefix + eventID + ".json"
	}
	sum := sha256.Sum256([]byte(eventID))
	return prefix + hex.EncodeToString(sum[:]) + ".json"
}

func safeKeyPart(s string) bool {
	if s == "" || len(s) > 128 || strings.Trim(s, ".") == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
