package graph

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// A list is marshalled concurrently exactly when its elements' selection
// reaches one of our resolvers, through fields, inline fragments or named
// fragments; edges that entgql loads with the list do not count.
func TestSelectsResolver(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	tests := []struct {
		name  string
		query string
		want  bool
	}{
		{"scalar fields", `{ leads(first: 2) { edges { node { id email } } } }`, false},
		{"an edge loaded with the list", `{ leads(first: 2) { edges { node { assignee { email assignedLeads(first: 2) { edges { node { email } } } } } } } }`, false},
		{"duplicates", `{ leads(first: 2) { edges { node { email duplicates { matchedOn } } } } }`, true},
		{"activities deep down", `{ leads(first: 2) { edges { node { assignee { assignedLeads(first: 2) { edges { node { activities { totalCount } } } } } } } } }`, true},
		{"in an inline fragment", `{ nodes(ids: ["x"]) { id ... on Lead { duplicates { matchedOn } } } }`, true},
		{"in a named fragment", `{ leads(first: 2) { edges { node { ...F } } } } fragment F on Lead { activities { totalCount } }`, true},
		{"a named fragment without one", `{ leads(first: 2) { edges { node { ...F } } } } fragment F on Lead { email }`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tt.query)
			if errs != nil {
				t.Fatalf("query does not validate: %v", errs)
			}
			if got := selectsResolver(doc.Operations[0].SelectionSet); got != tt.want {
				t.Errorf("selectsResolver = %v, want %v", got, tt.want)
			}
		})
	}
}

// Marshalled one after another, every element gets its own index in its
// field context, and a panicking element becomes a null and an error on its
// own path while the others are kept, as with gqlgen's concurrent
// marshalling.
func TestMarshalListSerially(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, func(_ context.Context, r any) error {
		return errors.New(r.(string))
	})
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "leads"}}})
	var seen []int
	got := marshalList(ctx, nil, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		if i == 1 {
			panic("element 1 broke")
		}
		seen = append(seen, *graphql.GetFieldContext(ctx).Index)
		return graphql.MarshalInt(i)
	})
	if len(got) != 3 || got[1] != graphql.Null || got[0] == graphql.Null || got[2] == graphql.Null {
		t.Fatalf("marshalList = %v, want [0 null 2]", got)
	}
	if len(seen) != 2 || seen[0] != 0 || seen[1] != 2 {
		t.Errorf("field context indexes = %v, want [0 2]", seen)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 || errs[0].Message != "element 1 broke" || errs[0].Path.String() != "leads[1]" {
		t.Errorf("errors = %v, want one, %q at leads[1]", errs, "element 1 broke")
	}
}

// graph/generate.go marshals plain leaf fields without gqlgen's field
// middleware, so no extension of the endpoint may intercept fields.
func TestNoExtensionInterceptsFields(t *testing.T) {
	for _, introspection := range []bool{false, true} {
		for _, ext := range extensions(Deps{Introspection: introspection}) {
			if _, ok := ext.(graphql.FieldInterceptor); ok {
				t.Errorf("%s intercepts fields, which plain fields would skip: see graph/generate.go", ext.ExtensionName())
			}
		}
	}
}

// The plain lists of objects that the cost counts once per row of MaxPage
// are exactly these: a new one is costed, and shows up here to be looked at.
func TestCostedPlainLists(t *testing.T) {
	got := slices.Sorted(maps.Keys(newCosted(NewExecutableSchema(Config{})).lists))
	want := []string{"Lead.duplicates", "Lead.mergedLeads"}
	if !slices.Equal(got, want) {
		t.Errorf("plain lists %v, want %v", got, want)
	}
}
