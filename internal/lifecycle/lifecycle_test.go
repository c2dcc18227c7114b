package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

var statuses = []string{"new", "contacted", "qualified", "unqualified"}

// allowed is the transition table as the docs state it, written out pair by
// pair rather than derived from lifecycle.Transitions.
var allowed = map[[2]string]bool{
	{"new", "new"}: true, {"new", "contacted"}: true,
	{"contacted", "contacted"}: true, {"contacted", "qualified"}: true, {"contacted", "unqualified"}: true,
	{"qualified", "qualified"}: true, {"qualified", "contacted"}: true,
	{"unqualified", "unqualified"}: true, {"unqualified", "contacted"}: true,
}

func as(tn testutil.Tenant, role scope.Role) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.KindAPIKey, TenantID: tn.ID, Environment: viewer.Live,
		UserID: tn.OwnerID, Role: role, Scopes: scope.ForRole(role),
	})
}

// Every pair of statuses, through the data layer (REST and GraphQL share
// it): allowed pairs pass; others are a validation error on status naming
// the allowed targets, unless an owner or admin forces them, which is
// audited as lead.status_forced; a member's force is refused.
func TestTransitionTable(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		tn := testutil.NewTenant(t, db, "acme")
		member, admin := as(tn, scope.RoleMember), as(tn, scope.RoleAdmin)
		for _, from := range statuses {
			for _, to := range statuses {
				t.Run(from+"→"+to, func(t *testing.T) {
					l := newLeadIn(t, db, tn, from)
					set := func(ctx context.Context) error {
						return store.InTx(ctx, db.Client, func(c *ent.Client) error {
							return c.Lead.UpdateOneID(l.ID).SetStatus(lead.Status(to)).Exec(ctx)
						})
					}
					err := set(member)
					if allowed[[2]string{from, to}] {
						if err != nil {
							t.Fatalf("refused: %v", err)
						}
						return
					}
					e, ok := apperr.As(err)
					if !ok || e.Code != apperr.Validation || len(e.Fields) != 1 || e.Fields[0].Field != "status" ||
						!strings.Contains(e.Fields[0].Message, "can change to: "+strings.Join(lifecycle.Transitions[from], ", ")) {
						t.Fatalf("got %v, want a validation error on status naming %v", err, lifecycle.Transitions[from])
					}
					if err := set(lifecycle.WithForce(member)); !errors.Is(err, lifecycle.ErrForceNotAllowed) {
						t.Fatalf("a member forced it: %v", err)
					}
					if err := set(lifecycle.WithForce(admin)); err != nil {
						t.Fatalf("an admin could not force it: %v", err)
					}
					got := db.Client.Lead.GetX(admin, l.ID)
					if got.Status.String() != to {
						t.Errorf("status %s after the forced change", got.Status)
					}
					ev := db.Client.AuditEvent.Query().Where(auditevent.ResourceID(l.ID)).
						Order(ent.Desc(auditevent.FieldID)).FirstX(tn.System(viewer.Live))
					if ev.Action != lifecycle.ActionStatusForced || ev.Changes["status"].Old != from || ev.Changes["status"].New != to {
						t.Errorf("audit event %s %v, want %s from %s to %s", ev.Action, ev.Changes, lifecycle.ActionStatusForced, from, to)
					}
				})
			}
		}
		// A bulk update checks every row: one lead that may not move
		// refuses the whole update.
		a, b := newLeadIn(t, db, tn, "new"), newLeadIn(t, db, tn, "contacted")
		err := store.InTx(member, db.Client, func(c *ent.Client) error {
			return c.Lead.Update().Where(lead.IDIn(a.ID, b.ID)).SetStatus(lead.StatusQualified).Exec(member)
		})
		if e, ok := apperr.As(err); !ok || e.Fields[0].Field != "status" {
			t.Fatalf("bulk update: %v", err)
		}
		if got := db.Client.Lead.GetX(member, b.ID).Status; got != lead.StatusContacted {
			t.Errorf("the refused bulk update changed a lead to %s", got)
		}
	})
}

