package gqlid

import (
	"bytes"
	"context"
	"encoding/base64"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/ids"
)

func codecContext(t *testing.T) (context.Context, *ids.Codec) {
	t.Helper()
	c, err := ids.NewCodec("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", ent.IDRangeStarts())
	if err != nil {
		t.Fatal(err)
	}
	return ids.NewContext(context.Background(), c), c
}

func marshal(t *testing.T, ctx context.Context, c ent.Cursor) string {
	t.Helper()
	var buf bytes.Buffer
	if err := MarshalCursor(c).MarshalGQLContext(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	return s[1 : len(s)-1]
}

// The cursors we write read back as they were: an ID with no value, a
// scalar, a time, and the list of values of an orderBy on several fields.
func TestCursorRoundTrip(t *testing.T) {
	ctx, _ := codecContext(t)
	at := time.Date(2026, 12, 3, 10, 0, 0, 123000000, time.UTC)
	for _, c := range []ent.Cursor{
		{ID: 8589934593},
		{ID: 8589934593, Value: int8(20)},
		{ID: 8589934593, Value: "jane@acme.test"},
		{ID: 8589934593, Value: []any{int8(20), "jane@acme.test"}},
	} {
		got, err := UnmarshalCursor(ctx, marshal(t, ctx, c))
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("%+v read back as %+v, %v", c, got, err)
		}
	}
	got, err := UnmarshalCursor(ctx, marshal(t, ctx, ent.Cursor{ID: 8589934593, Value: at}))
	if tm, ok := got.Value.(time.Time); err != nil || !ok || !tm.Equal(at) {
		t.Errorf("a time read back as %+v, %v", got, err)
	}
}

// A cursor is untrusted input: one whose value is a map or a long list is
// refused before anything is allocated for what it claims. Before, a
// 500-character cursor of nested maps, each claiming 2^32 entries, made
// msgpack allocate gigabytes.
func TestCursorBombs(t *testing.T) {
	ctx, codec := codecContext(t)
	cursor := func(value []byte) string {
		b := []byte{0x82, 0xa1, 'i'}
		id, _ := msgpack.Marshal(codec.Encode(8589934593))
		b = append(append(b, id...), 0xa1, 'v')
		return base64.RawStdEncoding.EncodeToString(append(b, value...))
	}
	var nested []byte
	for range 50 {
		nested = append(nested, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a')
	}
	for name, value := range map[string][]byte{
		"nested maps claiming 2^32 entries": nested,
		"a map":                             {0x81, 0xa1, 'a', 0x01},
		"a list claiming 2^32 values":       {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},
		"a short list holding a map":        {0x91, 0xdf, 0xff, 0xff, 0xff, 0xff},
		"a short list holding a list":       {0x91, 0x91, 0x01},
	} {
		s := cursor(value)
		if len(s) > maxCursorLen {
			t.Fatalf("%s: %d characters, over the cap", name, len(s))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := UnmarshalCursor(ctx, s)
		runtime.ReadMemStats(&after)
		if err != errBadCursor {
			t.Errorf("%s: %v, want errBadCursor", name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: decoding allocated %d bytes", name, grew)
		}
	}
}
