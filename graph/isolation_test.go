package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/leadops"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

const nodeQuery = `query($id: ID!) { node(id: $id) { id ... on Lead { email firstName } ... on User { email } } }`

// node(id:) answers another tenant's ID, another environment's, and a
// malformed one exactly as it answers an ID that exists nowhere.
func TestNodeIsolation(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		if res := w.as(t, w.keys.full, nodeQuery, map[string]any{"id": w.mine}); str(dig(res.Data, "node", "id")) != w.mine {
			t.Fatalf("own lead: %s", res.Body)
		}
		if res := w.as(t, w.keys.full, nodeQuery, map[string]any{"id": w.Codec.Encode(w.member.ID)}); str(dig(res.Data, "node", "email")) != "member@acme.test" {
			t.Fatalf("own user: %s", res.Body)
		}
		nowhere := w.Codec.Encode(db.Client.Lead.Query().Aggregate(ent.Max("id")).IntX(w.acme.System(live)) + 1000)
		var bodies []string
		cases := []struct{ name, id string }{
			{"no such lead", nowhere},
			{"another tenant's lead", w.theirs},
			{"another environment's lead", w.mineSandbox},
			{"another tenant's user", w.Codec.Encode(w.globex.OwnerID)},
			{"malformed", "not-an-id"},
			{"an ID of no type", "AAAAAAAAAAAAAAAA"},
		}
		// A key that may read leads only answers the same for every ID that
		// is not a user's (any user's, its own tenant's too, needs
		// users:read): no case reaches another type's privacy rules (a
		// malformed ID once fell in the API keys' ID range, and answered
		// insufficient_scope).
		var keyed []struct{ name, id, key string }
		for _, c := range cases {
			keyed = append(keyed, struct{ name, id, key string }{c.name, c.id, w.keys.full})
			if !strings.Contains(c.name, "user") {
				keyed = append(keyed, struct{ name, id, key string }{c.name + ", leads-only key", c.id, w.keys.writer})
			}
		}
		for _, tc := range keyed {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, tc.key, nodeQuery, map[string]any{"id": tc.id})
				if res.Status != http.StatusOK || dig(res.Data, "node") != nil {
					t.Fatalf("want node null: %d %s", res.Status, res.Body)
				}
				if got := res.codes(); len(got) != 1 || got[0] != "not_found" {
					t.Errorf("codes %v, want [not_found]", got)
				}
				for _, leak := range []string{"globex", "sandbox@", "theirs", "Jane"} {
					if strings.Contains(res.Body, leak) {
						t.Errorf("body leaks %q: %s", leak, res.Body)
					}
				}
				bodies = append(bodies, res.Body)
			})
		}
		for i := range bodies {
			if bodies[i] != bodies[0] {
				t.Errorf("answers differ, so they tell the cases apart:\n%s\n%s", bodies[0], bodies[i])
			}
		}

		res := w.as(t, w.keys.full, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": []string{w.mine, w.theirs, w.mineSandbox, "not-an-id"}})
		nodes, _ := dig(res.Data, "nodes").([]any)
		if len(nodes) != 4 || str(dig(nodes, 0, "id")) != w.mine || nodes[1] != nil || nodes[2] != nil || nodes[3] != nil {
			t.Errorf("nodes: %s", res.Body)
		}
		if strings.Contains(res.Body, "globex") || strings.Contains(res.Body, "sandbox@") {
			t.Errorf("nodes leaks: %s", res.Body)
		}
		// The malformed ID's error is the other tenant's, at its own index.
		var paths []string
		for _, e := range res.Errors {
			paths = append(paths, fmt.Sprint(e.Path...)+" "+e.code()+" "+e.Message)
		}
		if len(paths) != 3 || strings.TrimPrefix(paths[1], "nodes2") != strings.TrimPrefix(paths[2], "nodes3") || strings.TrimPrefix(paths[0], "nodes1") != strings.TrimPrefix(paths[2], "nodes3") {
			t.Errorf("the three unknown IDs' errors differ: %q", paths)
		}
	})
}

