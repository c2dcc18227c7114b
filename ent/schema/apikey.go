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

// APIKey is an integration's credential. Only a hash of the secret is stored;
// the plaintext is shown once, when the key is created.
type APIKey struct{ ent.Schema }

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantEnvironmentMixin{}}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		// key_hash is the SHA-256 of the full key. Keys carry 190 bits of
		// randomness, so a fast hash is safe and keeps verification cheap.
		field.Bytes("key_hash").Unique().Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// prefix is what dashboards show ("ldr_live_sk_AbC1"); last4 ends it.
		// previous_key_hash keeps the secret replaced by a roll working until
		// previous_expires_at, the grace period the roll asked for.
		field.Bytes("previous_key_hash").Optional().Nillable().Unique().Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("previous_expires_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("prefix").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("last4").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Strings("scopes"),
		field.Int("owner_id").Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("last_used_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the APIKey.
func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("owner", User.Type).Field("owner_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "environment", "created_at")}
}

// Annotations of the APIKey.
func (APIKey) Annotations() []entschema.Annotation {
	return []entschema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the APIKey. Every policy ends in deny, so rules that all skip can
// never mean allow.
func (APIKey) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowPlatformQuery(),
			rule.AllowTenantQueryWithScope(scope.APIKeys),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.RequireDeleteScopeToSet(scope.APIKeys, "revoked_at"),
			rule.OnlyOwnRowsBelowAdmin("owner_id"),
			rule.AllowTenantMutationWithScope(scope.APIKeys),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks of the APIKey.
func (APIKey) Hooks() []ent.Hook {
	return []ent.Hook{validateKeyScopes(), rule.UserInTenant("owner", "createdBy"), audit.Hook("api_key")}
}
