// Package leadops holds the lead operations whose meaning REST and GraphQL
// share: the partial update that merges custom fields, and idempotent archive
// and restore. Each runs on a transactional client the caller owns, so the
// write and its audit event commit or roll back together; validation,
// privacy and audit stay in the ent schema.
package leadops

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/predicate"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/viewer"
)

// ErrRaced means the lead changed between being read and being written. It
// is a conflict the client can retry.
var ErrRaced error = apperr.New(apperr.Conflict, "The lead was changed by another request; retry")

// MaxUpdateAttempts bounds how often Patch rereads a lead that a concurrent
// write changed under it.
const MaxUpdateAttempts = 3

// MergeCustomFields applies a patch to a lead's custom fields: a nil value
// deletes the key, any other value replaces it, and keys the patch leaves
// out stay. cur is not modified.
func MergeCustomFields(cur, patch map[string]any) map[string]any {
	out := maps.Clone(cur)
	if out == nil {
		out = make(map[string]any, len(patch))
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Update writes a partial update of cur: set applies the fields given (nil:
// none), and customFields, when not nil, is merged with MergeCustomFields.
// An update that sets nothing writes nothing and returns cur. The write is
// guarded by cur's version, so a write that landed in between makes it fail
// with ErrRaced instead of silently losing the other write's custom fields.
func Update(ctx context.Context, c *ent.Client, cur *ent.Lead, set func(*ent.LeadMutation), customFields map[string]any) (*ent.Lead, error) {
	if err := require(ctx, scope.Write); err != nil {
		return nil, err
	}
	u := c.Lead.UpdateOneID(cur.ID).Where(lead.Version(cur.Version))
	m := u.Mutation()
	if set != nil {
		set(m)
	}
	if customFields == nil && len(m.Fields()) == 0 && len(m.ClearedFields()) == 0 &&
		len(m.AddedEdges()) == 0 && len(m.ClearedEdges()) == 0 {
		return cur, nil
	}
	if customFields != nil {
		curFields, err := cur.CustomFields.Map()
		if err != nil {
			return nil, err
		}
		merged, err := customfields.FromMap(MergeCustomFields(curFields, customFields))
		if err != nil {
			return nil, err
		}
		u.SetCustomFields(merged)
	}
	l, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrRaced
	}
	return l, err
}

// Patch reads the lead with id and updates it with Update. When a
// concurrent write wins the race it reads the lead again and retries, at
// most MaxUpdateAttempts times in all, then fails with ErrRaced. Each
// statement sees the latest committed row (PostgreSQL's read committed;
// SQLite has one writer), so retrying inside the caller's transaction works.
func Patch(ctx context.Context, c *ent.Client, id int, set func(*ent.LeadMutation), customFields map[string]any) (*ent.Lead, error) {
	for attempt := 1; ; attempt++ {
		cur, err := c.Lead.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		l, err := Update(ctx, c, cur, set, customFields)
		if !errors.Is(err, ErrRaced) || attempt == MaxUpdateAttempts {
			return l, err
		}
	}
}

// Listed is what a list of leads shows: never leads merged into another
// (they live on inside their survivor), and archived leads only when
// includeArchived.
func Listed(includeArchived bool) []predicate.Lead {
	ps := []predicate.Lead{lead.MergedIntoIsNil()}
	if !includeArchived {
		ps = append(ps, lead.ArchivedAtIsNil())
	}
	return ps
}

// Archive archives the lead with id (a soft delete). Archiving an archived
// lead changes nothing and returns it as it is.
func Archive(ctx context.Context, c *ent.Client, id int) (*ent.Lead, error) {
	return SetArchived(ctx, c, id, true, nil)
}

// Restore brings back an archived lead. Restoring an active lead changes
// nothing and returns it as it is.
func Restore(ctx context.Context, c *ent.Client, id int) (*ent.Lead, error) {
	return SetArchived(ctx, c, id, false, nil)
}

// SetArchived archives or restores the lead with id. The write is guarded
// by the version read, as Update's is. check, when not nil, is a
// precondition on that version (REST's If-Match): it runs before anything
// is written, and a write that lands in between fails with ErrRaced. Without
// one, a lost race is retried, as Patch does.
func SetArchived(ctx context.Context, c *ent.Client, id int, archive bool, check func(version int) error) (*ent.Lead, error) {
	if err := require(ctx, scope.Delete); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		cur, err := c.Lead.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(cur.Version); err != nil {
				return nil, err
			}
		}
		u := c.Lead.UpdateOneID(cur.ID).Where(lead.Version(cur.Version))
		switch {
		case archive && cur.ArchivedAt == nil:
			u.SetArchivedAt(time.Now().UTC())
		case !archive && cur.ArchivedAt != nil:
			u.ClearArchivedAt()
		default:
			return cur, nil
		}
		l, err := u.Save(ctx)
		if ent.IsNotFound(err) {
			err = ErrRaced
		}
		if !errors.Is(err, ErrRaced) || check != nil || attempt == MaxUpdateAttempts {
			return l, err
		}
	}
}

// require refuses a viewer without the leads scope for the action. The
// privacy policy checks every write, but an operation that turns out to
// change nothing writes nothing, and must still be refused to a viewer who
// could not have written.
func require(ctx context.Context, action scope.Action) error {
	s := scope.Scope{Resource: scope.Leads, Action: action}
	if v := viewer.FromContext(ctx); v.TenantScoped() && !v.Can(s) {
		return &rule.ScopeError{Scope: s}
	}
	return nil
}
