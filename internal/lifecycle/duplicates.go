package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	gen "github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/duplicatecandidate"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/predicate"
)

// Matched fields of a duplicate candidate, in the order the API lists them.
const (
	MatchEmail = "email"
	MatchPhone = "phone"
)

// MaxMatchesPerField bounds how many other leads one check records per
// field, so a value shared by thousands of leads (a switchboard number)
// cannot make a check unbounded.
const MaxMatchesPerField = 100

// MaxDuplicatesListed bounds the candidates Duplicates returns.
const MaxDuplicatesListed = 100

// MatchQuery is the indexed lookup of duplicate detection: the other active
// leads (not archived, not merged) whose normalized email or phone equals
// l's, in the viewer's tenant and environment (the tenant filter adds those
// two columns, which lead the indexes (tenant_id, environment,
// email_normalized) and (tenant_id, environment, phone_normalized)), with
// the two normalized values, so that a caller can tell what matched. One
// statement serves both fields. It returns nil when l has neither.
func MatchQuery(c *gen.Client, l *gen.Lead) *gen.LeadQuery {
	var on []predicate.Lead
	if l.EmailNormalized != "" {
		on = append(on, lead.EmailNormalized(l.EmailNormalized))
	}
	if l.PhoneNormalized != nil && *l.PhoneNormalized != "" {
		on = append(on, lead.PhoneNormalized(*l.PhoneNormalized))
	}
	if len(on) == 0 {
		return nil
	}
	return c.Lead.Query().Where(lead.IDNEQ(l.ID), lead.ArchivedAtIsNil(), lead.MergedIntoIsNil(), lead.Or(on...)).
		Select(lead.FieldID, lead.FieldEmailNormalized, lead.FieldPhoneNormalized).
		Limit(2 * MaxMatchesPerField)
}

// match is a pair of leads found to share a field: a is the lower ID.
type match struct {
	a, b  int
	field duplicatecandidate.MatchedField
}

// matchesOf sorts MatchQuery's rows into pairs per field, at most
// MaxMatchesPerField each.
func matchesOf(l *gen.Lead, others []*gen.Lead) []match {
	var out []match
	per := map[string]int{}
	for _, o := range others {
		for _, field := range []string{MatchEmail, MatchPhone} {
			if !stillMatches(l, o, field) || per[field] >= MaxMatchesPerField {
				continue
			}
			per[field]++
			out = append(out, match{min(l.ID, o.ID), max(l.ID, o.ID), duplicatecandidate.MatchedField(field)})
		}
	}
	return out
}

// DetectDuplicates finds the leads that match the lead on its normalized
// email or phone and records each new match as a duplicate candidate (an
// audited write). It returns how many candidates it recorded. It is
// idempotent: a match already recorded is not recorded again, so a retried
// job is harmless. Archived, merged and missing leads are not checked. The
// viewer is the system viewer of the lead's tenant and environment.
//
// It reads through client outside any transaction, and only when there is
// a match opens one (client must not be a transaction's) to record what is
// new: most leads have no duplicate, and their check costs two statements.
//
// A pair is stored once: lead_id is the lower ID and duplicate_id the
// higher, whichever of the two was checked. (The lower ID is usually the
// older lead, but not always: server processes draw IDs in blocks.)
func DetectDuplicates(ctx context.Context, client *gen.Client, leadID int) (int, error) {
	l, err := client.Lead.Get(ctx, leadID)
	if gen.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if l.ArchivedAt != nil || l.MergedInto != nil {
		return 0, nil
	}
	q := MatchQuery(client, l)
	if q == nil {
		return 0, nil
	}
	others, err := q.All(ctx)
	if err != nil || len(others) == 0 {
		return 0, err
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return 0, err
	}
	ended := false
	defer func() {
		if !ended { // record panicked: nothing else would end the transaction
			_ = tx.Rollback()
		}
	}()
	recorded, err := record(ctx, tx.Client(), matchesOf(l, others))
	ended = true
	if err != nil {
		return 0, errors.Join(err, tx.Rollback())
	}
	return recorded, tx.Commit()
}

