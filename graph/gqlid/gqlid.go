// Package gqlid is the GraphQL ID scalar: the same sqids strings that REST
// shows, decoded with the deployment's codec from the request context.
package gqlid

import (
	"context"
	"errors"
	"io"
	"math"
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

// Malformed is the ID a malformed one reads as. No row has it, and it lies
// in no type's ID range (a small negative one would fall in the first
// type's, whose privacy rules would then answer), so every use answers as
// for an ID of another tenant: node(id:) and a lookup are not found, one
// of nodes(ids:) is null, an assignee is a 422 on its field. An error
// instead would fail the whole argument, and tell a malformed ID from
// another tenant's.
const Malformed = math.MinInt

// UnmarshalID reads a public ID; a malformed one reads as Malformed.
func UnmarshalID(ctx context.Context, v any) (int, error) {
	c := ids.FromContext(ctx)
	if c == nil {
		return 0, errNoCodec
	}
	s, ok := v.(string)
	if !ok {
		return Malformed, nil
	}
	id, err := c.Decode(s)
	if errors.Is(err, ids.ErrInvalid) {
		return Malformed, nil
	}
	return id, err
}
