package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/privacy"
	entschema "entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/leadron/leadron/internal/diff"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/scope"
)

// AuditEvent records one write: who did it, through what, and what changed.
// The log is append-only; the privacy policy refuses every update and delete.
type AuditEvent struct{ ent.Schema }

// Mixin of the AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantEnvironmentMixin{}}
}

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(now).
			Annotations(entgql.OrderField("CREATED_AT")),
		field.String("action").Immutable().NotEmpty(),
		field.String("resource_type").Immutable().NotEmpty(),
		// The IDs are shown as the API's opaque IDs, never as raw integers.
		field.Int("resource_id").Immutable().
			Annotations(entgql.Type("ID")),
		field.Int("actor_id").Optional().Nillable().Immutable().
			Annotations(entgql.Type("ID")),
		field.Int("on_behalf_of_id").Optional().Nillable().Immutable().
			Annotations(entgql.Type("ID")),
		field.Int("api_key_id").Optional().Nillable().Immutable().
			Annotations(entgql.Type("ID")),
		field.String("request_id").Default("").Immutable(),
		field.String("ip").Default("").Immutable(),
		field.String("user_agent").Default("").Immutable(),
		field.JSON("changes", map[string]diff.Change{}).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "environment", "created_at"),
		index.Fields("tenant_id", "environment", "resource_type", "resource_id", "created_at"),
	}
}

// Annotations of the AuditEvent.
func (AuditEvent) Annotations() []entschema.Annotation {
	return []entschema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the AuditEvent. Every policy ends in deny, so rules that all skip can
// never mean allow.
func (AuditEvent) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowTenantQueryWithScope(scope.Audit),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.DenyUpdateAndDelete(),
			rule.AllowTenantCreate(),
			privacy.AlwaysDenyRule(),
		},
	}
}