// Filters that name another type's rows (the assignee) must never reveal
// another tenant's data; and no filter walks an edge into the users table,
// whose subquery no privacy rule would see (hasAssigneeWith is not offered,
// see TestErrors).
func TestWhereAcrossEdges(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		assign := func(tn testutil.Tenant, email string, userID int) {
			ctx := tn.System(live)
			if err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
				return c.Lead.Create().SetEmail(email).SetFirstName("A").SetLastName("B").SetAssignedTo(userID).Exec(ctx)
			}); err != nil {
				t.Fatal(err)
			}
		}
		assign(w.acme, "assigned@acme.test", w.member.ID)
		assign(w.globex, "assigned@globex.test", w.globex.OwnerID)

		const q = `query($w: LeadWhereInput) { leads(first: 100, where: $w) { totalCount edges { node { email assignee { email } } } } }`
		for _, tc := range []struct {
			name  string
			where map[string]any
			want  []string
		}{
			{"assignee in my tenant", map[string]any{"assignedTo": w.Codec.Encode(w.member.ID)}, []string{"assigned@acme.test"}},
			{"any assignee", map[string]any{"assignedToNotNil": true}, []string{"assigned@acme.test"}},
			{"another tenant's user by ID", map[string]any{"assignedTo": w.Codec.Encode(w.globex.OwnerID)}, nil},
			{"other tenants' users by ID", map[string]any{"assignedToIn": []any{w.Codec.Encode(w.globex.OwnerID), w.Codec.Encode(w.member.ID)}}, []string{"assigned@acme.test"}},
			{"or across tenants", map[string]any{"or": []any{
				map[string]any{"assignedTo": w.Codec.Encode(w.globex.OwnerID)},
				map[string]any{"emailContains": "globex"},
			}}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, w.keys.full, q, map[string]any{"w": tc.where})
				if len(res.Errors) > 0 {
					t.Fatalf("%s", res.Body)
				}
				var got []string
				edges, _ := dig(res.Data, "leads", "edges").([]any)
				for _, e := range edges {
					got = append(got, str(dig(e, "node", "email")))
				}
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("leads %v, want %v", got, tc.want)
				}
				if strings.Contains(res.Body, "globex") {
					t.Errorf("body reveals the other tenant: %s", res.Body)
				}
			})
		}
		res := w.as(t, w.keys.full, `{ users(first: 100, where: {emailContains: "globex"}) { totalCount } apiKeys(first: 100) { edges { node { owner { email } } } } }`, nil)
		if dig(res.Data, "users", "totalCount") != float64(0) || strings.Contains(res.Body, "globex") {
			t.Errorf("users or keys reveal the other tenant: %s", res.Body)
		}
	})
}

// Lists show what REST's lists show: merged leads never, archived leads
// only with includeArchived.
func TestLeadsListLikeREST(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.acme.System(live)
		mine, _ := w.Codec.Decode(w.mine)
		archived := w.acme.NewLead(t, db.Client, live, "archived@acme.test")
		merged := w.acme.NewLead(t, db.Client, live, "merged@acme.test")
		if err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
			if _, err := lifecycle.Merge(ctx, c, mine, []int{merged.ID}); err != nil {
				return err
			}
			_, err := leadops.Archive(ctx, c, archived.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			args string
			want string
		}{
			{`first: 10`, "mine@acme.test"},
			{`first: 10, includeArchived: false`, "mine@acme.test"},
			{`first: 10, includeArchived: true`, "archived@acme.test,mine@acme.test"},
			{`first: 10, includeArchived: true, where: {archivedAtNotNil: true}`, "archived@acme.test"},
		} {
			res := w.as(t, w.keys.full, `{ leads(`+tc.args+`, orderBy: [{field: EMAIL}]) { totalCount edges { node { email } } } }`, nil)
			var got []string
			edges, _ := dig(res.Data, "leads", "edges").([]any)
			for _, e := range edges {
				got = append(got, str(dig(e, "node", "email")))
			}
			if strings.Join(got, ",") != tc.want || dig(res.Data, "leads", "totalCount") != float64(len(got)) {
				t.Errorf("leads(%s) = %v, want %s: %s", tc.args, got, tc.want, res.Body)
			}
			rest := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads?sort=createdAt&includeArchived=" + fmt.Sprint(strings.Contains(tc.args, "includeArchived: true")), Key: w.keys.full})
			if n := len(rest.JSON(t)["data"].([]any)); !strings.Contains(tc.args, "where") && n != len(got) {
				t.Errorf("REST lists %d leads, GraphQL %d", n, len(got))
			}
		}
	})
}

