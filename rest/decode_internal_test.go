package rest

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzDecodeValueMatchesEncodingJSON holds the body decoder's direct paths
// to encoding/json: for every value readObject accepts (valid JSON and
// UTF-8, no name twice), a member decodes to what json.Unmarshal gives, and
// fits exactly when json.Unmarshal succeeds.
func FuzzDecodeValueMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`"jane"`, `"J\u00e9r\u00f4me \"Q\" \\ \/ \n"`, `"\ud83d\ude42"`, `""`, `42`, `-0`, `1e2`, `10.5`, `99999999999999999999`,
		`-9223372036854775808`, `true`, `null`, `{"a":{"b":[1,"x",null,true]},"c":1.5e-7}`, `{}`, `[]`, `[1]`, `"\udc00"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v := jsontext.Value(raw)
		if !v.IsValid() || v.Compact() != nil || string(v) == "null" {
			return // readObject refuses it, or member handles it before decoding
		}
		// v is compact, as a member's value is sliced: no surrounding space
		checkDecode[string](t, v)
		checkDecode[int](t, v)
		checkDecode[map[string]any](t, v)
	})
}

func checkDecode[T any](t *testing.T, raw []byte) {
	t.Helper()
	got, fits := decodeValue[T](raw)
	var want T
	err := json.Unmarshal(raw, &want)
	if fits != (err == nil) {
		t.Fatalf("%T from %s: fits %v, encoding/json: %v", want, raw, fits, err)
	}
	if fits && !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %s: %#v, encoding/json gives %#v", want, raw, got, want)
	}
}
