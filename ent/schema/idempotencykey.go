package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/privacy"
	entschema "entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/leadron/leadron/internal/rule"
)

// IdempotencyKey stores the first response to a POST or PATCH sent with an
// Idempotency-Key, per tenant and environment, so a retry gets the same
// response instead of a second write.
type IdempotencyKey struct{ ent.Schema }

// Mixin of the IdempotencyKey.
func (IdempotencyKey) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantEnvironmentMixin{}}
}

// Fields of the IdempotencyKey.
func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").Immutable().NotEmpty().MaxLen(255),
		// request_hash is a SHA-256 of the method, path and body: the same key
		// with a different request is refused.
		field.Bytes("request_hash").Immutable(),
		// status is 0 while the first request is in flight.
		field.Int("status").Default(0),
		field.Bytes("response_headers").Optional(),
		field.Bytes("response_body").Optional(),
		field.Time("created_at").Immutable().Default(now),
		field.Time("expires_at").Immutable(),
	}
}

// Indexes of the IdempotencyKey.
func (IdempotencyKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "environment", "key").Unique(),
		index.Fields("expires_at"),
	}
}

// Annotations of the IdempotencyKey.
func (IdempotencyKey) Annotations() []entschema.Annotation {
	return []entschema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the IdempotencyKey: any tenant viewer may record and replay its
// own requests; the tenant filter keeps them apart.
func (IdempotencyKey) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowTenantQuery(),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowTenantMutation(),
			privacy.AlwaysDenyRule(),
		},
	}
}
