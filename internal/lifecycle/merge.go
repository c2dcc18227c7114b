package lifecycle

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent"

	gen "github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/audit"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/viewer"
)

// MaxMerge is how many duplicates one merge may take.
const MaxMerge = 50

// ActionMergeFilled is the audit action of the survivor's update when a
// merge filled some of its empty fields. Each duplicate gets its own
// "lead.merged" event (its merged_into set).
const ActionMergeFilled = "lead.merge_filled"

// errMergeRaced is a merge that lost a race with another write.
var errMergeRaced = apperr.New(apperr.Conflict, "A lead of the merge was changed by another request; retry")

// Merge merges the duplicates into the survivor, in the caller's
// transaction (c must be a transaction's client):
//
//   - the survivor keeps every value it has; its empty phone, source and
//     assignee are filled from the first duplicate (in the order given) that
//     has one;
//   - custom fields are unioned: the survivor wins a conflict, then the
//     earlier duplicate;
//   - each duplicate is archived with merged_into set to the survivor, and
//     keeps its own audit history, which the survivor's timeline includes.
//
// Refused: an empty or too long list or a repeated ID (validation error on
// duplicateIds), the survivor among the duplicates (validation), an
// archived survivor or duplicate (validation), and any lead the viewer
// cannot see — another tenant's or environment's, or none at all — as not
// found, indistinguishably.
func Merge(ctx context.Context, c *gen.Client, survivorID int, duplicateIDs []int) (*gen.Lead, error) {
	if err := checkMergeList(survivorID, duplicateIDs); err != nil {
		return nil, err
	}
	s, err := c.Lead.Get(ctx, survivorID)
	if err != nil {
		return nil, err
	}
	found, err := c.Lead.Query().Where(lead.IDIn(duplicateIDs...)).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(found) != len(duplicateIDs) {
		return nil, apperr.New(apperr.NotFound, "Resource not found")
	}
	byID := make(map[int]*gen.Lead, len(found))
	for _, d := range found {
		byID[d.ID] = d
	}
	dups := make([]*gen.Lead, len(duplicateIDs))
	var errs []apperr.FieldError
	for i, id := range duplicateIDs {
		dups[i] = byID[id]
		if dups[i].ArchivedAt != nil || dups[i].MergedInto != nil {
			errs = append(errs, apperr.FieldError{Field: "duplicateIds", Code: apperr.FieldInvalid,
				Message: fmt.Sprintf("duplicateIds[%d] is archived or already merged; restore it before merging it", i)})
		}
	}
	if s.ArchivedAt != nil || s.MergedInto != nil {
		return nil, apperr.New(apperr.Validation, "The lead is archived or merged into another; restore it before merging into it")
	}
	if len(errs) > 0 {
		return nil, &apperr.Error{Code: apperr.Validation, Message: "Validation failed", Fields: errs}
	}

	upd := c.Lead.UpdateOneID(s.ID).Where(lead.Version(s.Version))
	filled := false
	custom, err := s.CustomFields.Map()
	if err != nil {
		return nil, err
	}
	for _, d := range dups {
		if s.Phone == nil && d.Phone != nil && !filledField(upd.Mutation(), lead.FieldPhone) {
			upd.SetPhone(*d.Phone)
			filled = true
		}
		if s.Source == nil && d.Source != nil && !filledField(upd.Mutation(), lead.FieldSource) {
			upd.SetSource(*d.Source)
			filled = true
		}
		if s.AssignedTo == nil && d.AssignedTo != nil && !filledField(upd.Mutation(), lead.FieldAssignedTo) {
			upd.SetAssignedTo(*d.AssignedTo)
			filled = true
		}
		dupCustom, err := d.CustomFields.Map()
		if err != nil {
			return nil, err
		}
		for k, v := range dupCustom {
			if _, ok := custom[k]; !ok {
				custom[k] = v
				filled = true
			}
		}
	}
	if filled {
		fields, err := customfields.FromMap(custom)
		if err != nil {
			return nil, err
		}
		upd.SetCustomFields(fields)
		if s, err = upd.Save(audit.WithAction(ctx, ActionMergeFilled)); gen.IsNotFound(err) {
			return nil, errMergeRaced
		} else if err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	for _, d := range dups {
		err := c.Lead.UpdateOneID(d.ID).
			Where(lead.ArchivedAtIsNil(), lead.MergedIntoIsNil()).
			SetMergedInto(s.ID).SetArchivedAt(now).
			Exec(ctx)
		if gen.IsNotFound(err) {
			return nil, errMergeRaced
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func filledField(m *gen.LeadMutation, field string) bool {
	_, ok := m.Field(field)
	return ok
}

func checkMergeList(survivorID int, ids []int) error {
	invalid := func(msg string) error { return apperr.Invalid("duplicateIds", apperr.FieldInvalid, msg) }
	switch {
	case len(ids) == 0 || len(ids) > MaxMerge:
		return invalid(fmt.Sprintf("duplicateIds must list 1 to %d lead IDs", MaxMerge))
	}
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		switch {
		case id == survivorID:
			return invalid("A lead cannot be merged into itself")
		case seen[id]:
			return invalid("duplicateIds must not repeat an ID")
		}
		seen[id] = true
	}
	return nil
}

// maxTimelineLeads bounds how many leads one timeline spans: the lead and
// those merged into it, directly or through other merges.
const maxTimelineLeads = 1000

// TimelineIDs returns the lead's ID followed by the IDs of the leads merged
// into it, directly or through earlier merges, so their history stays
// reachable from the survivor. It fails with a not-found error when the
// viewer cannot see the lead.
func TimelineIDs(ctx context.Context, c *gen.Client, leadID int) ([]int, error) {
	l, err := c.Lead.Get(ctx, leadID)
	if err != nil {
		return nil, err
	}
	ids := []int{l.ID}
	seen := map[int]bool{l.ID: true}
	frontier := []int{l.ID}
	for len(frontier) > 0 && len(ids) < maxTimelineLeads {
		merged, err := c.Lead.Query().Where(lead.MergedIntoIn(frontier...)).
			Limit(maxTimelineLeads - len(ids)).IDs(ctx)
		if err != nil {
			return nil, err
		}
		frontier = frontier[:0]
		for _, id := range merged {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
				frontier = append(frontier, id)
			}
		}
	}
	return ids, nil
}

// Activities returns the query of a lead's timeline: the audit events of the
// lead and of the leads merged into it (see TimelineIDs), straight from the
// audit log, and the context to run it in. Reading the audit log needs the
// audit:read scope, but a lead's own history is part of the lead: once the
// viewer has proved it can read the lead, the events are read as the system
// viewer of the same tenant and environment.
func Activities(ctx context.Context, c *gen.Client, leadID int) (context.Context, *gen.AuditEventQuery, error) {
	ids, err := TimelineIDs(ctx, c, leadID)
	if err != nil {
		return nil, nil, err
	}
	v := viewer.FromContext(ctx)
	sys := viewer.NewContext(ctx, viewer.System(v.TenantID, v.Environment))
	q := c.AuditEvent.Query().Where(auditevent.ResourceType("lead"), auditevent.ResourceIDIn(ids...))
	return sys, q, nil
}

// ErrRestoreMerged refuses to restore a merged lead: it lives on in its
// survivor.
var ErrRestoreMerged = apperr.New(apperr.Validation, "A merged lead cannot be restored; it lives on in the lead it was merged into")

// ErrMerged refuses any other change to a merged lead: its survivor is the
// lead to change.
var ErrMerged = apperr.New(apperr.Validation, "A merged lead cannot be changed; change the lead it was merged into (mergedInto)")

// FreezeMerged is the Lead hook that keeps a merged lead as its merge left
// it: an update of one, a restore included, is refused. It costs no query
// on the way: the update is narrowed to leads not merged, and only an
// update of one lead that then finds none asks why. A bulk update skips
// merged leads.
func FreezeMerged() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			lm, ok := m.(*gen.LeadMutation)
			if !ok || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
				return next.Mutate(ctx, m)
			}
			lm.Where(lead.MergedIntoIsNil())
			v, err := next.Mutate(ctx, m)
			id, one := lm.ID()
			if !gen.IsNotFound(err) || !one {
				return v, err
			}
			merged, qerr := lm.Client().Lead.Query().Where(lead.ID(id), lead.MergedIntoNotNil()).Exist(ctx)
			switch {
			case qerr != nil:
				return nil, qerr
			case merged && lm.ArchivedAtCleared():
				return nil, ErrRestoreMerged
			case merged:
				return nil, ErrMerged
			}
			return v, err
		})
	}
}

