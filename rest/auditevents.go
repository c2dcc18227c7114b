package rest

import (
	"context"
	"net/http"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/predicate"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/audit"
	"github.com/leadron/leadron/internal/diff"
	"github.com/leadron/leadron/internal/viewer"
)

// AuditEvent is one entry of the audit log as the API shows it.
type AuditEvent struct {
	ID           string                 `json:"id"`
	Environment  string                 `json:"environment"`
	Action       string                 `json:"action"`
	ResourceType string                 `json:"resourceType"`
	ResourceID   string                 `json:"resourceId"`
	ActorID      *string                `json:"actorId"`
	OnBehalfOfID *string                `json:"onBehalfOfId"`
	APIKeyID     *string                `json:"apiKeyId"`
	RequestID    string                 `json:"requestId"`
	IP           string                 `json:"ip"`
	UserAgent    string                 `json:"userAgent"`
	Changes      map[string]diff.Change `json:"changes"`
	CreatedAt    Time                   `json:"createdAt"`
}

func (a *api) auditEvent(tenantSlug string, e *ent.AuditEvent) AuditEvent {
	out := AuditEvent{
		ID: a.codec.Encode(e.ID), Environment: e.Environment, Action: e.Action,
		ResourceType: e.ResourceType, ResourceID: a.codec.Encode(e.ResourceID),
		ActorID: a.encodePtr(e.ActorID), OnBehalfOfID: a.encodePtr(e.OnBehalfOfID), APIKeyID: a.encodePtr(e.APIKeyID),
		RequestID: e.RequestID, IP: e.IP, UserAgent: e.UserAgent,
		CreatedAt: Time(e.CreatedAt),
	}
	present := audit.Presenter{EncodeID: a.codec.Encode, TenantSlug: tenantSlug, Time: func(t time.Time) any { return Time(t) }}
	out.Changes = present.Changes(e.Changes)
	return out
}

func (a *api) encodePtr(id *int) *string {
	if id == nil {
		return nil
	}
	s := a.codec.Encode(*id)
	return &s
}

var auditSorts = map[string]string{"createdAt": auditevent.FieldCreatedAt}

// listAuditEvents reads the log of the caller's tenant and environment,
// newest first.
func (a *api) listAuditEvents(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, "limit", "after", "before", "sort", "resourceType", "resourceId", "actorId", "action", "createdAfter", "createdBefore")
	pg := q.paging(a.codec, auditSorts, "-createdAt")
	var preds []predicate.AuditEvent
	if s, ok := q.oneOf("resourceType", audit.ResourceTypes); ok {
		preds = append(preds, auditevent.ResourceType(s))
	}
	if s, ok := q.get("resourceId"); ok {
		// Any type of resource is logged, so the ID's type is not checked.
		if id, err := a.codec.Decode(s); err != nil {
			q.add("resourceId", apperr.FieldInvalid, "resourceId must be a valid ID")
		} else {
			preds = append(preds, auditevent.ResourceID(id))
		}
	}
	if id, ok := q.id("actorId", a.codec, user.Table); ok {
		preds = append(preds, auditevent.ActorID(id))
	}
	if s, ok := q.text("action", 100); ok {
		preds = append(preds, auditevent.Action(s))
	}
	if t, ok := q.time("createdAfter"); ok {
		preds = append(preds, auditevent.CreatedAtGT(t))
	}
	if t, ok := q.time("createdBefore"); ok {
		preds = append(preds, auditevent.CreatedAtLT(t))
	}
	if err := q.err(); err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	query := a.client.AuditEvent.Query().Where(preds...)
	a.auditEventPage(w, r, ctx, pg, query)
}

// auditEventPage writes one keyset page of the events query matches, read
// with ctx's viewer (the request's own viewer shows the tenant).
func (a *api) auditEventPage(w http.ResponseWriter, r *http.Request, ctx context.Context, pg paging, query *ent.AuditEventQuery) {
	rows, p, err := keysetPage(ctx, pg, func(where func(*sql.Selector), order []func(*sql.Selector), limit int) ([]*ent.AuditEvent, error) {
		qq := query.Clone().Limit(limit)
		if where != nil {
			qq.Where(predicate.AuditEvent(where))
		}
		for _, o := range order {
			qq.Order(o)
		}
		return qq.All(ctx)
	}, func(e *ent.AuditEvent) (any, int) { return e.CreatedAt, e.ID })
	if err != nil {
		fail(w, r, err)
		return
	}
	slug := viewer.FromContext(r.Context()).TenantSlug
	out := make([]AuditEvent, len(rows))
	for i, e := range rows {
		out[i] = a.auditEvent(slug, e)
	}
	page(w, r, out, p)
}
