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
	"unicode/utf8"

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

// UnmarshalJSON takes a JSON object; null is the empty object. It keeps a
// copy, so data can be reused.
//
// This is how the fields are read from the database, whose text is what
// FromMap wrote: compact, HTML-escaped, valid UTF-8. Such text is checked
// and kept as it is, which costs a pass over its bytes, not a decoding.
// Any other object (a lead written while PostgreSQL's column was jsonb,
// whose text has spaces and jsonb's key order, or one edited by hand) is
// decoded and written again by FromMap, so it reads as it did when every
// read decoded it. Text that is not a JSON object fails the read instead
// of breaking a response.
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
	if buf.Len() != len(data) || !asFromMapWrites(buf.Bytes()) {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		canonical, err := FromMap(m)
		if err != nil {
			return err
		}
		*f = canonical
		return nil
	}
	*f = Fields{raw: buf.Bytes()}
	return nil
}

// asFromMapWrites reports whether compact JSON has none of what
// encoding/json never writes: invalid UTF-8, unescaped <, > and &,
// unescaped U+2028 and U+2029, and escaped surrogates (it writes every
// other character as UTF-8).
func asFromMapWrites(b []byte) bool {
	return utf8.Valid(b) && !bytes.ContainsAny(b, "<>&\u2028\u2029") &&
		!bytes.Contains(b, []byte(`\ud`)) && !bytes.Contains(b, []byte(`\uD`))
}
