// Package customfields holds a lead's custom fields as JSON text: the
// object exactly as the API writes it (compact, keys sorted, as
// encoding/json marshals a map). Reads hand this text through to the
// response instead of decoding it into a map on every request and encoding
// it again; only writes, which validate and merge the fields, decode it.
package customfields

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	jsonv2 "github.com/go-json-experiment/json"
)

// Fields is a JSON object of custom fields. The zero value is the empty
// object. A Fields is immutable: none of its methods changes its text.
type Fields struct {
	raw []byte // compact JSON object text; nil means {}
}

var emptyObject = []byte("{}")

// errNotObject is why a value that is not a JSON object cannot be Fields.
var errNotObject = errors.New("custom fields must be a JSON object")

// FromMap encodes m as encoding/json does, which is the API's form of an
// object. A nil or empty map is the empty object.
func FromMap(m map[string]any) (Fields, error) {
	if len(m) == 0 {
		return Fields{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return Fields{}, err
	}
	return Fields{raw: b}, nil
}

// MustFromMap is FromMap for maps that always encode: literals, and maps
// decoded from JSON.
func MustFromMap(m map[string]any) Fields {
	f, err := FromMap(m)
	if err != nil {
		panic("customfields: " + err.Error())
	}
	return f
}

// Map decodes the fields. Numbers are float64, as encoding/json decodes
// them; the map is the caller's to change.
func (f Fields) Map() (map[string]any, error) {
	m := map[string]any{}
	if len(f.raw) == 0 {
		return m, nil
	}
	// json v2 decodes what v1 does here in about two thirds of the time;
	// v1 takes what v2 refuses (a name twice, invalid UTF-8).
	if err := jsonv2.Unmarshal(f.raw, &m); err == nil {
		return m, nil
	}
	m = map[string]any{}
	if err := json.Unmarshal(f.raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// AppendJSON appends the object's text to dst.
func (f Fields) AppendJSON(dst []byte) []byte {
	if len(f.raw) == 0 {
		return append(dst, emptyObject...)
	}
	return append(dst, f.raw...)
}

// WriteTo writes the object's text to w.
func (f Fields) WriteTo(w io.Writer) (int64, error) {
	b := f.raw
	if len(b) == 0 {
		b = emptyObject
	}
	n, err := w.Write(b)
	return int64(n), err
}

// String returns the object's text.
func (f Fields) String() string { return string(f.AppendJSON(nil)) }

// MarshalJSON returns the object's text.
func (f Fields) MarshalJSON() ([]byte, error) { return f.AppendJSON(nil), nil }

// UnmarshalJSON takes a JSON object as it is, compacted; null is the empty
// object. It keeps a copy, so data can be reused.
//
// This is how the fields are read from the database. The text there is the
// JSON this package wrote (PostgreSQL's json type keeps it as written), so
// reading it costs a pass over its bytes, not a decoding. The pass still
// checks it: a value edited by hand into something else is refused here
// rather than breaking a response. Text written before the column was json
// (jsonb's, with spaces, and <, > and & as they are) comes out compact and
// escaped as encoding/json escapes them; its keys keep jsonb's order.
func (f *Fields) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*f = Fields{}
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return errNotObject
	}
	var buf bytes.Buffer
	buf.Grow(len(data))
	if err := json.Compact(&buf, data); err != nil {
		return err
	}
	if needsHTMLEscape(buf.Bytes()) {
		var escaped bytes.Buffer
		json.HTMLEscape(&escaped, buf.Bytes())
		buf = escaped
	}
	*f = Fields{raw: buf.Bytes()}
	return nil
}

// needsHTMLEscape reports whether b holds a character encoding/json
// escapes in strings by default: <, >, &, U+2028 or U+2029 (both begin
// with the byte 0xE2). Outside strings, JSON has none of them.
func needsHTMLEscape(b []byte) bool {
	for _, c := range b {
		if c == '<' || c == '>' || c == '&' || c == 0xE2 {
			return true
		}
	}
	return false
}
