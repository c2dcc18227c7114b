package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalList marshals the elements of a list. The generated code calls it
// where gqlgen would call graphql.MarshalSliceConcurrently (see
// graph/generate.go).
//
// gqlgen starts a goroutine per element, which pays off only when an
// element waits on I/O. Ours are ent rows whose edges entgql loads with the
// list, so unless the selection reaches one of our own resolvers
// (resolverFields), the elements are marshalled one after another, with
// gqlgen's panic handling per element. Otherwise gqlgen's concurrent
// marshalling runs as generated. The trade: an edge that entgql did not
// load (under a list it does not collect, such as the leads inside
// duplicates) is queried once per element in turn rather than at once.
func marshalList(ctx context.Context, sel ast.SelectionSet, length int, workerLimit int64, omitPanicHandler bool, marshalElement func(context.Context, int) graphql.Marshaler) graphql.Array {
	if length > 1 && selectsResolver(sel) {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	for i := range length {
		ctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(ctx, i)
			continue
		}
		ret[i] = marshalRecovering(ctx, i, marshalElement)
	}
	return ret
}

// marshalRecovering marshals one element and turns a panic into the
// element's error and a null, as gqlgen does.
func marshalRecovering(ctx context.Context, i int, marshalElement func(context.Context, int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}

// selectsResolver reports whether sel, at any depth, selects a field that a
// resolver of ours serves.
func selectsResolver(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition != nil && resolverFields[s.ObjectDefinition.Name+"."+s.Name] {
				return true
			}
			if selectsResolver(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if selectsResolver(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && selectsResolver(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}
