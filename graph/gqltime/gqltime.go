// Package gqltime is the GraphQL Time scalar: gqlgen's own (RFC 3339 with
// nanoseconds, null for the zero time), written straight into the response
// instead of through strconv.Quote, which scanned and copied each of a
// page's 150 timestamps for nothing: RFC 3339 needs no escaping.
package gqltime

import (
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
