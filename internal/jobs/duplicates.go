package jobs

import (
	"context"
	"fmt"

	"entgo.io/ent"
	"github.com/riverqueue/river"

	gen "github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/viewer"
)

// DuplicateCheckArgs is the duplicate-check job of one lead.
type DuplicateCheckArgs struct {
	LeadID      int    `json:"lead_id"`
	TenantID    int    `json:"tenant_id"`
	Environment string `json:"environment"`
}

// DuplicateCheckKind is the job's kind in River's tables.
const DuplicateCheckKind = "lead.duplicate_check"

// Kind names the job.
func (DuplicateCheckArgs) Kind() string { return DuplicateCheckKind }

// DuplicateCheckMaxAttempts is how often a failing check is tried (with
// River's exponential backoff, about attempt⁴ seconds between tries: the
// last one comes about 11 hours after the first) before it is discarded and
// shows in `leadron jobs failed`.
const DuplicateCheckMaxAttempts = 12

// InsertOpts are the job's defaults.
func (DuplicateCheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: DuplicateCheckMaxAttempts}
}

// EnqueueDuplicateChecks is the Lead hook that enqueues a duplicate check in
// the write's own transaction for every lead created, and for every lead
// whose email or phone changes or that is restored: a committed write always
// gets its check, a rolled-back one never does. The write must run in a
// transaction of a client opened by store.Open (whose driver carries the
// database's queue); a client on another driver enqueues nothing.
func EnqueueDuplicateChecks() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			lm, ok := m.(*gen.LeadMutation)
			if !ok {
				return nil, fmt.Errorf("jobs: EnqueueDuplicateChecks on %T", m)
			}
			if !needsCheck(lm) {
				return next.Mutate(ctx, m)
			}
			var ids []int
			var err error
			switch {
			case m.Op().Is(ent.OpUpdateOne):
				id, _ := lm.ID()
				ids = []int{id}
			case m.Op().Is(ent.OpUpdate):
				if ids, err = lm.IDs(ctx); err != nil {
					return nil, err
				}
			}
			pctx, p := withProbe(ctx)
			v, err := next.Mutate(pctx, m)
			if err != nil {
				return nil, err
			}
			switch {
			case p.tx == nil && p.outside:
				// Written outside a transaction: the audit hook refuses
				// such writes first; this is a second guard.
				return nil, ErrNotInTransaction
			case p.tx == nil:
				// A client built on another driver (a test wrapping ent's
				// own) has no queue: nothing to enqueue into.
				return v, nil
			}
			if m.Op().Is(ent.OpCreate) {
				id, _ := lm.ID()
				ids = []int{id}
			}
			vw := viewer.FromContext(ctx)
			for _, id := range ids {
				args := DuplicateCheckArgs{LeadID: id, TenantID: vw.TenantID, Environment: string(vw.Environment)}
				if err := p.tx.Enqueue(ctx, args, nil); err != nil {
					return nil, fmt.Errorf("enqueueing the duplicate check of lead %d: %w", id, err)
				}
			}
			return v, nil
		})
	}
}

// needsCheck reports whether a lead write can change the lead's matches.
func needsCheck(m *gen.LeadMutation) bool {
	if m.Op().Is(ent.OpCreate) {
		return true
	}
	if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
		return false
	}
	_, email := m.Email()
	_, phone := m.Phone()
	return email || phone || m.PhoneCleared() || m.ArchivedAtCleared()
}

// duplicateWorker runs duplicate checks.
type duplicateWorker struct {
	river.WorkerDefaults[DuplicateCheckArgs]
	client    *gen.Client
	intercept func(context.Context, *river.Job[DuplicateCheckArgs]) error
}

// Work checks one lead as the system viewer of its tenant and environment,
// in one transaction: the candidates it finds and their audit events commit
// together. An error makes River retry the job with backoff.
func (w *duplicateWorker) Work(ctx context.Context, job *river.Job[DuplicateCheckArgs]) error {
	a := job.Args
	env := viewer.Environment(a.Environment)
	if a.TenantID <= 0 || a.LeadID <= 0 || !env.Valid() {
		return river.JobCancel(fmt.Errorf("malformed duplicate check: %+v", a))
	}
	if w.intercept != nil {
		if err := w.intercept(ctx, job); err != nil {
			return err
		}
	}
	v := viewer.System(a.TenantID, env)
	v.Request = viewer.Request{ID: fmt.Sprintf("job_%d", job.ID), UserAgent: "leadron-worker"}
	ctx = viewer.NewContext(ctx, v)
	_, err := lifecycle.DetectDuplicates(ctx, w.client, a.LeadID)
	return err
}