// ErrMergeEdge refuses a write that attaches leads to a survivor, or
// detaches them, other than by Merge.
var ErrMergeEdge = apperr.New(apperr.Forbidden, "Leads are merged only by a merge (mergeLeads, POST /v1/leads/{id}/merge)")

// MergeOnlyByMerging is the Lead hook that keeps merges to Merge's path:
// the survivor's merged_leads edge is never written directly, and a lead's
// merged_into names a lead of the viewer's own tenant and environment. A
// generated input (GraphQL's, say) that exposed the edge could otherwise
// archive another tenant's leads and skip the merge's rules and audit.
func MergeOnlyByMerging() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			lm, ok := m.(*gen.LeadMutation)
			if !ok {
				return next.Mutate(ctx, m)
			}
			if len(lm.MergedLeadsIDs()) > 0 || len(lm.RemovedMergedLeadsIDs()) > 0 || lm.MergedLeadsCleared() {
				return nil, ErrMergeEdge
			}
			if survivor, set := lm.MergedInto(); set {
				// Filtered to the viewer's tenant and environment, as every read.
				found, err := lm.Client().Lead.Query().Where(lead.ID(survivor)).Exist(ctx)
				if err != nil {
					return nil, err
				}
				if !found {
					return nil, ErrMergeEdge
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}
