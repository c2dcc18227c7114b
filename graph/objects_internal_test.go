package graph

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// An object writes its fields with the bytes gqlgen's FieldSet writes:
// none, some, a name repeated (written once, first value), and more fields
// than object looks back through.
func TestObjectWritesAsGqlgen(t *testing.T) {
	many := make([]string, lookBackLimit+8)
	for i := range many {
		many[i] = "f" + strconv.Itoa(i%(lookBackLimit+3))
	}
	for _, aliases := range [][]string{
		{},
		{"id"},
		{"id", "email", "score", "__typename"},
		{"id", "email", "id", "email", "other"},
		many,
	} {
		fields := make([]graphql.CollectedField, len(aliases))
		for i, a := range aliases {
			fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: a, Name: a}}
		}
		fs := graphql.NewFieldSet(fields)
		for i := range fields {
			fs.Values[i] = graphql.MarshalString("v" + strconv.Itoa(i))
		}
		var got, want bytes.Buffer
		object{fields: fields, values: fs.Values}.MarshalGQL(&got)
		fs.MarshalGQL(&want)
		if got.String() != want.String() {
			t.Errorf("%v:\n wrote %s\n gqlgen %s", aliases, got.String(), want.String())
		}
	}
}

func BenchmarkObject(b *testing.B) {
	aliases := []string{"id", "createdAt", "updatedAt", "email", "firstName", "lastName", "phone", "source", "status", "score", "assignedTo", "version", "archivedAt"}
	fields := make([]graphql.CollectedField, len(aliases))
	for i, a := range aliases {
		fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: a, Name: a}}
	}
	fs := graphql.NewFieldSet(fields)
	for i := range fields {
		fs.Values[i] = graphql.MarshalString("value")
	}
	var buf bytes.Buffer
	for _, bc := range []struct {
		name string
		m    graphql.Marshaler
	}{{"gqlgen", fs}, {"object", object{fields: fields, values: fs.Values}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				bc.m.MarshalGQL(&buf)
			}
		})
	}
}
