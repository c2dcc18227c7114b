package customfields_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leadron/leadron/internal/customfields"
)

func TestFromMapWritesWhatEncodingJSONWrites(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"nil", nil, `{}`},
		{"empty", map[string]any{}, `{}`},
		{"sorted keys", map[string]any{"zz": 1, "aa": "x", "Ab": true, "é": nil}, `{"Ab":true,"aa":"x","zz":1,"é":null}`},
		{"html escaped", map[string]any{"html": "<b>&</b>", "sep": "\u2028"}, `{"html":"\u003cb\u003e\u0026\u003c/b\u003e","sep":"\u2028"}`},
		{"floats", map[string]any{"big": 1e21, "small": 1e-7, "int": 25.0}, `{"big":1e+21,"int":25,"small":1e-7}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := customfields.FromMap(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tt.want {
				t.Errorf("FromMap: %s, want %s", got, tt.want)
			}
			if got, _ := json.Marshal(f); string(got) != tt.want {
				t.Errorf("json.Marshal: %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFromMapRefusesWhatJSONCannotHold(t *testing.T) {
	if _, err := customfields.FromMap(map[string]any{"f": func() {}}); err == nil {
		t.Error("a func encoded")
	}
}

func TestUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "canonical", in: `{"a":1,"b":"x"}`, want: `{"a":1,"b":"x"}`},
		{name: "null is empty", in: `null`, want: `{}`},
		{name: "empty", in: `{}`, want: `{}`},
		{name: "compact, keys as written", in: `{"b":1,"a":"x"}`, want: `{"b":1,"a":"x"}`},
		{name: "jsonb's text", in: `{"zz": 1.0, "a": "<x>", "bb": [1, 2], "big": 1000000000000000000000}`, want: `{"a":"\u003cx\u003e","bb":[1,2],"big":1e+21,"zz":1}`},
		{name: "surrounding space", in: " \n{\"a\":true} ", want: `{"a":true}`},
		{name: "unescaped HTML", in: `{"a":"<&>"}`, want: `{"a":"\u003c\u0026\u003e"}`},
		{name: "line separator", in: "{\"s\":\"a\u2028b\"}", want: `{"s":"a\u2028b"}`},
		{name: "invalid UTF-8", in: "{\"s\":\"\xff\"}", want: "{\"s\":\"\ufffd\"}"},
		{name: "escaped lone surrogate", in: `{"s":"\udc00"}`, want: "{\"s\":\"\ufffd\"}"},
		{name: "a name twice", in: `{"a":1, "a":2}`, want: `{"a":2}`},
		{name: "a name twice, compact", in: `{"a":1,"a":2}`, want: `{"a":2}`},
		{name: "an escaped backslash before ud", in: `{"s":"\\ud"}`, want: `{"s":"\\ud"}`},
		{name: "HTML escaped as encoding/json escapes it", in: `{"a":"\u003cb\u003e"}`, want: `{"a":"\u003cb\u003e"}`},
		{name: "array", in: `[1]`, wantErr: true},
		{name: "string", in: `"{}"`, wantErr: true},
		{name: "nothing", in: ``, wantErr: true},
		{name: "truncated", in: `{"a":`, wantErr: true},
		{name: "trailing data", in: `{} {}`, wantErr: true},
		{name: "a form feed, not JSON's whitespace", in: "{}\f", wantErr: true},
		{name: "a no-break space", in: "\u00a0{}", wantErr: true},
		{name: "not JSON", in: `{a:1}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f customfields.Fields
			err := f.UnmarshalJSON([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Errorf("took %q as %s", tt.in, f)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tt.want {
				t.Errorf("%s, want %s", got, tt.want)
			}
		})
	}
}

// TestUnmarshalJSONKeepsACopy: the database driver reuses the buffer it
// hands over.
func TestUnmarshalJSONKeepsACopy(t *testing.T) {
	data := []byte(`{"a":"x"}`)
	var f customfields.Fields
	if err := f.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	copy(data, `{"b":"y"}`)
	if got := f.String(); got != `{"a":"x"}` {
		t.Errorf("changed with the buffer: %s", got)
	}
}

func TestMapIsTheCallersToChange(t *testing.T) {
	f := customfields.MustFromMap(map[string]any{"a": "x", "n": 2})
	m, err := f.Map()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"a": "x", "n": 2.0}; !maps.Equal(m, want) {
		t.Fatalf("Map: %v, want %v", m, want)
	}
	m["a"] = "changed"
	if got := f.String(); got != `{"a":"x","n":2}` {
		t.Errorf("changing the map changed the fields: %s", got)
	}
	var zero customfields.Fields
	if m, err := zero.Map(); err != nil || m == nil || len(m) != 0 {
		t.Errorf("the zero value: %v %v, want an empty map", m, err)
	}
}

// FuzzReadMatchesEncodingJSON: whatever object text is read, Map gives
// what encoding/json decodes from it, the text kept is as FromMap writes
// text (valid UTF-8, HTML-escaped) and reads back as itself, and the text
// FromMap stores reads back as itself.
func FuzzReadMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"company": "Acme", "seats": 25, "vip": true, "note": null}`,
		`{"html":"<b>&</b>","u":"\u2028\u2029","emoji":"🙂","bad":"\udc00"}`,
		`{"small":1e-7,"big":1e21,"int":12345678901234567890,"frac":0.10}`,
		`{"a":1,"a":2}`,
		`{"nested":{"a":[1,"x",null]}}`,
		"{\"invalid\":\"\xff\"}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want map[string]any
		if json.Unmarshal([]byte(in), &want) != nil || want == nil {
			return
		}
		var fields customfields.Fields
		if err := fields.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		got, err := fields.Map()
		if err != nil {
			t.Fatalf("%q read as %s: %v", in, fields, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: Map %v, encoding/json %v", in, got, want)
		}
		kept := fields.String()
		if !utf8.ValidString(kept) || strings.ContainsAny(kept, "<>&\u2028\u2029") {
			t.Fatalf("%q: kept %q", in, kept)
		}
		var reread customfields.Fields
		if err := reread.UnmarshalJSON([]byte(kept)); err != nil || reread.String() != kept {
			t.Fatalf("%q: kept %s, which reads as %s (%v)", in, kept, reread, err)
		}
		stored := customfields.MustFromMap(want)
		var again customfields.Fields
		if err := again.UnmarshalJSON([]byte(stored.String())); err != nil || again.String() != stored.String() {
			t.Fatalf("%q: stored as %s, read back as %s (%v)", in, stored, again, err)
		}
	})
}

func TestWriteTo(t *testing.T) {
	for _, f := range []customfields.Fields{{}, customfields.MustFromMap(map[string]any{"a": "<x>"})} {
		var b strings.Builder
		n, err := f.WriteTo(&b)
		if err != nil || b.String() != f.String() || n != int64(len(f.String())) {
			t.Errorf("WriteTo wrote %q (%d, %v), want %q", b.String(), n, err, f.String())
		}
	}
}
