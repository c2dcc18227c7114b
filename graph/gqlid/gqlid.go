// Package gqlid is the GraphQL ID scalar: the same sqids strings that REST
// shows, decoded with the deployment's codec from the request context.
package gqlid

import (
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/leadron/leadron/internal/ids"
)

// errNoCodec means the handler was built without ids.NewContext.
var errNoCodec = errors.New("gqlid: no ID codec in context")

// MarshalID writes an ID in its public form.
func MarshalID(id int) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(ctx context.Context, w io.Writer) error {
		c := ids.FromContext(ctx)
		if c == nil {
			return errNoCodec
		}
		_, err := io.WriteString(w, strconv.Quote(c.Encode(id)))
		return err
	})
}

// UnmarshalID reads a public ID. A malformed ID is an error that
// callers answer as "not found".
func UnmarshalID(ctx context.Context, v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, ids.ErrInvalid
	}
	c := ids.FromContext(ctx)
	if c == nil {
		return 0, errNoCodec
	}
	return c.Decode(s)
}
