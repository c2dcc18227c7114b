// Package rule holds the privacy rules, query filters and mutation hooks that
// the ent schema attaches to every entity. Together they make tenant and
// environment isolation a property of the data layer: no adapter (REST,
// GraphQL, CLI, jobs) can read or write across tenants, whatever it does.
package rule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/privacy"

	gen "github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/intercept"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/text"
	"github.com/leadron/leadron/internal/viewer"
)

// ErrNoViewer is the denial for a context that carries no viewer.
var ErrNoViewer = fmt.Errorf("%w: no viewer in context", privacy.Deny)

// ErrCrossTenant is the denial for a create that names another tenant or
// environment than the viewer's.
var ErrCrossTenant = fmt.Errorf("%w: tenant or environment differs from the viewer's", privacy.Deny)

// ScopeError is the denial for a viewer that lacks a scope. It wraps
// privacy.Deny, and adapters show its Scope to the client.
type ScopeError struct{ Scope scope.Scope }

func (e *ScopeError) Error() string {
	return fmt.Sprintf("ent/privacy: deny: requires the '%s' scope", e.Scope)
}

// Unwrap makes errors.Is(err, privacy.Deny) hold.
func (e *ScopeError) Unwrap() error { return privacy.Deny }

// DenyIfNoViewer denies any query or mutation without a viewer.
func DenyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx) == nil {
			return ErrNoViewer
		}
		return privacy.Skip
	})
}

// AllowPlatformQuery allows the platform viewer to read. Only the types whose
// policy lists this rule (tenants, settings, and the users and API keys that
// authentication looks up) are readable by it.
func AllowPlatformQuery() privacy.QueryRule {
	return queryRule(func(ctx context.Context, _ ent.Query) error {
		if v := viewer.FromContext(ctx); v != nil && v.Kind == viewer.KindPlatform {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowPlatformCreate allows the platform viewer to create rows (tenants and
// deployment settings); it may never update or delete.
func AllowPlatformCreate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if v := viewer.FromContext(ctx); v != nil && v.Kind == viewer.KindPlatform && m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowSystemUpdate allows the system viewer (CLI, jobs) to update rows of
// its own tenant, such as the tenant's plan.
func AllowSystemUpdate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if v := viewer.FromContext(ctx); v.TenantScoped() && v.Kind == viewer.KindSystem && m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowTenantQuery allows any tenant-scoped viewer to read; the tenant filter
// limits what it sees.
func AllowTenantQuery() privacy.QueryRule {
	return queryRule(func(ctx context.Context, _ ent.Query) error {
		if viewer.FromContext(ctx).TenantScoped() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowTenantQueryWithScope allows a tenant-scoped viewer holding
// resource:read, and denies one that lacks it with a ScopeError.
func AllowTenantQueryWithScope(r scope.Resource) privacy.QueryRule {
	return queryRule(func(ctx context.Context, _ ent.Query) error {
		return requireScope(viewer.FromContext(ctx), scope.Scope{Resource: r, Action: scope.Read})
	})
}

// AllowTenantMutationWithScope allows a tenant-scoped viewer holding
// resource:write (creates and updates) or resource:delete (deletes).
func AllowTenantMutationWithScope(r scope.Resource) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		action := scope.Write
		if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
			action = scope.Delete
		}
		return requireScope(viewer.FromContext(ctx), scope.Scope{Resource: r, Action: action})
	})
}

// AllowTenantCreate allows any tenant-scoped viewer to create rows. Audit
// events use it: they are written by hooks on behalf of whoever made the
// change, whatever their scopes.
func AllowTenantCreate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if viewer.FromContext(ctx).TenantScoped() && m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// DenyUpdateAndDelete makes a type append-only.
func DenyUpdateAndDelete() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(_ context.Context, m ent.Mutation) error {
		if m.Op().Is(ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne) {
			return privacy.Denyf("%s is append-only", m.Type())
		}
		return privacy.Skip
	})
}

// RequireDeleteScopeToArchive makes archiving or restoring (setting or
// clearing archived_at) need resource:delete, like a delete. A merge, which
// archives the leads it merges (setting merged_into in the same write), is
// an edit: it needs only resource:write.
func RequireDeleteScopeToArchive(r scope.Resource) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		_, set := m.Field("archived_at")
		if _, merging := m.Field("merged_into"); set && merging {
			return privacy.Skip
		}
		if set || m.FieldCleared("archived_at") {
			if err := requireScope(viewer.FromContext(ctx), scope.Scope{Resource: r, Action: scope.Delete}); !errors.Is(err, privacy.Allow) {
				return err
			}
		}
		return privacy.Skip
	})
}

