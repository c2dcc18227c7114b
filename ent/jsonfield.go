package ent

import "encoding/json"

// unmarshalJSONField decodes a JSON column as ent's generated code does
// with encoding/json, except that a type that decodes itself (a lead's
// customfields.Fields) is handed the bytes directly: encoding/json would
// first scan them for validity, which the type's own check does again.
// FuzzUnmarshalJSONFieldMatchesEncodingJSON holds the two to the same
// result.
func unmarshalJSONField(data []byte, v any) error {
	if u, ok := v.(json.Unmarshaler); ok {
		return u.UnmarshalJSON(data)
	}
	return json.Unmarshal(data, v)
}
