package rest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/predicate"
	"github.com/leadron/leadron/ent/schema"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/jsonenc"
	"github.com/leadron/leadron/internal/leadops"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/viewer"
)

// Lead is a lead as the API shows it, field for field as the spec's example.
type Lead struct {
	ID           string              `json:"id"`
	TenantID     string              `json:"tenantId"`
	Email        string              `json:"email"`
	FirstName    string              `json:"firstName"`
	LastName     string              `json:"lastName"`
	Phone        *string             `json:"phone"`
	Source       *string             `json:"source"`
	Status       string              `json:"status"`
	Score        int                 `json:"score"`
	AssignedTo   optionalID          `json:"assignedTo"`
	CustomFields customfields.Fields `json:"customFields"`
	CreatedAt    Time                `json:"createdAt"`
	UpdatedAt    Time                `json:"updatedAt"`
	// ArchivedAt appears only on archived leads.
	ArchivedAt *Time `json:"archivedAt,omitempty"`
	// MergedInto appears only on merged leads: the lead it lives on in.
	MergedInto *string `json:"mergedInto,omitempty"`
}

// appendJSON appends l as encoding/json would marshal it.
func (l *Lead) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"id":`...)
	dst = jsonenc.String(dst, l.ID)
	dst = append(dst, `,"tenantId":`...)
	dst = jsonenc.String(dst, l.TenantID)
	dst = append(dst, `,"email":`...)
	dst = jsonenc.String(dst, l.Email)
	dst = append(dst, `,"firstName":`...)
	dst = jsonenc.String(dst, l.FirstName)
	dst = append(dst, `,"lastName":`...)
	dst = jsonenc.String(dst, l.LastName)
	dst = append(dst, `,"phone":`...)
	dst = jsonenc.StringPtr(dst, l.Phone)
	dst = append(dst, `,"source":`...)
	dst = jsonenc.StringPtr(dst, l.Source)
	dst = append(dst, `,"status":`...)
	dst = jsonenc.String(dst, l.Status)
	dst = append(dst, `,"score":`...)
	dst = jsonenc.Int(dst, l.Score)
	dst = append(dst, `,"assignedTo":`...)
	dst = l.AssignedTo.appendJSON(dst)
	dst = append(dst, `,"customFields":`...)
	dst = l.CustomFields.AppendJSON(dst)
	dst = append(dst, `,"createdAt":`...)
	dst = appendTime(dst, l.CreatedAt)
	dst = append(dst, `,"updatedAt":`...)
	dst = appendTime(dst, l.UpdatedAt)
	if l.ArchivedAt != nil {
		dst = append(dst, `,"archivedAt":`...)
		dst = appendTime(dst, *l.ArchivedAt)
	}
	if l.MergedInto != nil {
		dst = append(dst, `,"mergedInto":`...)
		dst = jsonenc.String(dst, *l.MergedInto)
	}
	return append(dst, '}'), nil
}

// optionalID is an ID that may be absent, written as null. It is a value
// rather than a *string so that converting an assigned lead allocates the
// ID's string and nothing else.
type optionalID struct {
	id  string
	set bool
}

func (o optionalID) appendJSON(dst []byte) []byte {
	if !o.set {
		return append(dst, "null"...)
	}
	return jsonenc.String(dst, o.id)
}

// MarshalJSON is for the other encoders (encoding/json, goccy/go-json).
func (o optionalID) MarshalJSON() ([]byte, error) { return o.appendJSON(nil), nil }

// appendLeads appends leads as a JSON array.
func appendLeads(dst []byte, leads []Lead) ([]byte, error) {
	if leads == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '[')
	for i := range leads {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = leads[i].appendJSON(dst); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func (a *api) lead(ctx context.Context, l *ent.Lead) Lead {
	out := Lead{
		ID: a.codec.Encode(l.ID), TenantID: viewer.FromContext(ctx).TenantSlug,
		Email: l.Email, FirstName: l.FirstName, LastName: l.LastName, Phone: l.Phone,
		Status: l.Status.String(), Score: l.Score, CustomFields: l.CustomFields,
		CreatedAt: Time(l.CreatedAt), UpdatedAt: Time(l.UpdatedAt), ArchivedAt: timePtr(l.ArchivedAt),
	}
	out.Source = (*string)(l.Source) // shared, not copied: both are read-only
	if l.AssignedTo != nil {
		out.AssignedTo = optionalID{id: a.codec.Encode(*l.AssignedTo), set: true}
	}
	if l.MergedInto != nil {
		s := a.codec.Encode(*l.MergedInto)
		out.MergedInto = &s
	}
	return out
}

// leadFields are the members a lead body may have.
var leadFields = []string{"email", "firstName", "lastName", "phone", "source", "status", "score", "customFields", "assignedTo"}

// leadInput is a decoded lead body. Validation of the values themselves is
// the data layer's; decoding only checks JSON types.
type leadInput struct {
	email, firstName, lastName, phone, source, status opt[string]
	score                                             opt[int]
	assignedTo                                        opt[int]
	customFields                                      opt[map[string]any]
}

// decodeLead reads a lead body. A body that is not a JSON object is an
// error; field problems are returned as pending, for the caller to report
// together with the data layer's own (see withPending).
func (a *api) decodeLead(r *http.Request) (in leadInput, pending *apperr.Error, err error) {
	o, err := readObject(r)
	if err != nil {
		return leadInput{}, nil, err
	}
	defer o.release()
	o.only(leadFields...)
	in = leadInput{
		email:        notNull(o, "email", member[string](o, "email", "a string")),
		firstName:    notNull(o, "firstName", member[string](o, "firstName", "a string")),
		lastName:     notNull(o, "lastName", member[string](o, "lastName", "a string")),
		phone:        member[string](o, "phone", "a string"),
		source:       member[string](o, "source", "a string"),
		status:       notNull(o, "status", member[string](o, "status", "a string")),
		score:        notNull(o, "score", member[int](o, "score", "an integer")),
		customFields: notNull(o, "customFields", member[map[string]any](o, "customFields", "an object")),
	}
	if ref := member[string](o, "assignedTo", "a user ID"); ref.Set {
		in.assignedTo = opt[int]{Set: true, Null: ref.Null}
		if !ref.Null {
			// An ID that is malformed, of another type or of another
			// tenant gets the same answer (the last from the data layer).
			id, err := a.codec.DecodeAs(ref.V, user.Table)
			if err != nil {
				o.invalid("assignedTo", "must be the ID of a user in this tenant")
			}
			in.assignedTo.V = id
		}
	}
	return in, o.err(), nil
}

func (in leadInput) empty() bool {
	return !in.email.Set && !in.firstName.Set && !in.lastName.Set && !in.phone.Set && !in.source.Set &&
		!in.status.Set && !in.score.Set && !in.assignedTo.Set && !in.customFields.Set
}

// apply sets the input on a create or update mutation. custom fields are
// handled by the caller, since PATCH merges them.
func (in leadInput) apply(m *ent.LeadMutation) {
	setString(in.email, m.SetEmail, nil)
	setString(in.firstName, m.SetFirstName, nil)
	setString(in.lastName, m.SetLastName, nil)
	setString(in.phone, m.SetPhone, m.ClearPhone)
	if in.source.Set {
		if in.source.Null {
			m.ClearSource()
		} else {
			m.SetSource(lead.Source(in.source.V))
		}
	}
	if in.status.Set {
		m.SetStatus(lead.Status(in.status.V))
	}
	if in.score.Set {
		m.SetScore(in.score.V)
	}
	if in.assignedTo.Set {
		if in.assignedTo.Null {
			m.ClearAssignedTo()
		} else {
			m.SetAssignedTo(in.assignedTo.V)
		}
	}
}

func setString(v opt[string], set func(string), clear func()) {
	switch {
	case !v.Set:
	case v.Null && clear != nil:
		clear()
	case !v.Null:
		set(v.V)
	}
}

func (a *api) createLead(w http.ResponseWriter, r *http.Request) {
	in, pending, err := a.decodeLead(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	var l *ent.Lead
	var res response
	err = store.InTx(ctx, a.client, func(c *ent.Client) error {
		b := c.Lead.Create()
		in.apply(b.Mutation())
		if in.customFields.Set {
			fields, err := customfields.FromMap(in.customFields.V)
			if err != nil {
				return err
			}
			b.SetCustomFields(fields)
		}
		l, err = b.Save(ctx)
		if err := withPending(pending, err); err != nil {
			return err
		}
		res, err = respondInTx(ctx, c, r, http.StatusCreated, etag(l.Version), a.lead(ctx, l))
		return err
	})
	if err != nil {
		fail(w, r, err)
		return
	}
	setETag(w, l.Version)
	res.write(w)
}

func (a *api) getLead(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, lead.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	l, err := a.client.Lead.Read(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	setETag(w, l.Version)
	out := a.lead(r.Context(), l)
	okLead(w, r, http.StatusOK, &out)
}

// setETag sets the lead version's ETag. The header is named in its
// canonical form, as net/http writes it anyway: Header.Set would allocate
// the canonical name on every response.
func setETag(w http.ResponseWriter, version int) {
	if version >= 0 && version < len(smallETags) {
		w.Header()["Etag"] = smallETags[version]
		return
	}
	w.Header()["Etag"] = []string{etag(version)}
}

// smallETags are the header values of the versions most leads have, made
// once (shared read-only, as writeRaw's values are).
var smallETags = func() (v [64][]string) {
	for i := range v {
		v[i] = []string{etag(i)}
	}
	return v
}()

// etag is a lead version as an entity tag; If-Match on PATCH compares it.
func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// ifMatch returns the If-Match header's entity tags; "*" matches any.
func ifMatch(r *http.Request) []string {
	h := r.Header.Get("If-Match")
	if h == "" {
		return nil
	}
	var tags []string
	for _, t := range strings.Split(h, ",") {
		tags = append(tags, strings.TrimPrefix(strings.TrimSpace(t), "W/"))
	}
	return tags
}

func precondition(tags []string, version int) error {
	if len(tags) == 0 || slices.Contains(tags, "*") || slices.Contains(tags, etag(version)) {
		return nil
	}
	return errStale
}

var errStale = apperr.New(apperr.PreconditionFailed, "The lead has changed since you read it (If-Match does not match its ETag); read it again and retry")

func (a *api) updateLead(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, lead.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	// force=true lets an owner or admin make a status change the lifecycle
	// does not allow; the data layer checks the role and audits it.
	q := newQuery(r, "force")
	force, _ := q.boolean("force")
	if err := q.err(); err != nil {
		fail(w, r, err)
		return
	}
	in, pending, err := a.decodeLead(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	if force {
		ctx = lifecycle.WithForce(ctx)
	}
	tags := ifMatch(r)
	var l *ent.Lead
	var res response
	for attempt := 1; ; attempt++ {
		err = store.InTx(ctx, a.client, func(c *ent.Client) error {
			cur, err := c.Lead.Get(ctx, id)
			if err == nil {
				err = precondition(tags, cur.Version)
			}
			if err != nil || (in.empty() && pending == nil) {
				l = cur
				return err
			}
			// The update is guarded by the version read, so the custom-field
			// merge is safe against a concurrent PATCH: the loser retries
			// on the new state.
			var patch map[string]any
			if in.customFields.Set {
				patch = in.customFields.V
			}
			l, err = leadops.Update(ctx, c, cur, in.apply, patch)
			if err := withPending(pending, err); err != nil {
				return err
			}
			res, err = respondInTx(ctx, c, r, http.StatusOK, etag(l.Version), a.lead(ctx, l))
			return err
		})
		// With If-Match the client asked for exactly one version: a race
		// is its precondition failing, never a silent retry.
		if !errors.Is(err, leadops.ErrRaced) || attempt == leadops.MaxUpdateAttempts || tags != nil {
			break
		}
	}
	if errors.Is(err, leadops.ErrRaced) && tags != nil {
		err = errStale
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	setETag(w, l.Version)
	if res.body == nil { // nothing to change: no write happened
		out := a.lead(ctx, l)
		okLead(w, r, http.StatusOK, &out)
		return
	}
	res.write(w)
}

// archiveLead is DELETE: a soft delete. Archiving an archived lead changes
// nothing.
func (a *api) archiveLead(w http.ResponseWriter, r *http.Request) {
	a.setArchived(w, r, true)
}

func (a *api) restoreLead(w http.ResponseWriter, r *http.Request) {
	a.setArchived(w, r, false)
}

func (a *api) setArchived(w http.ResponseWriter, r *http.Request, archive bool) {
	id, err := a.pathID(r, lead.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	var check func(version int) error
	if tags := ifMatch(r); tags != nil {
		check = func(version int) error { return precondition(tags, version) }
	}
	var res response
	var l *ent.Lead
	err = store.InTx(ctx, a.client, func(c *ent.Client) error {
		l, err = leadops.SetArchived(ctx, c, id, archive, check)
		if err != nil || archive {
			return err
		}
		res, err = respondInTx(ctx, c, r, http.StatusOK, etag(l.Version), a.lead(ctx, l))
		return err
	})
	if errors.Is(err, leadops.ErrRaced) && check != nil {
		err = errStale
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	if archive {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	setETag(w, l.Version)
	res.write(w)
}

// leadSorts maps the API's sort names to columns.
var leadSorts = map[string]string{
	"createdAt": lead.FieldCreatedAt,
	"updatedAt": lead.FieldUpdatedAt,
	"score":     lead.FieldScore,
}

func (a *api) listLeads(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, "limit", "after", "before", "sort", "status", "source", "assignedTo",
		"minScore", "maxScore", "createdAfter", "createdBefore", "q", "includeArchived")
	pg := q.paging(a.codec, leadSorts, "-createdAt")
	var preds []predicate.Lead
	if s, ok := q.oneOf("status", schema.LeadStatuses); ok {
		preds = append(preds, lead.StatusEQ(lead.Status(s)))
	}
	if s, ok := q.oneOf("source", schema.LeadSources); ok {
		preds = append(preds, lead.SourceEQ(lead.Source(s)))
	}
	if id, ok := q.id("assignedTo", a.codec, user.Table); ok {
		preds = append(preds, lead.AssignedTo(id))
	}
	if n, ok := q.intRange("minScore", 0, 100); ok {
		preds = append(preds, lead.ScoreGTE(n))
	}
	if n, ok := q.intRange("maxScore", 0, 100); ok {
		preds = append(preds, lead.ScoreLTE(n))
	}
	if t, ok := q.time("createdAfter"); ok {
		preds = append(preds, lead.CreatedAtGT(t))
	}
	if t, ok := q.time("createdBefore"); ok {
		preds = append(preds, lead.CreatedAtLT(t))
	}
	if s, ok := q.text("q", 200); ok {
		for _, word := range strings.Fields(s) {
			preds = append(preds, lead.Or(lead.EmailContainsFold(word), lead.FirstNameContainsFold(word), lead.LastNameContainsFold(word)))
		}
	}
	include, _ := q.boolean("includeArchived")
	preds = append(preds, leadops.Listed(include)...)
	if err := q.err(); err != nil {
		fail(w, r, err)
		return
	}
	query := a.client.Lead.Query().Where(preds...)
	rows, p, err := keysetPage(r.Context(), pg, func(where func(*sql.Selector), order []func(*sql.Selector), limit int) ([]*ent.Lead, error) {
		qq := query.Clone().Limit(limit)
		if where != nil {
			qq.Where(predicate.Lead(where))
		}
		for _, o := range order {
			qq.Order(o)
		}
		return qq.All(r.Context())
	}, func(l *ent.Lead) (any, int) { return leadSortValue(l, pg.field), l.ID })
	if err != nil {
		fail(w, r, err)
		return
	}
	out := make([]Lead, len(rows))
	for i, l := range rows {
		out[i] = a.lead(r.Context(), l)
	}
	pageLeads(w, r, out, p)
}

func leadSortValue(l *ent.Lead, field string) any {
	switch field {
	case lead.FieldUpdatedAt:
		return l.UpdatedAt
	case lead.FieldScore:
		return l.Score
	}
	return l.CreatedAt
}
