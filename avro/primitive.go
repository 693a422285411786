package avro

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"

	havro "github.com/hamba/avro/v2"
)

func (c *compiler) primitive(s *havro.PrimitiveSchema, slot int) (decodeFn, error) {
	var logical havro.LogicalType
	if l := s.Logical(); l != nil {
		logical = l.Type()
	}
	switch s.Type() {
	case havro.Boolean:
		return decodeBoolean, nil
	case havro.Int:
		switch logical {
		case havro.Date:
			return renderedInt((*machine).readInt, appendDate), nil
		case havro.TimeMillis:
			return renderedInt((*machine).readInt, appendTimeOfDay), nil
		}
		return renderedInt((*machine).readInt, appendInt), nil
	case havro.Long:
		return compileLong(logical, slot == slotTimestamp), nil
	case havro.Float:
		return decodeFloat, nil
	case havro.Double:
		return decodeDouble, nil
	case havro.String:
		if slot >= 0 && slot < numSlots {
			return func(m *machine, out []byte) ([]byte, error) {
				b, err := m.readBytes()
				if err != nil {
					return out, err
				}
				start := len(m.hdr)
				m.hdr = append(m.hdr, b...)
				m.spans[slot] = span{start: start, end: len(m.hdr), set: true}
				return m.appendText(out, b), nil
			}, nil
		}
		return decodeString, nil
	case havro.Bytes:
		if dec, ok := s.Logical().(*havro.DecimalLogicalSchema); ok {
			return rendered((*machine).readBytes, decimalJSON(dec.Scale())), nil
		}
		return rendered((*machine).readBytes, appendBase64), nil
	case havro.Null:
		return decodeNull, nil
	}
	return nil, fmt.Errorf("unsupported primitive type %s", s.Type())
}

// compileLong compiles a long of the logical type. capture is set for the
// top-level "timestamp" field, whose value goes into the header too; a plain
// long there is Unix milliseconds (custom object events carry a number).
func compileLong(logical havro.LogicalType, capture bool) decodeFn {
	unit, zone := int64(0), "Z"
	switch logical {
	case havro.TimestampMillis:
		unit = 1
	case havro.TimestampMicros:
		unit = 1000
	case havro.LocalTimestampMillis:
		unit, zone = 1, ""
	case havro.LocalTimestampMicros:
		unit, zone = 1000, ""
	case havro.TimeMicros:
		return renderedInt((*machine).readLong, func(out []byte, us int64) []byte { return appendTimeOfDay(out, us/1000) })
	}
	render, tsUnit := appendInt, int64(1)
	if unit != 0 {
		render = func(out []byte, v int64) []byte {
			ms, _ := floorDiv(v, unit)
			return appendTimestamp(out, ms, zone)
		}
		tsUnit = unit
	}
	if !capture {
		return renderedInt((*machine).readLong, render)
	}
	return func(m *machine, out []byte) ([]byte, error) {
		v, err := m.readLong()
		if err != nil {
			return out, err
		}
		m.ts, m.tsUnit, m.hasTS = v, tsUnit, true
		return render(out, v), nil
	}
}

// rendered decodes a value whose bytes read takes from the input and render
// appends as JSON.
func rendered(read func(*machine) ([]byte, error), render func(out, b []byte) []byte) decodeFn {
	return func(m *machine, out []byte) ([]byte, error) {
		b, err := read(m)
		if err != nil {
			return out, err
		}
		return render(out, b), nil
	}
}

// renderedInt is rendered for int and long values.
func renderedInt(read func(*machine) (int64, error), render func(out []byte, v int64) []byte) decodeFn {
	return func(m *machine, out []byte) ([]byte, error) {
		v, err := read(m)
		if err != nil {
			return out, err
		}
		return render(out, v), nil
	}
}

// fixedBytes reads the n bytes of a fixed, float or double.
func fixedBytes(n int) func(*machine) ([]byte, error) {
	return func(m *machine) ([]byte, error) { return m.readFixed(n) }
}

func decodeNull(_ *machine, out []byte) ([]byte, error) { return append(out, "null"...), nil }

func decodeBoolean(m *machine, out []byte) ([]byte, error) {
	if m.pos >= len(m.in) {
		return out, ErrTruncated
	}
	switch m.in[m.pos] {
	case 0:
		out = append(out, "false"...)
	case 1:
		out = append(out, "true"...)
	default:
		return out, fmt.Errorf("%w: boolean byte 0x%02x", ErrMalformed, m.in[m.pos])
	}
	m.pos++
	return out, nil
}

// decimalJSON renders a decimal's two's-complement bytes at scale.
func decimalJSON(scale int) func(out, b []byte) []byte {
	return func(out, b []byte) []byte { return appendDecimal(out, b, scale) }
}

func appendBase64(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func decodeString(m *machine, out []byte) ([]byte, error) {
	b, err := m.readBytes()
	if err != nil {
		return out, err
	}
	return m.appendText(out, b), nil
}

func decodeFloat(m *machine, out []byte) ([]byte, error) {
	b, err := m.readFixed(4)
	if err != nil {
		return out, err
	}
	return m.appendNumber(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 32), nil
}

func decodeDouble(m *machine, out []byte) ([]byte, error) {
	b, err := m.readFixed(8)
	if err != nil {
		return out, err
	}
	return m.appendNumber(out, math.Float64frombits(binary.LittleEndian.Uint64(b)), 64), nil
}

// appendTimeOfDay appends ms since midnight (any day) as a quoted
// "15:04:05.000".
func appendTimeOfDay(dst []byte, ms int64) []byte {
	_, ms = floorDiv(ms, msPerDay)
	return append(appendClock(append(dst, '"'), ms), '"')
}

func appendInt(dst []byte, v int64) []byte {
	if v >= 0 && v < 10 {
		return append(dst, byte('0'+v))
	}
	return appendIntSlow(dst, v)
}