// record stores the matches not stored yet, in c's transaction.
func record(ctx context.Context, c *gen.Client, matches []match) (int, error) {
	recorded := 0
	for _, m := range matches {
		exists, err := c.DuplicateCandidate.Query().Where(
			duplicatecandidate.LeadID(m.a), duplicatecandidate.DuplicateID(m.b), duplicatecandidate.MatchedFieldEQ(m.field),
		).Exist(ctx)
		if err != nil {
			return 0, err
		}
		if exists {
			continue
		}
		if err := c.DuplicateCandidate.Create().SetLeadID(m.a).SetDuplicateID(m.b).SetMatchedField(m.field).Exec(ctx); err != nil {
			return 0, err
		}
		recorded++
	}
	return recorded, nil
}

// Duplicate is another lead that may be the same person as the lead asked
// about.
type Duplicate struct {
	Lead      *gen.Lead
	MatchedOn []string  // MatchEmail and/or MatchPhone, in that order
	CreatedAt time.Time // when the first match between the two was found
}

// Duplicates lists the lead's duplicate candidates, newest match first, at
// most MaxDuplicatesListed. A candidate is listed only while it still holds:
// both leads are active (not archived or merged) and still share the
// matched value, so an archived or merged lead lists none. It fails with a
// not-found error when the viewer cannot see the lead.
func Duplicates(ctx context.Context, c *gen.Client, leadID int) ([]Duplicate, error) {
	l, err := c.Lead.Get(ctx, leadID)
	if err != nil || l.ArchivedAt != nil || l.MergedInto != nil {
		return nil, err
	}
	cands, err := c.DuplicateCandidate.Query().
		Where(duplicatecandidate.Or(duplicatecandidate.LeadID(l.ID), duplicatecandidate.DuplicateID(l.ID))).
		Order(duplicatecandidate.ByCreatedAt(sql.OrderDesc()), duplicatecandidate.ByID(sql.OrderDesc())).
		Limit(10 * MaxDuplicatesListed).
		All(ctx)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	ids := make([]int, 0, len(cands))
	for _, cd := range cands {
		ids = append(ids, other(cd, l.ID))
	}
	others, err := c.Lead.Query().
		Where(lead.IDIn(ids...), lead.ArchivedAtIsNil(), lead.MergedIntoIsNil()).
		All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*gen.Lead, len(others))
	for _, o := range others {
		byID[o.ID] = o
	}
	groups := map[int]*Duplicate{}
	var out []*Duplicate
	for _, cd := range cands {
		o := byID[other(cd, l.ID)]
		field := cd.MatchedField.String()
		if o == nil || !stillMatches(l, o, field) {
			continue
		}
		d := groups[o.ID]
		if d == nil {
			d = &Duplicate{Lead: o, CreatedAt: cd.CreatedAt}
			groups[o.ID] = d
			out = append(out, d)
		}
		if cd.CreatedAt.Before(d.CreatedAt) {
			d.CreatedAt = cd.CreatedAt
		}
		if !slices.Contains(d.MatchedOn, field) {
			d.MatchedOn = append(d.MatchedOn, field)
		}
	}
	slices.SortFunc(out, func(a, b *Duplicate) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.Lead.ID, a.Lead.ID))
	})
	res := make([]Duplicate, 0, min(len(out), MaxDuplicatesListed))
	for _, d := range out[:min(len(out), MaxDuplicatesListed)] {
		slices.SortFunc(d.MatchedOn, func(a, b string) int {
			return cmp.Compare(slices.Index([]string{MatchEmail, MatchPhone}, a), slices.Index([]string{MatchEmail, MatchPhone}, b))
		})
		res = append(res, *d)
	}
	return res, nil
}

func other(cd *gen.DuplicateCandidate, id int) int {
	if cd.LeadID == id {
		return cd.DuplicateID
	}
	return cd.LeadID
}

func stillMatches(a, b *gen.Lead, field string) bool {
	if field == MatchEmail {
		return a.EmailNormalized == b.EmailNormalized
	}
	return a.PhoneNormalized != nil && b.PhoneNormalized != nil && *a.PhoneNormalized == *b.PhoneNormalized
}
