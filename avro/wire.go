package avro

import (
	"encoding/binary"

	"github.com/thena-ai/kafka-sns-bridge/internal/failure"
)

// WireHeaderLen is the length of the Confluent wire-format prefix: the magic
// byte 0 and a 4-byte big-endian schema id.
const WireHeaderLen = 5

// ParseWire splits a record value in Confluent wire format into the writer
// schema id and the Avro body. The body aliases b. A value that is shorter
// than the prefix or does not start with the magic byte 0 is a Permanent
// failure with reason bad_magic.
func ParseWire(b []byte) (schemaID int, body []byte, err error) {
	if len(b) < WireHeaderLen {
		return 0, nil, failure.Permanentf(failure.ReasonBadMagic, "record value of %d bytes is shorter than the %d-byte wire-format prefix", len(b), WireHeaderLen)
	}
	if b[0] != 0 {
		return 0, nil, failure.Permanentf(failure.ReasonBadMagic, "magic byte is 0x%02x, want 0x00", b[0])
	}
	return int(binary.BigEndian.Uint32(b[1:WireHeaderLen])), b[WireHeaderLen:], nil
}

// AppendWireHeader appends the wire-format prefix for schemaID to dst.
func AppendWireHeader(dst []byte, schemaID int) []byte {
	return binary.BigEndian.AppendUint32(append(dst, 0), uint32(schemaID))
}
