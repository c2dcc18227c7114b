package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/privacy"
	entschema "entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/leadron/leadron/internal/audit"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/scope"
)

// DuplicateCandidate records that duplicate detection found two leads that
// match on a normalized field. A pair is stored once per field, whichever
// lead's check found it: lead_id is the older lead (the lower ID) and
// duplicate_id the newer.
type DuplicateCandidate struct{ ent.Schema }

// Mixin of the DuplicateCandidate.
func (DuplicateCandidate) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantEnvironmentMixin{}}
}

// Fields of the DuplicateCandidate.
func (DuplicateCandidate) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(now),
		field.Int("lead_id").Immutable(),
		field.Int("duplicate_id").Immutable(),
		field.Enum("matched_field").Values("email", "phone").Immutable(),
	}
}

// Edges of the DuplicateCandidate.
func (DuplicateCandidate) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("lead", Lead.Type).Field("lead_id").Unique().Required().Immutable(),
		edge.To("duplicate", Lead.Type).Field("duplicate_id").Unique().Required().Immutable(),
	}
}

// Indexes of the DuplicateCandidate.
func (DuplicateCandidate) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("lead_id", "duplicate_id", "matched_field").Unique(),
		index.Fields("duplicate_id"),
	}
}

// Annotations of the DuplicateCandidate.
func (DuplicateCandidate) Annotations() []entschema.Annotation {
	return []entschema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Hooks of the DuplicateCandidate: every detection is audited
// ("duplicate_candidate.created", by the job's system viewer).
func (DuplicateCandidate) Hooks() []ent.Hook {
	return []ent.Hook{audit.Hook("duplicate_candidate")}
}

// Policy of the DuplicateCandidate: readable with leads:read, written by
// the detection job (system viewer) and merges (leads:write).
func (DuplicateCandidate) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowTenantQueryWithScope(scope.Leads),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowTenantMutationWithScope(scope.Leads),
			privacy.AlwaysDenyRule(),
		},
	}
}