// eachField is a hook that runs check on every field a write sets, in
// turn, and refuses the write with the first error check returns.
func eachField(check func(m ent.Mutation, name string, v ent.Value) error) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			for _, name := range m.Fields() {
				v, _ := m.Field(name)
				if err := check(m, name, v); err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// ValidText is the hook that refuses NUL characters and invalid UTF-8 in
// every text field a write sets (and in each string of a list field), as a
// field error on that field: PostgreSQL would refuse them with an error of
// its own, and SQLite would store them.
func ValidText() ent.Hook {
	return eachField(func(_ ent.Mutation, name string, v ent.Value) error {
		if !text.ValidValue(v) {
			field := apperr.CamelCase(name)
			return apperr.Invalid(field, apperr.FieldInvalid, field+" must be UTF-8 text without NUL characters")
		}
		return nil
	})
}

// SetOrClear is the hook that refuses a write that both sets and clears one
// field (GraphQL's phone and clearPhone together), as a field error: ent
// would store one of the two and the audit log record the other.
func SetOrClear() ent.Hook {
	return eachField(func(m ent.Mutation, name string, _ ent.Value) error {
		if m.FieldCleared(name) {
			field := apperr.CamelCase(name)
			return apperr.Invalid(field, apperr.FieldInvalid, field+" cannot be set and cleared in one change")
		}
		return nil
	})
}

// MillisecondTimes is the hook that stores every time a write sets in UTC,
// to the millisecond: the precision both APIs show (RFC 3339 with
// milliseconds), so that a time read from REST or GraphQL is exactly the
// stored one, and filtering or comparing with it finds the row it came from.
// It runs after ent's defaults (created_at, updated_at) are set.
func MillisecondTimes() ent.Hook {
	return eachField(func(m ent.Mutation, name string, v ent.Value) error {
		if t, ok := v.(time.Time); ok {
			if stored := StoredTime(t); stored != t {
				return m.SetField(name, stored)
			}
		}
		return nil
	})
}

// StoredTime is t as MillisecondTimes stores it: UTC, to the millisecond.
// Checks of a given time against the clock use it, so that a time that
// passes is still in the future once stored.
func StoredTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// RequireDeleteScopeToSet makes setting or clearing field (an API key's
// revoked_at) need resource:delete, as a delete does: revoking ends a key
// as surely.
func RequireDeleteScopeToSet(r scope.Resource, field string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if _, set := m.Field(field); set || m.FieldCleared(field) {
			if err := requireScope(viewer.FromContext(ctx), scope.Scope{Resource: r, Action: scope.Delete}); !errors.Is(err, privacy.Allow) {
				return err
			}
		}
		return privacy.Skip
	})
}

// ErrNotYours refuses a change to another user's row by a user below admin.
var ErrNotYours = apperr.New(apperr.Forbidden, "Only its owner, or a tenant owner or admin, may change this")

// OnlyOwnRowsBelowAdmin lets a user whose role is below admin update only
// the rows it owns, one at a time (ownerField holds the owning user's ID),
// and delete none. Rolling another user's API key would hand the caller
// that key's secret, and with it the other user's rights.
func OnlyOwnRowsBelowAdmin(ownerField string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || (v.Kind != viewer.KindUser && v.Kind != viewer.KindAPIKey) || v.Role == scope.RoleOwner || v.Role == scope.RoleAdmin || m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		if !m.Op().Is(ent.OpUpdateOne) {
			return ErrNotYours // no bulk update is narrowed to one's own rows, and no delete
		}
		owner, err := m.OldField(ctx, ownerField)
		if err != nil {
			return err
		}
		if id, ok := owner.(int); !ok || id != v.UserID {
			return ErrNotYours
		}
		return privacy.Skip
	})
}