// No write attaches leads to a survivor except a merge: GraphQL's inputs
// have no merged-leads edge, and the data layer refuses the edge and a
// merged_into of another tenant or environment, so no tenant can archive
// another's leads or read them through the edge.
func TestMergeEdgeIsNotWritable(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for _, tc := range []struct{ name, query string }{
			{"create", `mutation($ids: [ID!]) { createLead(input: {email: "x@acme.test", firstName: "X", lastName: "Y", mergedLeadIDs: $ids}) { id } }`},
			{"update", `mutation($id: ID!, $ids: [ID!]) { updateLead(id: $id, input: {addMergedLeadIDs: $ids}) { id } }`},
			{"filter", `query($ids: [ID!]) { leads(first: 5, where: {hasMergedLeadsWith: [{idIn: $ids}]}) { totalCount } }`},
		} {
			res := w.as(t, w.keys.full, tc.query, map[string]any{"id": w.mine, "ids": []string{w.theirs, w.mineSandbox}})
			if len(res.Errors) == 0 || dig(res.Data, "createLead") != nil || dig(res.Data, "updateLead") != nil || dig(res.Data, "leads") != nil {
				t.Errorf("%s through the merged-leads edge was accepted: %s", tc.name, res.Body)
			}
		}

		ctx := w.acme.As(live, scope.ForRole(scope.RoleOwner))
		decode := func(id string) int {
			n, err := w.Codec.Decode(id)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		mine, theirs, sandboxLead := decode(w.mine), decode(w.theirs), decode(w.mineSandbox)
		other := w.acme.NewLead(t, db.Client, live, "other@acme.test")
		for _, tc := range []struct {
			name  string
			write func(c *ent.Client) error
		}{
			{"the edge, another tenant's lead", func(c *ent.Client) error { return c.Lead.UpdateOneID(mine).AddMergedLeadIDs(theirs).Exec(ctx) }},
			{"the edge, own lead", func(c *ent.Client) error { return c.Lead.UpdateOneID(mine).AddMergedLeadIDs(other.ID).Exec(ctx) }},
			{"merged_into another tenant's lead", func(c *ent.Client) error { return c.Lead.UpdateOneID(mine).SetMergedInto(theirs).Exec(ctx) }},
			{"merged_into another environment's lead", func(c *ent.Client) error { return c.Lead.UpdateOneID(mine).SetMergedInto(sandboxLead).Exec(ctx) }},
		} {
			err := store.InTx(ctx, db.Client, tc.write)
			if !errors.Is(err, lifecycle.ErrMergeEdge) {
				t.Errorf("%s: %v, want ErrMergeEdge", tc.name, err)
			}
		}
		for _, l := range []struct {
			ctx context.Context
			id  int
		}{{w.globex.System(live), theirs}, {w.acme.System(sandbox), sandboxLead}, {w.acme.System(live), mine}} {
			if got := db.Client.Lead.GetX(l.ctx, l.id); got.MergedInto != nil {
				t.Errorf("lead %d was merged into %d", l.id, *got.MergedInto)
			}
		}
	})
}
