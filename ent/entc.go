//go:build ignore

// entc generates the ent data layer and the GraphQL schema from ent/schema.
// Run it from the module root through `make generate`.
package main

import (
	"log"
	"slices"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	// Our pagination override goes after entgql's templates, so that it
	// replaces the helper of the same name.
	paginate := gen.MustParse(gen.NewTemplate("gql_paginate").
		Funcs(entgql.TemplateFuncs).
		ParseFiles("./ent/template/gql_paginate.tmpl"))
	ex, err := entgql.NewExtension(
		entgql.WithTemplates(append(slices.Clone(entgql.AllTemplates), paginate)...),
		entgql.WithSchemaGenerator(),
		entgql.WithWhereInputs(true),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaPath("graph/ent.graphql"),
		entgql.WithRelaySpec(true),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/leadron/leadron/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureIntercept,
			gen.FeatureSnapshot,
			gen.FeatureVersionedMigration,
			gen.FeatureGlobalID,
			gen.FeatureExecQuery,
		},
	}, entc.Extensions(ex), entc.TemplateFiles("./ent/template/idranges.tmpl", "./ent/template/qualified.tmpl", "./ent/template/decode_field.tmpl", "./ent/template/scanvalues.tmpl", "./ent/template/read.tmpl"))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
