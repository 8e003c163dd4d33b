package epcis

import (
	"bytes"
	"context"
	"fmt"
)

// Format names a serialisation of EPCIS.
type Format uint8

// Formats.
const (
	FormatUnknown Format = iota
	FormatJSONLD         // EPCIS 2.0 JSON-LD
	FormatXML12          // EPCIS 1.2 XML
)

func (f Format) String() string {
	switch f {
	case FormatJSONLD:
		return "jsonld"
	case FormatXML12:
		return "xml12"
	}
	return "unknown"
}

// ParseFormat maps "jsonld"/"json" and "xml12"/"xml" to a Format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "jsonld", "json", "json-ld":
		return FormatJSONLD, nil
	case "xml12", "xml":
		return FormatXML12, nil
	}
	return FormatUnknown, fmt.Errorf("%w: %q (want jsonld or xml12)", ErrUnknownFormat, s)
}

// Detect tells JSON-LD from XML by the first significant byte.
func Detect(data []byte) Format {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return FormatUnknown
	}
	switch data[0] {
	case '{':
		return FormatJSONLD
	case '<':
		return FormatXML12
	}
	return FormatUnknown
}

// Decode detects the format and decodes the document within
// DefaultLimits. See DecodeJSON and DecodeXML for the errors, and
// Limits.Decode for other bounds and a deadline.
func Decode(data []byte) (*Document, Format, error) {
	return DefaultLimits().Decode(context.Background(), data)
}

// Encode writes the document in the given format.
func Encode(doc *Document, f Format) ([]byte, error) {
	switch f {
	case FormatJSONLD:
		return EncodeJSON(doc)
	case FormatXML12:
		return EncodeXML(doc)
	}
	return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, f)
}
