package rest

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
)

// lifecycleRoutes are a lead's duplicates, merge and activity timeline.
func (a *api) lifecycleRoutes(r chi.Router) {
	leads := a.scopes(scope.Leads)
	r.With(noQuery, leads.read).Get("/leads/{id}/duplicates", a.listDuplicates)
	r.With(noQuery, leads.write).Post("/leads/{id}/merge", a.mergeLeads)
	r.With(leads.read).Get("/leads/{id}/activities", a.listActivities)
}

// DuplicateCandidate is a lead that may be the same person as the lead
// asked about.
type DuplicateCandidate struct {
	Lead      Lead     `json:"lead"`
	MatchedOn []string `json:"matchedOn"`
	CreatedAt Time     `json:"createdAt"`
}

func (a *api) listDuplicates(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, lead.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	dups, err := lifecycle.Duplicates(ctx, a.client, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := make([]DuplicateCandidate, len(dups))
	for i, d := range dups {
		out[i] = DuplicateCandidate{Lead: a.lead(ctx, d.Lead), MatchedOn: d.MatchedOn, CreatedAt: Time(d.CreatedAt)}
	}
	ok(w, r, http.StatusOK, out)
}

// mergeLeads is POST /leads/{id}/merge {"duplicateIds":[…]}: the leads
// listed are merged into the one in the path, in one transaction.
func (a *api) mergeLeads(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, lead.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	o, err := readObject(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	defer o.release()
	o.only("duplicateIds")
	o.require("duplicateIds")
	list := notNull(o, "duplicateIds", member[[]string](o, "duplicateIds", "an array of lead IDs"))
	var ids []int
	unknown := false
	if list.Set {
		switch n := len(list.V); {
		case n == 0 || n > lifecycle.MaxMerge:
			o.invalid("duplicateIds", "duplicateIds must list 1 to "+itoa(lifecycle.MaxMerge)+" lead IDs")
		default:
			for _, s := range list.V {
				// A malformed ID, another type's and another tenant's are
				// the same 404, like the path's.
				dup, err := a.codec.DecodeAs(s, lead.Table)
				if err != nil {
					unknown = true
				}
				ids = append(ids, dup)
			}
		}
	}
	if err := o.err(); err != nil {
		fail(w, r, err)
		return
	}
	if unknown {
		fail(w, r, apperr.New(apperr.NotFound, "Resource not found"))
		return
	}
	ctx := r.Context()
	var l *ent.Lead
	var res response
	err = store.InTx(ctx, a.client, func(c *ent.Client) (err error) {
		if l, err = lifecycle.Merge(ctx, c, id, ids); err != nil {
			return err
		}
		res, err = respondInTx(ctx, c, r, http.StatusOK, etag(l.Version), a.lead(ctx, l))
		return err
	})
	if err != nil {
		fail(w, r, err)
		return
	}
	setETag(w, l.Version)
	res.write(w)
}

// listActivities is the lead's timeline: its audit events, and those of the
// leads merged into it, newest first, read from the audit log itself.
func (a *api) listActivities(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, lead.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	q := newQuery(r, "limit", "after", "before")
	pg := q.paging(a.codec, activitySorts, "-createdAt")
	if err := q.err(); err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	logCtx, query, err := lifecycle.Activities(ctx, a.client, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	a.auditEventPage(w, r, logCtx, pg, query)
}

// activitySorts: a timeline is always newest first.
var activitySorts = map[string]string{"createdAt": auditevent.FieldCreatedAt}
