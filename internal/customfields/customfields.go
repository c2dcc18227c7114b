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
	"github.com/go-json-experiment/json/jsontext"
)

// Fields is a JSON object of custom fields. The zero value is the empty
// object. A Fields is immutable: none of its methods changes its text.
type Fields struct {
	raw []byte // compact JSON object text; nil means {}
}

var emptyObject = []byte("{}")

// strict makes jsontext refuse what encoding/json would not write: a name
// twice, invalid UTF-8.
var strict = []jsontext.Options{jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false)}

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
// FromMap wrote: compact, HTML-escaped, valid UTF-8, each name once. Such
// text is checked and kept as it is, which costs a pass over its bytes,
// not a decoding. Text with spaces (a lead written while PostgreSQL's
// column was jsonb, whose output has them) or any of what FromMap never
// writes is decoded and written again by FromMap, so it reads as it did
// when every read decoded it. Compact text edited by hand is kept with its
// own key order and number forms, which are the same JSON values. Text
// that is not a JSON object fails the read instead of breaking a
// response.
func (f *Fields) UnmarshalJSON(data []byte) error {
	data = bytes.Trim(data, " \t\n\r") // JSON's whitespace, which bytes.TrimSpace exceeds (\f, \v, U+0085)
	if bytes.Equal(data, []byte("null")) {
		*f = Fields{}
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return errNotObject
	}
	// jsontext checks the text (syntax, UTF-8, each name once) in about a
	// third of encoding/json's time; any of those failing sends it to the
	// decoding below, which takes what encoding/json takes.
	v := jsontext.Value(bytes.Clone(data))
	if err := v.Compact(strict...); err == nil && len(v) == len(data) && asFromMapWrites(v) {
		*f = Fields{raw: v}
		return nil
	}
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

// asFromMapWrites reports whether valid, compact JSON has none of what
// encoding/json never writes: unescaped <, > and &, unescaped U+2028 and
// U+2029 (E2 80 A8 and E2 80 A9), and escaped surrogates (it writes every
// other character as UTF-8).
func asFromMapWrites(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '<', '>', '&':
			return false
		case 0xE2:
			if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
				return false
			}
		case '\\':
			if i+2 < len(b) && b[i+1] == 'u' && (b[i+2] == 'd' || b[i+2] == 'D') {
				return false
			}
			i++ // the escaped character: in \\ud the second backslash starts no escape
		}
	}
	return true
}
