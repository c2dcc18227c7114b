package graph_test

import (
	"fmt"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// Nested connections load in a fixed number of statements, whatever the
// number of rows: the edges are loaded per level, not per row.
func TestNestedConnectionsHaveNoNPlusOne(t *testing.T) {
	const query = `{
		users(first: 50) { totalCount edges { node {
			email
			assignedLeads(first: 10) { totalCount edges { node { email assignee { email } } } }
		} } }
		leads(first: 100) { edges { node {
			email
			assignee { email assignedLeads(first: 3) { totalCount edges { node { email } } } }
		} } }
	}`
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		db, sent := testutil.CountStatements(db)
		w := newWorld(t, db)
		grow := func(users, leadsEach int) {
			ctx := w.acme.System(live)
			for i := range users {
				u := w.User(t, w.acme, fmt.Sprintf("rep%d-%d@acme.test", users, i), "member")
				err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
					for j := range leadsEach {
						if err := c.Lead.Create().SetEmail(fmt.Sprintf("l%d-%d@acme.test", u.ID, j)).
							SetFirstName("L").SetLastName("N").SetAssignedTo(u.ID).Exec(ctx); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		statements := func() (int, int) {
			w.as(t, w.keys.full, `{ __typename }`, nil) // the key's lookup is cached from here on
			w.Server.Close()                            // and its last use recorded
			sent.Reset()
			res := w.as(t, w.keys.full, query, nil)
			if len(res.Errors) > 0 {
				t.Fatalf("%s", res.Body)
			}
			edges, _ := dig(res.Data, "leads", "edges").([]any)
			return sent.Count(), len(edges)
		}

		grow(2, 2)
		small, rowsSmall := statements()
		grow(8, 5)
		large, rowsLarge := statements()
		t.Logf("%d statements for %d leads, %d for %d leads", small, rowsSmall, large, rowsLarge)
		if rowsLarge <= rowsSmall {
			t.Fatalf("the data did not grow: %d → %d leads", rowsSmall, rowsLarge)
		}
		if large != small {
			t.Errorf("%d statements for %d leads but %d for %d: a query per row (N+1)", small, rowsSmall, large, rowsLarge)
		}
		if small > 10 {
			t.Errorf("%d statements for one request; want at most 10", small)
		}
	})
}

// A connection counts its rows only when the client asks for totalCount (or
// for pageInfo without edges): a dashboard page with pageInfo is one
// statement, not a count of the tenant's table on every page.
func TestConnectionsCountOnlyWhenAsked(t *testing.T) {
	tests := []struct {
		name, query string
		statements  int
		want        map[string]any // path "a.b" → value
	}{
		{"edges and pageInfo", `{ leads(first: 2) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }`, 1,
			map[string]any{"hasNextPage": true, "hasPreviousPage": false}},
		{"last page from the end", `{ leads(last: 2) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }`, 1,
			map[string]any{"hasNextPage": false, "hasPreviousPage": true}},
		{"the whole list", `{ leads(first: 3) { edges { node { id } } pageInfo { hasNextPage } } }`, 1,
			map[string]any{"hasNextPage": false}},
		{"totalCount", `{ leads(first: 2) { totalCount edges { node { id } } pageInfo { hasNextPage } } }`, 2,
			map[string]any{"totalCount": float64(3), "hasNextPage": true}},
		{"pageInfo without edges", `{ leads(first: 2) { pageInfo { hasNextPage } } }`, 1,
			map[string]any{"hasNextPage": true}},
	}
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		db, sent := testutil.CountStatements(db)
		w := newWorld(t, db)
		w.acme.NewLead(t, db.Client, live, "second@acme.test")
		w.acme.NewLead(t, db.Client, live, "third@acme.test")
		w.as(t, w.keys.full, `{ __typename }`, nil) // the key's lookup is cached from here on
		w.Server.Close()                            // and its last use recorded
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sent.Reset()
				res := w.as(t, w.keys.full, tc.query, nil)
				if len(res.Errors) > 0 {
					t.Fatalf("%s", res.Body)
				}
				if got := sent.Count(); got != tc.statements {
					t.Errorf("%d statements; want %d", got, tc.statements)
				}
				conn, _ := dig(res.Data, "leads").(map[string]any)
				for key, want := range tc.want {
					got, ok := conn[key]
					if !ok {
						got = dig(conn, "pageInfo", key)
					}
					if got != want {
						t.Errorf("%s = %v; want %v in %s", key, got, want, res.Body)
					}
				}
			})
		}
	})
}

// Connections limited per parent row (entgql's LimitPerRow, for a user's
// first N assigned leads loaded for several users at once) rebuild the
// statement from its select list; each form of the selection keeps every
// column they need.
func TestPerRowLimitedConnections(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.acme.System(live)
		for i := range 2 {
			u := w.User(t, w.acme, fmt.Sprintf("rep%d@acme.test", i), "member")
			if err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
				for j := range 3 {
					if err := c.Lead.Create().SetEmail(fmt.Sprintf("l%d-%d@acme.test", i, j)).
						SetFirstName("L").SetLastName("N").SetAssignedTo(u.ID).Exec(ctx); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct{ name, query string }{
			{"cursors only", `{ users(first: 10) { edges { node { email assignedLeads(first: 2) { edges { cursor } } } } } }`},
			{"nodes' fields", `{ users(first: 10) { edges { node { email assignedLeads(first: 2) { edges { node { email } } } } } } }`},
			{"a resolver's field", `{ users(first: 10) { edges { node { email assignedLeads(first: 2) { edges { node { activities(first: 1) { totalCount } } } } } } } }`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, w.keys.full, tc.query, nil)
				if len(res.Errors) > 0 {
					t.Fatalf("%s", res.Body)
				}
				users, _ := dig(res.Data, "users", "edges").([]any)
				reps := 0
				for i := range users {
					email, _ := dig(res.Data, "users", "edges", i, "node", "email").(string)
					edges, _ := dig(res.Data, "users", "edges", i, "node", "assignedLeads", "edges").([]any)
					if len(email) > 3 && email[:3] == "rep" {
						reps++
						if len(edges) != 2 {
							t.Errorf("%s: %d assigned leads, want the first 2: %s", email, len(edges), res.Body)
						}
					}
				}
				if reps != 2 {
					t.Errorf("%d reps listed, want 2: %s", reps, res.Body)
				}
			})
		}
	})
}
