package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/entsql"
	"entgo.io/ent/privacy"
	entschema "entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/leadron/leadron/internal/audit"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/scope"
)

// Lead sources and statuses, as the API spec lists them.
var (
	LeadSources  = []string{"web", "referral", "api", "import", "manual"}
	LeadStatuses = []string{"new", "contacted", "qualified", "unqualified"}
)

// Lead is a prospective customer moving through the sales pipeline.
type Lead struct{ ent.Schema }

// Mixin of the Lead.
func (Lead) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantEnvironmentMixin{}}
}

// Fields of the Lead.
func (Lead) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").MaxLen(254).Validate(ValidateEmail).
			Annotations(entgql.OrderField("EMAIL")),
		// email_normalized and phone_normalized are derived by a hook and
		// indexed for duplicate detection; clients never write them.
		field.String("email_normalized").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("first_name").NotEmpty().MaxLen(100),
		field.String("last_name").NotEmpty().MaxLen(100),
		field.String("phone").Optional().Nillable().MaxLen(40).Validate(ValidatePhone),
		field.String("phone_normalized").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("source").Values(LeadSources...).Optional().Nillable(),
		field.Enum("status").Values(LeadStatuses...).Default("new"),
		field.Int("score").Default(0).Range(0, 100).
			Annotations(entgql.OrderField("SCORE")),
		field.Int("assigned_to").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		// custom_fields is the JSON text the API writes, passed through on
		// reads (package customfields). PostgreSQL keeps it as text: jsonb
		// would reformat it, and json, which keeps it, has no equality,
		// which the DISTINCT of ent's traversals needs. Writes validate it
		// and reads check it.
		field.JSON("custom_fields", customfields.Fields{}).Default(customfields.Fields{}).
			SchemaType(map[string]string{dialect.Postgres: "text"}).
			Annotations(entgql.Type("Map")),
		// merged_into is the lead this one was merged into.
		field.Int("merged_into").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		// version increases with every update; it is the ETag.
		field.Int("version").Default(1).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("archived_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the Lead.
func (Lead) Edges() []ent.Edge {
	return []ent.Edge{
		// No hasAssigneeWith filter: it would let a caller without
		// users:read learn users' emails and roles one guess at a time
		// (ent's privacy rules do not run inside a filter's subquery).
		// Filter by assignedTo, the user's ID, instead.
		edge.To("assignee", User.Type).Field("assigned_to").Unique().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		// Leads are merged only by a merge (lifecycle.MergeOnlyByMerging):
		// GraphQL may read mergedLeads but never write or filter by the edge.
		edge.To("merged_leads", Lead.Type).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)).
			From("survivor").Field("merged_into").Unique().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Lead. There is deliberately no unique email: duplicates are
// detected and merged, not refused.
func (Lead) Indexes() []ent.Index {
	return []ent.Index{
		// Keyset paging in each sort order the API offers.
		index.Fields("tenant_id", "environment", "created_at", "id"),
		index.Fields("tenant_id", "environment", "updated_at", "id"),
		index.Fields("tenant_id", "environment", "score", "id"),
		// Duplicate detection.
		index.Fields("tenant_id", "environment", "email_normalized"),
		index.Fields("tenant_id", "environment", "phone_normalized"),
		index.Fields("assigned_to"),
		// The leads merged into a lead, for its timeline; most leads are
		// never merged, so only merged ones are indexed.
		index.Fields("merged_into").
			Annotations(entsql.IndexWhere("merged_into IS NOT NULL")),
	}
}

// Annotations of the Lead.
func (Lead) Annotations() []entschema.Annotation {
	return []entschema.Annotation{
		// Query.leads is declared in graph/leadron.graphql, not generated:
		// like REST's list it leaves out merged leads, and archived ones
		// unless includeArchived.
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
		entgql.MultiOrder(),
	}
}

// Policy of the Lead. Every policy ends in deny, so rules that all skip can
// never mean allow.
func (Lead) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowTenantQueryWithScope(scope.Leads),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.RequireDeleteScopeToArchive(scope.Leads),
			rule.AllowTenantMutationWithScope(scope.Leads),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks of the Lead.
func (Lead) Hooks() []ent.Hook {
	return []ent.Hook{
		trimLeadEmail(),
		validateFields([]string{"email", "first_name", "last_name"}, leadChecks),
		// Status changes follow the lifecycle's transition table
		// (internal/lifecycle.Transitions); owners and admins may force.
		lifecycle.EnforceTransitions(),
		// A merged lead stays as its merge left it.
		lifecycle.FreezeMerged(),
		lifecycle.MergeOnlyByMerging(),
		normalizeLeadContact(),
		bumpVersion(),
		rule.UserInTenant("assignee", "assignedTo"),
		// A created lead, or one whose email or phone changes, gets a
		// duplicate check enqueued in the same transaction.
		jobs.EnqueueDuplicateChecks(),
		audit.Hook("lead"),
	}
}