func newLeadIn(t *testing.T, db *store.DB, tn testutil.Tenant, status string) *ent.Lead {
	t.Helper()
	ctx := tn.System(viewer.Live)
	var l *ent.Lead
	err := store.InTx(ctx, db.Client, func(c *ent.Client) (err error) {
		l, err = c.Lead.Create().SetEmail(status + "@acme.test").SetFirstName("J").SetLastName("D").
			SetStatus(lead.Status(status)).Save(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// The duplicate lookup is an index search, not a table scan: EXPLAIN of the
// very SQL ent sends, on a table of thousands of leads, uses the
// (tenant_id, environment, email_normalized) and (…, phone_normalized)
// indexes.
func TestDuplicateLookupUsesIndexes(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		tn := testutil.NewTenant(t, db, "acme")
		other := testutil.NewTenant(t, db, "globex")
		ctx := context.Background()
		for _, id := range []int{tn.ID, other.ID} {
			bulkLeads(t, db, id, 3000)
		}
		sys := tn.System(viewer.Live)
		var l *ent.Lead
		if err := store.InTx(sys, db.Client, func(c *ent.Client) (err error) {
			l, err = c.Lead.Create().SetEmail("u17@bulk.test").SetPhone("+1 555 0017").SetFirstName("J").SetLastName("D").Save(sys)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		analyze := "ANALYZE leads"
		if db.Dialect == dialect.SQLite {
			analyze = "ANALYZE"
		}
		if _, err := db.SQL.ExecContext(ctx, analyze); err != nil {
			t.Fatal(err)
		}
		recorded, sent := testutil.CountStatements(db)
		client := recorded.Client
		sent.Reset()
		matches, err := lifecycle.MatchQuery(client, l).All(sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(matches) != 1 {
			t.Errorf("%d matches, want the 1 bulk lead (it shares the email and the phone)", len(matches))
		}
		stmts := sent.Recorded()
		if len(stmts) != 1 {
			t.Fatalf("%d statements, want one query for both fields", len(stmts))
		}
		q := stmts[0]
		plan := explain(t, db, q.SQL, q.Args)
		t.Logf("lookup: %s\n%s", q.SQL, plan)
		for _, index := range []string{"lead_tenant_id_environment_email_normalized", "lead_tenant_id_environment_phone_normalized"} {
			if !strings.Contains(plan, index) {
				t.Errorf("the lookup does not use %s:\n%s", index, plan)
			}
		}
		for _, scan := range []string{"Seq Scan on leads", "SCAN leads\n", "SCAN TABLE leads"} {
			if strings.Contains(plan+"\n", scan) {
				t.Errorf("the lookup scans the table:\n%s", plan)
			}
		}
	})
}

func explain(t *testing.T, db *store.DB, query string, args []any) string {
	t.Helper()
	prefix := "EXPLAIN "
	if db.Dialect == dialect.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.SQL.Query(prefix+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1])) // the plan text / detail
	}
	return strings.Join(lines, "\n")
}

// bulkLeads inserts n leads straight into the table (bypassing hooks, as
// `leadron seed` does), each with its own email and phone.
func bulkLeads(t *testing.T, db *store.DB, tenantID, n int) {
	t.Helper()
	var q string
	if db.Dialect == dialect.Postgres {
		q = `INSERT INTO leads (created_at, updated_at, environment, tenant_id, email, email_normalized, first_name, last_name,
			phone, phone_normalized, status, score, custom_fields, version)
			SELECT now(), now(), 'live', $1, 'u' || g || '@bulk.test', 'u' || g || '@bulk.test', 'U', 'B',
			'+1555' || lpad(g::text, 4, '0'), '+1555' || lpad(g::text, 4, '0'), 'new', 0, '{}', 1
			FROM generate_series(1, $2) AS g`
	} else {
		q = `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?2)
			INSERT INTO leads (created_at, updated_at, environment, tenant_id, email, email_normalized, first_name, last_name,
			phone, phone_normalized, status, score, custom_fields, version)
			SELECT datetime('now'), datetime('now'), 'live', ?1, 'u' || n || '@bulk.test', 'u' || n || '@bulk.test', 'U', 'B',
			'+1555' || substr('0000' || n, -4), '+1555' || substr('0000' || n, -4), 'new', 0, '{}', 1 FROM g`
	}
	if _, err := db.SQL.Exec(q, tenantID, n); err != nil {
		t.Fatalf("bulk insert: %v", err)
	}
}

// A phone is normalized in its tenant's default region.
func TestPhoneReadInTenantRegion(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		us := testutil.NewTenant(t, db, "acme")
		gb := testutil.NewTenant(t, db, "globex")
		if err := db.Client.Tenant.UpdateOneID(gb.ID).SetDefaultRegion("GB").Exec(gb.System(viewer.Live)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			tn          testutil.Tenant
			phone, want string
		}{
			{us, "(555) 0199", "+15550199"},
			{gb, "020 7946 0958", "+442079460958"},
			{gb, "+1 555 0199", "+15550199"},
		} {
			ctx := tc.tn.System(viewer.Live)
			var l *ent.Lead
			if err := store.InTx(ctx, db.Client, func(c *ent.Client) (err error) {
				l, err = c.Lead.Create().SetEmail("p@x.test").SetFirstName("P").SetLastName("N").SetPhone(tc.phone).Save(ctx)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if l.PhoneNormalized == nil || *l.PhoneNormalized != tc.want || *l.Phone != tc.phone {
				t.Errorf("%s in %s: stored %v normalized %v, want %s", tc.phone, tc.tn.Slug, *l.Phone, l.PhoneNormalized, tc.want)
			}
		}
	})
}

// A check reads outside any transaction and opens one only to record a
// match: a lead without duplicates costs two statements (the lead, and one
// lookup for both fields), one with a duplicate its writes too.
func TestDuplicateCheckStatements(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, plain *store.DB) {
		tn := testutil.NewTenant(t, plain, "acme")
		sys := tn.System(viewer.Live)
		create := func(email, phone string) *ent.Lead {
			t.Helper()
			var l *ent.Lead
			if err := store.InTx(sys, plain.Client, func(c *ent.Client) (err error) {
				l, err = c.Lead.Create().SetEmail(email).SetPhone(phone).SetFirstName("J").SetLastName("D").Save(sys)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return l
		}
		alone := create("alone@acme.test", "+1 555 0100")
		create("jane@acme.test", "+1 555 0101")
		twin := create("JANE@acme.test", "+1 555 0101") // the same email and phone
		db, sent := testutil.CountStatements(plain)
		tests := []struct {
			name       string
			lead       *ent.Lead
			recorded   int
			statements int
			tx         bool
		}{
			{"no duplicate", alone, 0, 2, false},
			// The lead, the lookup; then BEGIN, and per field an existence
			// check, the candidate and its audit event; COMMIT.
			{"a duplicate on both fields", twin, 2, 2 + 1 + 2*3 + 1, true},
			{"checked again: nothing new", twin, 0, 2 + 1 + 2 + 1, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sent.Reset()
				n, err := lifecycle.DetectDuplicates(sys, db.Client, tc.lead.ID)
				if err != nil {
					t.Fatal(err)
				}
				stmts := sent.Sent()
				if n != tc.recorded || len(stmts) != tc.statements || slices.Contains(stmts, "BEGIN") != tc.tx {
					t.Errorf("recorded %d in %d statements (transaction %v); want %d in %d (%v): %q",
						n, len(stmts), slices.Contains(stmts, "BEGIN"), tc.recorded, tc.statements, tc.tx, stmts)
				}
			})
		}
	})
}

// A merged lead stays as its merge left it, whoever writes and however:
// changing or restoring it is refused by the data layer, a bulk update
// passes it by, and its survivor and other leads change as ever.
func TestMergedLeadsAreFrozen(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		tn := testutil.NewTenant(t, db, "acme")
		ctx := tn.System(viewer.Live)
		survivor := tn.NewLead(t, db.Client, viewer.Live, "keep@acme.test")
		dup := tn.NewLead(t, db.Client, viewer.Live, "dup@acme.test")
		other := tn.NewLead(t, db.Client, viewer.Live, "other@acme.test")
		write := func(op func(c *ent.Client) error) error { return store.InTx(ctx, db.Client, op) }
		if err := write(func(c *ent.Client) error { _, err := lifecycle.Merge(ctx, c, survivor.ID, []int{dup.ID}); return err }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			op   func(c *ent.Client) error
			want error
		}{
			{"change it", func(c *ent.Client) error { return c.Lead.UpdateOneID(dup.ID).SetScore(9).Exec(ctx) }, lifecycle.ErrMerged},
			{"restore it", func(c *ent.Client) error { return c.Lead.UpdateOneID(dup.ID).ClearArchivedAt().Exec(ctx) }, lifecycle.ErrRestoreMerged},
			{"change its survivor", func(c *ent.Client) error { return c.Lead.UpdateOneID(survivor.ID).SetScore(9).Exec(ctx) }, nil},
			{"bulk update", func(c *ent.Client) error { return c.Lead.Update().SetScore(7).Exec(ctx) }, nil},
		} {
			if err := write(tc.op); !errors.Is(err, tc.want) && err != tc.want {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		scores := map[int]int{}
		for _, l := range db.Client.Lead.Query().AllX(ctx) {
			scores[l.ID] = l.Score
		}
		if scores[dup.ID] != dup.Score || scores[survivor.ID] != 7 || scores[other.ID] != 7 {
			t.Errorf("scores %v: want the merged lead's unchanged (%d), the others 7", scores, dup.Score)
		}
		if l := db.Client.Lead.GetX(ctx, dup.ID); l.ArchivedAt == nil || l.MergedInto == nil || *l.MergedInto != survivor.ID {
			t.Errorf("the merged lead was changed: %+v", l)
		}
	})
}
