// The reference reader of 2xx answers: encoding/xml, walked the way the
// SDK's awsQuery deserializer (smithy-go's XML shape deserializer) walks it,
// for the answers the scanner declines. Its rules, the SDK's:
//
//   - the result is the first element named PublishBatchResult (or
//     PublishResult), in any case, anywhere; what follows it is not read;
//   - members are matched by name in any case, unknown elements skipped;
//   - every child of Successful and Failed is an entry, whatever its name;
//   - a string member holds text only (a child element, a comment or a
//     processing instruction inside it is an error); a repeated member
//     keeps its last value and a repeated list its last list;
//   - SenderFault is parsed with strconv.ParseBool.
//
// As in the SDK, an answer without the result element fails with a
// *smithy.DeserializationError, one that fails inside it with the reader's
// own error.

package wire

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/smithy-go"
)

// xmlReader walks tokens as the SDK's shape deserializer does.
type xmlReader struct{ dec *xml.Decoder }

func newXMLReader(b []byte) *xmlReader { return &xmlReader{dec: xml.NewDecoder(bytes.NewReader(b))} }

// find reads up to the first start element called name, in any case.
func (r *xmlReader) find(name string) error {
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return err
		}
		if start, ok := tok.(xml.StartElement); ok && strings.EqualFold(start.Name.Local, name) {
			return nil
		}
	}
}

// nextStart returns the next child element of the element being read, or
// ok == false at its end.
func (r *xmlReader) nextStart() (name string, ok bool, err error) {
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return "", false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t.Name.Local, true, nil
		case xml.EndElement:
			return "", false, nil
		}
	}
}

// members calls member for each child element of the element being read,
// which must consume the child.
func (r *xmlReader) members(member func(name string) error) error {
	for {
		name, ok, err := r.nextStart()
		if err != nil || !ok {
			return err
		}
		if err := member(name); err != nil {
			return err
		}
	}
}

// text reads a string member's content and its end tag.
func (r *xmlReader) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		default:
			return "", fmt.Errorf("unexpected token %T", tok)
		}
	}
}

// skip reads past the rest of the current element.
func (r *xmlReader) skip() error {
	for depth := 1; depth > 0; {
		tok, err := r.dec.Token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// decodeBatch reads a PublishBatch answer into res.
func decodeBatch(body []byte, res *BatchResult) error {
	r := newXMLReader(body)
	if err := r.find("PublishBatchResult"); err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	return r.members(func(list string) error {
		switch {
		case strings.EqualFold(list, "Successful"):
			res.Successful = res.Successful[:0]
			return r.members(func(string) error {
				var e Success
				err := r.members(func(f string) (err error) {
					switch {
					case strings.EqualFold(f, "Id"):
						e.ID, err = r.text()
					case strings.EqualFold(f, "MessageId"):
						e.MessageID, err = r.text()
					case strings.EqualFold(f, "SequenceNumber"):
						e.SequenceNumber, err = r.text()
					default:
						err = r.skip()
					}
					return err
				})
				if err != nil {
					return err
				}
				res.Successful = append(res.Successful, e)
				return nil
			})
		case strings.EqualFold(list, "Failed"):
			res.Failed = res.Failed[:0]
			return r.members(func(string) error {
				var e Failure
				err := r.members(func(f string) (err error) {
					switch {
					case strings.EqualFold(f, "Id"):
						e.ID, err = r.text()
					case strings.EqualFold(f, "Code"):
						e.Code, err = r.text()
					case strings.EqualFold(f, "Message"):
						e.Message, err = r.text()
					case strings.EqualFold(f, "SenderFault"):
						var t string
						if t, err = r.text(); err == nil {
							e.SenderFault, err = strconv.ParseBool(t)
						}
					default:
						err = r.skip()
					}
					return err
				})
				if err != nil {
					return err
				}
				res.Failed = append(res.Failed, e)
				return nil
			})
		}
		return r.skip()
	})
}

// decodePublish reads a Publish answer into res.
func decodePublish(body []byte, res *PublishResult) error {
	r := newXMLReader(body)
	if err := r.find("PublishResult"); err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	return r.members(func(f string) (err error) {
		switch {
		case strings.EqualFold(f, "MessageId"):
			res.MessageID, err = r.text()
		case strings.EqualFold(f, "SequenceNumber"):
			res.SequenceNumber, err = r.text()
		default:
			err = r.skip()
		}
		return err
	})
}

// parseBatch reads a 2xx PublishBatch answer into res (already reset): the
// scanner when it can, decodeBatch when it declines. An empty answer is an
// empty result, as in the SDK.
func parseBatch(body []byte, res *BatchResult) error {
	if len(body) == 0 {
		return nil
	}
	if scanBatch(string(body), res) {
		return nil
	}
	res.Successful, res.Failed = res.Successful[:0], res.Failed[:0]
	return decodeBatch(body, res)
}

// parsePublish is parseBatch for Publish.
func parsePublish(body []byte, res *PublishResult) error {
	if len(body) == 0 {
		return nil
	}
	if scanPublish(string(body), res) {
		return nil
	}
	res.MessageID, res.SequenceNumber = "", ""
	return decodePublish(body, res)
}
