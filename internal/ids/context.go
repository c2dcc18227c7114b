package ids

import "context"

type ctxKey struct{}

// NewContext returns a context carrying the codec, for code (such as GraphQL
// scalars) that is called without explicit dependencies.
func NewContext(ctx context.Context, c *Codec) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the codec in ctx, or nil.
func FromContext(ctx context.Context) *Codec {
	c, _ := ctx.Value(ctxKey{}).(*Codec)
	return c
}
