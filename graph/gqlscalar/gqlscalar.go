// Package gqlscalar holds gqlgen's Time and Map scalars, written as gqlgen
// writes them once its transport has compacted the response (graph's
// transport sends gqlgen's output as it is, see graph/transport.go):
//   - Time: RFC 3339 with nanoseconds, null for the zero time, appended
//     straight into the response instead of through strconv.Quote, which
//     scanned and copied each of a page's 150 timestamps for nothing;
//   - Map: JSON without the newline json.Encoder ends with.
package gqlscalar

import (
	"encoding/json"
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalTime writes t as graphql.MarshalTime does.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [len(`"2006-01-02T15:04:05.999999999-07:00"`)]byte
		b := append(buf[:0], '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
		_, _ = w.Write(b)
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