// CheckScope is nil when the context's viewer holds s, or is not bound to
// a tenant (the type's policy decides then), and a ScopeError otherwise:
// the privacy rules' check, for a no-op that runs no mutation to check.
func CheckScope(ctx context.Context, s scope.Scope) error {
	if err := requireScope(viewer.FromContext(ctx), s); !errors.Is(err, privacy.Allow) && !errors.Is(err, privacy.Skip) {
		return err
	}
	return nil
}

func requireScope(v *viewer.Viewer, s scope.Scope) error {
	switch {
	case !v.TenantScoped():
		return privacy.Skip
	case !v.Can(s):
		return &ScopeError{Scope: s}
	default:
		return privacy.Allow
	}
}

// FilterTenant is the query interceptor of tenant-scoped types: every query
// (lists, counts, edge loads) is limited to the viewer's tenant and, when
// withEnvironment, its environment. Interceptors run even under a privacy
// decision context, so this filter holds even if an Allow decision leaks.
func FilterTenant(withEnvironment bool) ent.Interceptor {
	return tenantFilter{withEnvironment: withEnvironment}
}

// tenantFilter is FilterTenant's traverser. It takes ent's query rather
// than intercept's wrapper so that it can record the scope on the query
// (gen.ViewerScope): a read by ID then sends a statement written once for
// its shape.
type tenantFilter struct{ withEnvironment bool }

// scopedQuery is what generated queries of tenant-scoped types offer: the
// scope's predicate added and the scope recorded, from one value.
type scopedQuery interface {
	WhereViewerScope(gen.ViewerScope, func(gen.ViewerScope) func(*sql.Selector))
}

// Intercept leaves the query's execution alone: the filter is applied in
// Traverse, which ent runs before any interceptor and on traversals.
func (tenantFilter) Intercept(next ent.Querier) ent.Querier { return next }

func (f tenantFilter) Traverse(ctx context.Context, q ent.Query) error {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return ErrNoViewer
	case v.Kind == viewer.KindPlatform:
		// Unfiltered, and the type's policy decides whether the
		// platform viewer may read it at all.
		return nil
	case !v.TenantScoped():
		return privacy.Denyf("viewer is not scoped to a tenant")
	}
	s := gen.ViewerScope{TenantID: v.TenantID, Environment: string(v.Environment), WithEnvironment: f.withEnvironment}
	if sq, ok := q.(scopedQuery); ok {
		sq.WhereViewerScope(s, viewerScope)
		return nil
	}
	query, err := intercept.NewQuery(q)
	if err != nil {
		return err
	}
	query.WhereP(viewerScope(s))
	return nil
}

// viewerScope is the predicate `tenant_id = ?`, or `(tenant_id = ? AND
// environment = ?)` withEnvironment, as one predicate written in one
// pass. It is in every query, and ent's FieldEQ builds a predicate, a
// builder and a nested AND for each column. The parentheses keep it whole
// whatever ent combines it with.
func viewerScope(scope gen.ViewerScope) func(*sql.Selector) {
	return func(s *sql.Selector) {
		tenantColumn := s.C("tenant_id")
		if !scope.WithEnvironment {
			s.Where(sql.P(func(b *sql.Builder) {
				b.WriteString(tenantColumn).WriteOp(sql.OpEQ).Arg(scope.TenantID)
			}))
			return
		}
		environmentColumn := s.C("environment")
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteByte('(').WriteString(tenantColumn).WriteOp(sql.OpEQ).Arg(scope.TenantID)
			b.WriteString(" AND ").WriteString(environmentColumn).WriteOp(sql.OpEQ).Arg(scope.Environment)
			b.WriteByte(')')
		}))
	}
}

