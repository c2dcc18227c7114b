package ent

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/diff"
)

// FuzzUnmarshalJSONFieldMatchesEncodingJSON holds the JSON-column decoder
// to encoding/json's result for every input, on the custom fields (decoded
// by themselves) and an audit event's changes (by encoding/json).
func FuzzUnmarshalJSONFieldMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{"company": "Acme Corp", "employees": 250, "newsletter": true, "note": null}`,
		`{"a":{"b":[1,"x",null,1.5e-7]},"big":1e300}`, `{}`, `null`, `[]`, `{"a":1,"a":2}`, "{\"k\":\"\xff\"}",
		`{"s":"\udc00"}`, `{"n":1e400}`, `{"a":`, `{"ü":"ü","":0}`, ` {"a":1} `, `{} {}`,
		`{"email":{"old":null,"new":"jane@acme.test"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want, got customfields.Fields
		wantErr := json.Unmarshal([]byte(in), &want)
		gotErr := unmarshalJSONField([]byte(in), &got)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("custom fields %q: error %v, encoding/json's %v", in, gotErr, wantErr)
		}
		if wantErr == nil && got.String() != want.String() {
			t.Fatalf("custom fields %q: %s, encoding/json gives %s", in, got, want)
		}
		var wantChanges, gotChanges map[string]diff.Change
		wantErr = json.Unmarshal([]byte(in), &wantChanges)
		gotErr = unmarshalJSONField([]byte(in), &gotChanges)
		if (gotErr == nil) != (wantErr == nil) || wantErr == nil && !reflect.DeepEqual(gotChanges, wantChanges) {
			t.Fatalf("changes %q: %#v (%v), encoding/json gives %#v (%v)", in, gotChanges, gotErr, wantChanges, wantErr)
		}
	})
}

func TestUnmarshalJSONFieldOtherTypes(t *testing.T) {
	var scopes []string
	if err := unmarshalJSONField([]byte(`["leads:read","leads:write"]`), &scopes); err != nil || len(scopes) != 2 {
		t.Errorf("scopes: %v %v", scopes, err)
	}
	existing := map[string]any{"kept": true} // a non-nil map merges, as with encoding/json
	if err := unmarshalJSONField([]byte(`{"added":1}`), &existing); err != nil || len(existing) != 2 {
		t.Errorf("merge: %v %v", existing, err)
	}
}
