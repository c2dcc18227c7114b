// Package lifecycle holds the rules of a lead's life after its creation:
// which status changes are allowed, duplicate detection, merging, and the
// activity timeline. The rules live here once; the ent schema attaches the
// hooks, and REST, GraphQL and the job worker call the functions.
package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent"

	gen "github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/audit"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/viewer"
)

// Transitions is the status transition table: from each status, the statuses
// a lead may move to. Keeping the same status is always allowed (a no-op).
// qualified and unqualified may be reopened to contacted.
var Transitions = map[string][]string{
	"new":         {"contacted"},
	"contacted":   {"qualified", "unqualified"},
	"qualified":   {"contacted"},
	"unqualified": {"contacted"},
}

// ActionStatusForced is the audit action of an update that forced a status
// change the table does not allow.
const ActionStatusForced = "lead.status_forced"

// Allowed reports whether a lead may move from one status to another without
// force.
func Allowed(from, to string) bool {
	return from == to || slices.Contains(Transitions[from], to)
}

// TransitionError is the validation error of a refused status change; its
// message names the statuses the lead may move to.
func TransitionError(from, to string) error {
	return apperr.Invalid("status", apperr.FieldInvalid, fmt.Sprintf(
		"status cannot change from %s to %s; from %s it can change to: %s",
		from, to, from, strings.Join(Transitions[from], ", ")))
}

// ErrForceNotAllowed refuses force to viewers who are not owners or admins.
var ErrForceNotAllowed = apperr.New(apperr.Forbidden, "Only owners and admins may force a status change the lifecycle does not allow")

type forceKey struct{}

// WithForce returns a context whose lead updates may make status changes
// the table does not allow, if the viewer is an owner or admin. Adapters set
// it from an explicit request (REST: PATCH …?force=true).
func WithForce(ctx context.Context) context.Context {
	return context.WithValue(ctx, forceKey{}, true)
}

// Forced reports whether ctx asks to force status changes.
func Forced(ctx context.Context) bool {
	f, _ := ctx.Value(forceKey{}).(bool)
	return f
}

// CanForce reports whether the viewer may force a status change: owners and
// admins (and the system viewer, which acts with an owner's rights).
func CanForce(v *viewer.Viewer) bool {
	return v != nil && (v.Role == scope.RoleOwner || v.Role == scope.RoleAdmin)
}

// EnforceTransitions is the Lead hook that checks every status change of an
// update against the transition table, comparing each row's old status with
// the new one. A refused change is a validation error on status. With
// WithForce, an owner or admin may make any change; the update is then
// audited as ActionStatusForced. Creates may start in any status (imports
// bring leads that are already qualified).
func EnforceTransitions() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			lm, ok := m.(*gen.LeadMutation)
			if !ok {
				return nil, fmt.Errorf("lifecycle: EnforceTransitions on %T", m)
			}
			to, set := lm.Status()
			if !set || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
				return next.Mutate(ctx, m)
			}
			olds, err := oldStatuses(ctx, lm)
			if err != nil {
				return nil, err
			}
			var refused error
			for _, from := range olds {
				if !Allowed(from, to.String()) {
					refused = TransitionError(from, to.String())
					break
				}
			}
			switch {
			case refused == nil:
			case !Forced(ctx):
				return nil, refused
			case !CanForce(viewer.FromContext(ctx)):
				return nil, ErrForceNotAllowed
			default:
				ctx = audit.WithAction(ctx, ActionStatusForced)
			}
			return next.Mutate(ctx, m)
		})
	}
}

// oldStatuses returns the current status of every row an update touches.
func oldStatuses(ctx context.Context, m *gen.LeadMutation) ([]string, error) {
	if m.Op().Is(ent.OpUpdateOne) {
		old, err := m.OldStatus(ctx)
		if err != nil {
			return nil, err
		}
		return []string{old.String()}, nil
	}
	ids, err := m.IDs(ctx)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return m.Client().Lead.Query().Where(lead.IDIn(ids...)).
		Unique(true).Select(lead.FieldStatus).Strings(ctx)
}

// TenantRegion returns the default region of the viewer's tenant, in which
// phone numbers without a country code are read; "US" when the mutation
// cannot tell.
func TenantRegion(ctx context.Context, m ent.Mutation) (string, error) {
	v := viewer.FromContext(ctx)
	c, ok := m.(interface{ Client() *gen.Client })
	if !v.TenantScoped() || !ok {
		return "US", nil
	}
	if v.TenantRegion != "" {
		return v.TenantRegion, nil // loaded with the credential (cached for seconds)
	}
	t, err := c.Client().Tenant.Get(ctx, v.TenantID)
	if err != nil {
		return "", err
	}
	return t.DefaultRegion, nil
}