// FilterOwnTenant is the query interceptor of the tenants table: a tenant
// viewer sees only its own tenant.
func FilterOwnTenant() ent.Interceptor {
	return intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		v := viewer.FromContext(ctx)
		switch {
		case v == nil:
			return ErrNoViewer
		case v.Kind == viewer.KindPlatform:
			return nil
		case !v.TenantScoped():
			return privacy.Denyf("viewer is not scoped to a tenant")
		}
		q.WhereP(sql.FieldEQ("id", v.TenantID))
		return nil
	})
}

// wherer is what generated mutations offer to narrow updates and deletes.
type wherer interface{ WhereP(...func(*sql.Selector)) }

// ScopeMutations is the mutation hook of tenant-scoped types. A create takes
// its tenant (and environment) from the viewer and is refused if it names
// another; an update or delete, one or bulk, only ever touches the viewer's
// rows.
func ScopeMutations(withEnvironment bool) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v := viewer.FromContext(ctx)
			if v == nil {
				return nil, ErrNoViewer
			}
			if !v.TenantScoped() {
				return nil, privacy.Denyf("viewer is not scoped to a tenant")
			}
			if m.Op().Is(ent.OpCreate) {
				if err := forceField(m, "tenant_id", v.TenantID); err != nil {
					return nil, err
				}
				if withEnvironment {
					if err := forceField(m, "environment", string(v.Environment)); err != nil {
						return nil, err
					}
				}
				return next.Mutate(ctx, m)
			}
			w, ok := m.(wherer)
			if !ok {
				return nil, privacy.Denyf("mutation %T cannot be scoped", m)
			}
			w.WhereP(sql.FieldEQ("tenant_id", v.TenantID))
			if withEnvironment {
				w.WhereP(sql.FieldEQ("environment", string(v.Environment)))
			}
			return next.Mutate(ctx, m)
		})
	}
}

// forceField sets name to want, refusing a create that set something else.
func forceField[T comparable](m ent.Mutation, name string, want T) error {
	if got, ok := m.Field(name); ok && got != want {
		return ErrCrossTenant
	}
	return m.SetField(name, want)
}

// queryRule adapts a function to privacy.QueryRule.
type queryRule func(context.Context, ent.Query) error

// EvalQuery calls f.
func (f queryRule) EvalQuery(ctx context.Context, q ent.Query) error { return f(ctx, q) }

// UserInTenant is the hook for an edge to a user (a lead's assignee, a key's
// owner): the user must be in the viewer's tenant, so no row can point into
// another tenant. apiField names the field in validation errors.
func UserInTenant(edge, apiField string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			refs := m.AddedIDs(edge)
			if len(refs) == 0 {
				return next.Mutate(ctx, m)
			}
			v := viewer.FromContext(ctx)
			c, ok := m.(interface{ Client() *gen.Client })
			if !v.TenantScoped() || !ok {
				return nil, privacy.Denyf("cannot check %s", edge)
			}
			ids := make([]int, 0, len(refs))
			for _, r := range refs {
				ids = append(ids, r.(int))
			}
			// The check runs as the system viewer of the same tenant: the
			// acting viewer may lack users:read, yet must reference a user.
			sys := viewer.NewContext(ctx, viewer.System(v.TenantID, v.Environment))
			n, err := c.Client().User.Query().Where(user.IDIn(ids...)).Count(sys)
			if err != nil {
				return nil, err
			}
			if n != len(ids) {
				return nil, apperr.Invalid(apiField, apperr.FieldInvalid, "must be the ID of a user in this tenant")
			}
			return next.Mutate(ctx, m)
		})
	}
}

// AllowSystem allows the system viewer (CLI, jobs, sign-in flows) to read and
// write rows of its own tenant.
func AllowSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v := viewer.FromContext(ctx); v.TenantScoped() && v.Kind == viewer.KindSystem {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowTenantMutation allows any tenant-scoped viewer to write; the tenant
// hook limits what it touches.
func AllowTenantMutation() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if viewer.FromContext(ctx).TenantScoped() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}
