package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/privacy"
	entschema "entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/leadron/leadron/internal/rule"
)

// SlugPattern is what a tenant slug must look like: lowercase words joined by
// single hyphens, as in "acme-corp".
var SlugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Plans are the billing plans; each has its own rate limit.
var Plans = []string{"free", "starter", "pro", "team", "enterprise"}

// Tenant is a customer account. Every other row belongs to one.
type Tenant struct{ ent.Schema }

// Mixin of the Tenant.
func (Tenant) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		field.String("slug").Unique().Immutable().MinLen(2).MaxLen(63).Match(SlugPattern),
		field.String("name").NotEmpty().MaxLen(200),
		field.Enum("plan").Values(Plans...).Default("free"),
		// Custom limits for the enterprise plan; other plans use the table.
		field.Int("rate_limit_per_minute").Optional().Nillable().Positive(),
		field.Int("rate_limit_burst").Optional().Nillable().Positive(),
		// The region phone numbers without a country code are read in.
		field.String("default_region").Default("US").MinLen(2).MaxLen(2),
	}
}

// Annotations of the Tenant.
func (Tenant) Annotations() []entschema.Annotation {
	return []entschema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}

// Policy of the Tenant. Every policy ends in deny, so rules that all skip can
// never mean allow.
func (Tenant) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowPlatformQuery(),
			rule.AllowTenantQuery(),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowPlatformCreate(),
			rule.AllowSystemUpdate(),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Interceptors of the Tenant: a tenant viewer sees only its own tenant.
func (Tenant) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{rule.FilterOwnTenant()}
}

// Hooks of the Tenant: its text is valid, its times are kept to the
// millisecond and no field is both set and cleared, as every type's
// (rule.ValidText, rule.MillisecondTimes, rule.SetOrClear).
func (Tenant) Hooks() []ent.Hook {
	return []ent.Hook{rule.ValidText(), rule.MillisecondTimes(), rule.SetOrClear()}
}
