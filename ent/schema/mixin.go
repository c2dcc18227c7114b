// Package schema is Leadron's data model: entities, fields, indexes, and the
// privacy policies, filters and hooks that enforce tenant isolation. Business
// rules live here once; REST and GraphQL are adapters over the generated code.
package schema

import (
	"errors"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/viewer"
)

// TimeMixin adds created_at and updated_at, in UTC.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(now).
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(now).UpdateDefault(now).
			Annotations(entgql.OrderField("UPDATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// now is the clock for stored times. ent sets defaults before the hooks
// run, so rule.MillisecondTimes keeps these to the millisecond too.
func now() time.Time { return time.Now().UTC() }

// TenantMixin binds a row to one tenant. The tenant is set from the viewer on
// create, never from input, and cannot change.
type TenantMixin struct{ mixin.Schema }

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("tenant_id").Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the TenantMixin.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tenant", Tenant.Type).Field("tenant_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Interceptors of the TenantMixin: every query sees only the viewer's tenant.
func (TenantMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{rule.FilterTenant(false)}
}

// Hooks of the TenantMixin: creates take the viewer's tenant, updates and
// deletes touch only the viewer's tenant, text is valid (rule.ValidText),
// times are kept to the millisecond (rule.MillisecondTimes) and no field is
// both set and cleared (rule.SetOrClear).
func (TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{rule.ScopeMutations(false), rule.ValidText(), rule.MillisecondTimes(), rule.SetOrClear()}
}

// TenantEnvironmentMixin binds a row to one tenant and to its live or
// sandbox environment: the TenantMixin's field and edge, plus the
// environment. Like the tenant, the environment comes from the viewer and
// cannot change. It is one mixin, not an environment mixin beside the
// tenant's, so that no type can be filtered by environment without its
// tenant, and each query carries the tenant predicate once.
type TenantEnvironmentMixin struct{ mixin.Schema }

// Fields of the TenantEnvironmentMixin.
func (TenantEnvironmentMixin) Fields() []ent.Field {
	return append(TenantMixin{}.Fields(),
		field.String("environment").Immutable().Validate(validEnvironment).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
	)
}

// Edges of the TenantEnvironmentMixin.
func (TenantEnvironmentMixin) Edges() []ent.Edge { return TenantMixin{}.Edges() }

// Interceptors of the TenantEnvironmentMixin: every query sees only the
// viewer's tenant and environment.
func (TenantEnvironmentMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{rule.FilterTenant(true)}
}

// Hooks of the TenantEnvironmentMixin: creates take the viewer's tenant and
// environment, updates and deletes touch only the viewer's rows, text is
// valid (rule.ValidText), times are kept to the millisecond
// (rule.MillisecondTimes) and no field is both set and cleared
// (rule.SetOrClear).
func (TenantEnvironmentMixin) Hooks() []ent.Hook {
	return []ent.Hook{rule.ScopeMutations(true), rule.ValidText(), rule.MillisecondTimes(), rule.SetOrClear()}
}

func validEnvironment(s string) error {
	if !viewer.Environment(s).Valid() {
		return errors.New("environment must be live or sandbox")
	}
	return nil
}
