package mapping

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// eventIDNamespace is the UUID namespace of generated event ids: the version 5
// UUID of the URL "https://github.com/thena-ai/kafka-sns-bridge/event-id" in
// the RFC 9562 URL namespace (6ba7b811-9dad-11d1-80b4-00c04fd430c8), which is
// 24b5f30e-154f-5911-aeda-2f4e73cdb28c. A test
// re-derives it. It must never change: doing so would give every replayed
// record a new id.
var eventIDNamespace = [16]byte{
	0x24, 0xb5, 0xf3, 0x0e, 0x15, 0x4f, 0x59, 0x11,
	0xae, 0xda, 0x2f, 0x4e, 0x73, 0xcd, 0xb2, 0x8c,
}

// uuidLen is the length of a UUID in its canonical text form.
const uuidLen = 36

// GeneratedEventID returns the eventId Map gives a custom object event that
// has none: the version 5 (name-based, SHA-1) UUID of "<topic>/<partition>/<offset>"
// in the bridge's own namespace, in lower-case canonical form.
//
// The id is a function of the record's position in Kafka, not random, so that
// a record that is consumed twice (a crash or rebalance before its offset was
// committed) is published twice with the same eventId: consumers de-duplicate
// on eventId (thena-events.md §4) and a FIFO topic drops the copy inside its
// five-minute deduplication window. A random id would turn every replay into
// a second, distinct event. The position identifies a record only while its
// topic exists: a record copied elsewhere (for example replayed from the
// dead-letter topic) gets the id of its new position.
func GeneratedEventID(src Source) string {
	var b [uuidLen]byte
	return string(appendEventID(b[:0], src))
}

func appendEventID(dst []byte, src Source) []byte {
	// Kafka topic names are at most 249 characters, so the hash input fits
	// the stack buffer.
	var buf [16 + 249 + 1 + 11 + 1 + 20]byte
	in := append(buf[:0], eventIDNamespace[:]...)
	in = append(in, src.Topic...)
	in = append(in, '/')
	in = strconv.AppendInt(in, int64(src.Partition), 10)
	in = append(in, '/')
	in = strconv.AppendInt(in, src.Offset, 10)
	return appendUUIDv5(dst, in)
}

// appendUUIDv5 appends the RFC 9562 version 5 UUID whose hash input is
// nsAndName: the 16 namespace bytes followed by the name.
func appendUUIDv5(dst []byte, nsAndName []byte) []byte {
	sum := sha1.Sum(nsAndName)
	u := sum[:]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var text [uuidLen]byte
	hex.Encode(text[0:8], u[0:4])
	text[8] = '-'
	hex.Encode(text[9:13], u[4:6])
	text[13] = '-'
	hex.Encode(text[14:18], u[6:8])
	text[18] = '-'
	hex.Encode(text[19:23], u[8:10])
	text[23] = '-'
	hex.Encode(text[24:36], u[10:16])
	return append(dst, text[:]...)
}

// hashedIDLen is the length of an id replaced by its hash: hex SHA-256.
const hashedIDLen = sha256.Size * 2

// appendSNSID appends s if SNS accepts it as a MessageGroupId or
// MessageDeduplicationId (1-128 ASCII letters, digits and punctuation), and
// otherwise the hex SHA-256 of s, which SNS always accepts. Equal inputs give
// equal outputs, so ordering and de-duplication keep working for odd ids; two
// different ids collide only if SHA-256 does.
func appendSNSID(dst []byte, s []byte) []byte {
	if usableSNSID(string(s)) {
		return append(dst, s...)
	}
	sum := sha256.Sum256(s)
	return hex.AppendEncode(dst, sum[:])
}

// snsIDLen is the length appendSNSID will append for s.
func snsIDLen(s []byte) int {
	if usableSNSID(string(s)) {
		return len(s)
	}
	return hashedIDLen
}
