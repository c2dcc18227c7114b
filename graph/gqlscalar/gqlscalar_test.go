package gqlscalar

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/jsonenc"
)

// Every time is written as REST writes it: UTC, milliseconds (truncated, as
// the hooks store them), null for the zero time; and a year outside
// 0000–9999, which RFC 3339 cannot hold, as Go writes it rather than wrongly.
func TestMarshalTimeAsREST(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, `null`},
		{time.Date(2026, 12, 1, 20, 30, 0, 0, time.UTC), `"2026-12-01T20:30:00.000Z"`},
		{time.Date(2026, 12, 1, 20, 30, 0, 123456789, time.UTC), `"2026-12-01T20:30:00.123Z"`},
		{time.Date(2026, 12, 1, 20, 30, 0, 120000000, paris), `"2026-12-01T19:30:00.120Z"`},
		{time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), `"0001-01-01T00:00:00.000Z"`},
		{time.Date(12026, 1, 1, 0, 0, 0, 0, time.FixedZone("odd", -(9*3600+30*60))), `"12026-01-01T09:30:00.000Z"`},
	}
	for _, tt := range tests {
		var got bytes.Buffer
		MarshalTime(tt.in).MarshalGQL(&got)
		if got.String() != tt.want {
			t.Errorf("%v: wrote %s, want %s", tt.in, got.String(), tt.want)
		}
		if !tt.in.IsZero() {
			if rest := string(jsonenc.TimeMillis(nil, tt.in)); rest != got.String() {
				t.Errorf("%v: GraphQL wrote %s, REST %s", tt.in, got.String(), rest)
			}
		}
	}
}

func TestUnmarshalTime(t *testing.T) {
	got, err := UnmarshalTime("2026-12-01T20:30:00.5+01:00")
	if err != nil || !got.Equal(time.Date(2026, 12, 1, 19, 30, 0, 500000000, time.UTC)) {
		t.Errorf("UnmarshalTime = %v, %v", got, err)
	}
	if _, err := UnmarshalTime("yesterday"); err == nil {
		t.Error("UnmarshalTime accepted \"yesterday\"")
	}
}

// BenchmarkMarshalTime compares ours with gqlgen's.
func BenchmarkMarshalTime(b *testing.B) {
	tm := time.Date(2026, 12, 1, 20, 30, 0, 123456789, time.UTC)
	for name, marshal := range map[string]func(time.Time) graphql.Marshaler{"gqlscalar": MarshalTime, "gqlgen": graphql.MarshalTime} {
		b.Run(name, func(b *testing.B) {
			var w bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				marshal(tm).MarshalGQL(&w)
			}
		})
	}
}

// A map is written as gqlgen writes it, less the newline its encoder adds
// (and which the response's compaction used to remove).
func TestMarshalMapMatchesGqlgen(t *testing.T) {
	tests := []map[string]any{
		{},
		{"company": "Acme <Corp> & Sons", "seats": 25.0, "tags": []any{"a", "b"}, "nested": map[string]any{"z": nil, "a": true}},
		{"line": "one\u2028two", "é": "ü"},
	}
	for _, m := range tests {
		var got, want bytes.Buffer
		MarshalMap(m).MarshalGQL(&got)
		graphql.MarshalMap(m).MarshalGQL(&want)
		if got.String()+"\n" != want.String() {
			t.Errorf("%v: wrote %s, want %s", m, got.String(), want.String())
		}
	}
	var null bytes.Buffer
	MarshalMap(nil).MarshalGQL(&null)
	MarshalMap(map[string]any{"ch": make(chan int)}).MarshalGQL(&null)
	if null.String() != "nullnull" {
		t.Errorf("nil and unmarshalable maps wrote %q, want null twice", null.String())
	}
	if m, err := UnmarshalMap(map[string]any{"a": 1}); err != nil || m["a"] != 1 {
		t.Errorf("UnmarshalMap = %v, %v", m, err)
	}
	if _, err := UnmarshalMap("x"); err == nil {
		t.Error("UnmarshalMap accepted a string")
	}
}

// Custom fields are written with the bytes gqlgen writes for their map.
func TestMarshalCustomFieldsMatchesGqlgen(t *testing.T) {
	for _, m := range []map[string]any{
		{},
		{"company": "Acme <Corp> & Sons", "seats": 25.0, "vip": true, "note": nil},
		{"line": "one\u2028two", "é": "ü", "big": 1e21},
	} {
		var got, want bytes.Buffer
		MarshalCustomFields(customfields.MustFromMap(m)).MarshalGQL(&got)
		graphql.MarshalMap(m).MarshalGQL(&want)
		if got.String()+"\n" != want.String() {
			t.Errorf("%v: wrote %s, want %s", m, got.String(), want.String())
		}
	}
}

// A Map argument's numbers are stored as REST stores them, whichever way
// the transport decoded them.
func TestUnmarshalCustomFields(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"variables", map[string]any{"seats": json.Number("25"), "big": json.Number("1e3"), "s": "x"}, `{"big":1000,"s":"x","seats":25}`},
		{"literals", map[string]any{"seats": int64(25), "n": int(2), "f": 1.5, "off": nil}, `{"f":1.5,"n":2,"off":null,"seats":25}`},
		{"empty", map[string]any{}, `{}`},
	}
	for _, tt := range tests {
		f, err := UnmarshalCustomFields(tt.in)
		if err != nil || f.String() != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.name, f, err, tt.want)
		}
	}
	for _, bad := range []any{"x", map[string]any{"n": json.Number("1e400")}} {
		if f, err := UnmarshalCustomFields(bad); err == nil {
			t.Errorf("UnmarshalCustomFields took %v as %s", bad, f)
		}
	}
}
