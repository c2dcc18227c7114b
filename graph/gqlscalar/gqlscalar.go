// Package gqlscalar holds the GraphQL API's Time and Map scalars:
//   - Time: written as REST writes times, RFC 3339 in UTC with milliseconds
//     (2026-02-08T14:30:00.000Z; the ent hooks store times to the
//     millisecond), null for the zero time, and appended straight into the
//     response instead of through strconv.Quote, which scanned and copied
//     each of a page's 150 timestamps for nothing. Arguments are read as
//     gqlgen reads them, any RFC 3339 time;
//   - Map: written as gqlgen writes it once its transport has compacted
//     the response (graph's transport sends gqlgen's output as it is, see
//     graph/transport.go), which is JSON without the newline json.Encoder
//     ends with; a lead's custom fields, also a Map, are written as the
//     text they are stored as (package customfields), the same JSON.
package gqlscalar

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/jsonenc"
)

// MarshalTime writes t as REST does (jsonenc.TimeMillis).
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [len(`"2006-01-02T15:04:05.000Z"`) + 8]byte
		_, _ = w.Write(jsonenc.TimeMillis(buf[:0], t))
	})
}

// UnmarshalTime reads a Time argument as graphql.UnmarshalTime does.
func UnmarshalTime(v any) (time.Time, error) { return graphql.UnmarshalTime(v) }

// MarshalMap writes m as graphql.MarshalMap does, without its trailing
// newline. A map that JSON cannot hold (not one read from the database) is
// written as null where gqlgen panics.
func MarshalMap(m map[string]any) graphql.Marshaler {
	if m == nil {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		b, err := json.Marshal(m)
		if err != nil {
			b = []byte("null")
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalMap reads a Map argument as graphql.UnmarshalMap does.
func UnmarshalMap(v any) (map[string]any, error) { return graphql.UnmarshalMap(v) }

// MarshalCustomFields writes a lead's custom fields as MarshalMap writes
// their map: their text is encoding/json's.
func MarshalCustomFields(f customfields.Fields) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = f.WriteTo(w) })
}

// UnmarshalCustomFields reads a Map argument as custom fields. Its numbers
// become float64 first, as they would be decoded from JSON, so that the
// same fields given to GraphQL and to REST are stored as the same text; a
// number beyond float64's range is refused, as REST's JSON decoding
// refuses it.
func UnmarshalCustomFields(v any) (customfields.Fields, error) {
	m, err := graphql.UnmarshalMap(v)
	if err != nil {
		return customfields.Fields{}, err
	}
	m = jsonValues(m)
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			return customfields.Fields{}, fmt.Errorf("custom field %q: %s is beyond the range of a number", k, n)
		}
	}
	return customfields.FromMap(m)
}

// jsonValues gives a Map input the values REST's JSON decoding gives: every
// number a float64. The GraphQL transport decodes variables' numbers as
// json.Number and query literals as int64; stored as they are, they would
// be other text than REST stores for the same fields (1e3 for 1000), and
// compared, they would log changes that are none.
func jsonValues(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = jsonValue(v)
	}
	return out
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case map[string]any:
		return jsonValues(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}
