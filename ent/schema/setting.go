package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/privacy"
	entschema "entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/leadron/leadron/internal/rule"
)

// Setting is a deployment-wide value, such as the ID alphabet, written once
// on first start. Only the platform viewer may read or create one.
type Setting struct{ ent.Schema }

// Fields of the Setting.
func (Setting) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").Unique().Immutable().NotEmpty(),
		field.String("value").Immutable(),
	}
}

// Annotations of the Setting.
func (Setting) Annotations() []entschema.Annotation {
	return []entschema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Setting. Every policy ends in deny, so rules that all skip can
// never mean allow.
func (Setting) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowPlatformQuery(),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowPlatformCreate(),
			privacy.AlwaysDenyRule(),
		},
	}
}
