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

// readCursor is wireCursor as it is read back: the value stays raw until
// its shape is checked. A cursor is untrusted input, and msgpack sets aside
// room for up to a million entries for each map or list it decodes,
// whatever the map claims, so a few hundred bytes of nested maps would cost
// gigabytes. The values we write are a scalar (a time, a number, a string)
// or, for an orderBy of several fields, a short list of scalars.
type readCursor struct {
	ID    string             `msgpack:"i"`
	Value msgpack.RawMessage `msgpack:"v,omitempty"`
}

// isContainer reports whether a msgpack value starting with code is an
// array or a map.
func isContainer(code byte) bool {
	return code >= 0x80 && code <= 0x9f || // fixmap, fixarray
		code >= 0xdc && code <= 0xdf // array16, array32, map16, map32
}

// isFixArray reports whether code starts a list of at most 15 values.
func isFixArray(code byte) bool { return code >= 0x90 && code <= 0x9f }

// cursorValue decodes a cursor's value: a scalar, or a list of at most 15
// scalars. Anything else is errBadCursor.
func cursorValue(raw msgpack.RawMessage) (ent.Value, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !isFixArray(raw[0]) {
		return scalar(raw)
	}
	var elems []msgpack.RawMessage
	if err := msgpack.Unmarshal(raw, &elems); err != nil {
		return nil, errBadCursor
	}
	values := make([]any, len(elems))
	for i, e := range elems {
		v, err := scalar(e)
		if err != nil {
			return nil, err
		}
		values[i] = v
	}
	return values, nil
}

func scalar(raw msgpack.RawMessage) (ent.Value, error) {
	if len(raw) == 0 || isContainer(raw[0]) {
		return nil, errBadCursor
	}
	var v ent.Value
	if err := msgpack.Unmarshal(raw, &v); err != nil {
		return nil, errBadCursor
	}
	return v, nil
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
	var rc readCursor
	if err := msgpack.NewDecoder(bytes.NewReader(b)).Decode(&rc); err != nil {
		return ent.Cursor{}, errBadCursor
	}
	id, err := codec.Decode(rc.ID)
	if err != nil {
		return ent.Cursor{}, errBadCursor
	}
	value, err := cursorValue(rc.Value)
	if err != nil {
		return ent.Cursor{}, err
	}
	return ent.Cursor{ID: id, Value: value}, nil
}
