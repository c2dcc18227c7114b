package jsonenc_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/leadron/leadron/internal/jsonenc"
)

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return b
}

// FuzzMatchesEncodingJSON holds String to encoding/json, byte for byte.
func FuzzMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		``, `plain`, `<b>&amp;</b>`, "a\nb\tc\r\b\f\x00\x1f\x7f", "\u2028\u2029", "🙂é", "\xff\xfe", "\xed\xa0\x80",
		`{"company":"Acme Inc","seats":25,"vip":true,"note":null}`,
		`{"small":1e-7,"big":1e21,"neg":-0.5,"int":12345678901234567890,"zero":0,"negzero":-0,"frac":0.1,"e":1e-10}`,
		`{"zz":1,"aa":2,"Ab":3,"é":4,"":5,"<":6}`,
		`{"nested":{"a":[1,"x",null,[],{}]}}`, `[1,2,[3]]`, `"str"`, `null`, `true`, `1.5e300`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := jsonenc.String(nil, in), marshal(t, in); !bytes.Equal(got, want) {
			t.Fatalf("String(%q) = %s, encoding/json writes %s", in, got, want)
		}
	})
}

func TestAppends(t *testing.T) {
	when := time.Date(2026, 2, 8, 14, 30, 0, 123456789, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"string pointer", jsonenc.StringPtr([]byte("x="), ptr("a")), `x="a"`},
		{"nil string pointer", jsonenc.StringPtr(nil, nil), `null`},
		{"int", jsonenc.Int(nil, -42), `-42`},
		{"bool", jsonenc.Bool(nil, true), `true`},
		{"time in UTC", jsonenc.Time(nil, when, "2006-01-02T15:04:05.000Z"), `"2026-02-08T13:30:00.123Z"`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// FuzzTimeMillis holds TimeMillis to AppendFormat for any instant and zone.
func FuzzTimeMillis(f *testing.F) {
	for _, seed := range []int64{0, -1, 1767225599999999999, -62135596800000000, 253402300799999999, 1 << 62, -(1 << 62)} {
		f.Add(seed, 0)
		f.Add(seed, 3600*5+1800)
	}
	f.Fuzz(func(t *testing.T, unixNano int64, offset int) {
		when := time.Unix(unixNano/1e9, unixNano%1e9).In(time.FixedZone("z", offset%(18*3600)))
		// Whole seconds too, where AppendFormat's range is widest.
		for _, at := range []time.Time{when, time.Unix(unixNano, 0)} {
			got, want := jsonenc.TimeMillis(nil, at), jsonenc.Time(nil, at, jsonenc.MillisLayout)
			if !bytes.Equal(got, want) {
				t.Fatalf("TimeMillis(%v) = %s, AppendFormat writes %s", at, got, want)
			}
		}
	})
}

// TestNoAllocations checks the claim of the package comment.
func TestNoAllocations(t *testing.T) {
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() {
		out := jsonenc.Time(buf[:0], time.Now(), time.RFC3339Nano)
		out = jsonenc.TimeMillis(out, time.Now())
		_ = jsonenc.String(out, "héllo\n\u2028")
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

func ptr(s string) *string { return &s }
