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

// Roles are the user roles, from most to least privileged.
var Roles = []string{"owner", "admin", "member", "viewer"}

// User is a person who signs in to a tenant's dashboard and owns API keys.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, TenantMixin{}} }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// Emails are stored normalized (trimmed, lowercase) and are unique
		// across the deployment, because sign-in names no tenant.
		field.String("email").MaxLen(254).Validate(ValidateEmail).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("first_name").Default("").MaxLen(100),
		field.String("last_name").Default("").MaxLen(100),
		field.Enum("role").Values(Roles...).Default("member"),
		// token_version invalidates a user's outstanding tokens: it is in
		// every token and is bumped by a password or role change.
		field.Int("token_version").Default(1).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("password_hash").Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		// The reverse of Lead.assignee. Its where-input is skipped: a predicate
		// walking from users (not environment-scoped) into leads would not be
		// filtered by environment. Loading the edge goes through the lead
		// filter and is safe.
		edge.From("assigned_leads", Lead.Type).Ref("assignee").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.From("api_keys", APIKey.Type).Ref("owner").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("email").Unique(),
		index.Fields("tenant_id", "created_at"),
	}
}

// Annotations of the User.
func (User) Annotations() []entschema.Annotation {
	return []entschema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the User. Every policy ends in deny, so rules that all skip can
// never mean allow.
func (User) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowPlatformQuery(),
			rule.AllowTenantQueryWithScope(scope.Users),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowTenantMutationWithScope(scope.Users),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks of the User.
func (User) Hooks() []ent.Hook {
	return []ent.Hook{normalizeUserEmail(), endSessionsOnCredentialChange(), audit.Hook("user")}
}
