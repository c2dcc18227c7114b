package gqlid

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/ids"
)

// maxCursorLen bounds a cursor argument before it is decoded. Ours are well
// under 100 characters (an ID and one ordered value).
const maxCursorLen = 512

// wireCursor is a connection cursor as clients see it: entgql's msgpack
// form, with the row's public ID in place of its primary key, so that a
// cursor tells no more than the edge's node ID does.
type wireCursor struct {
	ID    string    `msgpack:"i"`
	Value ent.Value `msgpack:"v,omitempty"`
}

// MarshalCursor writes a cursor as base64 of its wire form.
func MarshalCursor(c ent.Cursor) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(ctx context.Context, w io.Writer) error {
		codec := ids.FromContext(ctx)
		if codec == nil {
			return errNoCodec
		}
		if c.ID < 0 {
			return fmt.Errorf("gqlid: cursor of negative id %d", c.ID)
		}
		b, err := msgpack.Marshal(wireCursor{ID: codec.Encode(c.ID), Value: c.Value})
		if err != nil {
			return fmt.Errorf("gqlid: encoding a cursor: %w", err)
		}
		buf := make([]byte, 0, base64.RawStdEncoding.EncodedLen(len(b))+2)
		buf = append(buf, '"')
		buf = base64.RawStdEncoding.AppendEncode(buf, b)
		buf = append(buf, '"')
		_, err = w.Write(buf)
		return err
	})
}

// errBadCursor is the answer for any cursor we did not make; the error
// presenter shows it as a validation error on the argument.
var errBadCursor = errors.New("cannot decode cursor")

// UnmarshalCursor reads a cursor that MarshalCursor wrote.
func UnmarshalCursor(ctx context.Context, v any) (ent.Cursor, error) {
	codec := ids.FromContext(ctx)
	if codec == nil {
		return ent.Cursor{}, errNoCodec
	}
	s, ok := v.(string)
	if !ok || len(s) > maxCursorLen {
		return ent.Cursor{}, errBadCursor
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return ent.Cursor{}, errBadCursor
	}
	var wc wireCursor
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&wc); err != nil {
		return ent.Cursor{}, errBadCursor
	}
	id, err := codec.Decode(wc.ID)
	if err != nil {
		return ent.Cursor{}, errBadCursor
	}
	return ent.Cursor{ID: id, Value: wc.Value}, nil
}
