package graph_test

import (
	"slices"
	"testing"

	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// detect records the lead's duplicate candidates as the River job would.
func detect(t *testing.T, w *world, id int) {
	t.Helper()
	if _, err := lifecycle.DetectDuplicates(w.acme.System(live), w.db.Client, id); err != nil {
		t.Fatal(err)
	}
}

const duplicatesQuery = `query($id: ID!) { node(id: $id) { ... on Lead { duplicates { lead { id email } matchedOn createdAt } } } }`

func TestLeadDuplicates(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		twin := w.acme.NewLead(t, db.Client, live, "MINE@acme.test")
		detect(t, w, twin.ID)
		twinID := w.Codec.Encode(twin.ID)
		for _, tc := range []struct {
			name, key, id string
			want          []string // the duplicates' IDs
		}{
			{"the first lead sees its twin", w.keys.full, w.mine, []string{twinID}},
			{"the twin sees the first lead", w.keys.full, twinID, []string{w.mine}},
			{"a lead without a match has none", w.keys.sandbox, w.mineSandbox, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, tc.key, duplicatesQuery, map[string]any{"id": tc.id})
				if len(res.Errors) > 0 {
					t.Fatalf("errors: %s", res.Body)
				}
				dups, _ := dig(res.Data, "node", "duplicates").([]any)
				got := []string{}
				for i := range dups {
					got = append(got, str(dig(dups, i, "lead", "id")))
					if m := dig(dups, i, "matchedOn"); len(m.([]any)) != 1 || m.([]any)[0] != "email" {
						t.Errorf("matchedOn = %v, want [email]", m)
					}
					if str(dig(dups, i, "createdAt")) == "" {
						t.Errorf("no createdAt: %s", res.Body)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("duplicates = %v, want %v (%s)", got, tc.want, res.Body)
				}
			})
		}
	})
}

const mergeMutation = `mutation($id: ID!, $dups: [ID!]!) { mergeLeads(id: $id, duplicateIDs: $dups) { id mergedLeads { id } } }`

func TestMergeLeads(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		twin := w.Codec.Encode(w.acme.NewLead(t, db.Client, live, "mine@acme.test").ID)
		for _, tc := range []struct {
			name, key, id string
			dups          []string
			code, field   string // the error expected; "" for none
		}{
			{"another tenant's duplicate", w.keys.full, w.mine, []string{w.theirs}, "not_found", ""},
			{"into another tenant's lead", w.keys.full, w.theirs, []string{twin}, "not_found", ""},
			{"another tenant's key", w.keys.globex, w.mine, []string{twin}, "not_found", ""},
			{"into itself", w.keys.full, w.mine, []string{w.mine}, "validation_failed", "duplicateIDs"},
			{"without the write scope", w.keys.readOnly, w.mine, []string{twin}, "insufficient_scope", ""},
			{"the twin into the first lead", w.keys.full, w.mine, []string{twin}, "", ""},
			{"again, once merged", w.keys.full, w.mine, []string{twin}, "validation_failed", "duplicateIDs"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, tc.key, mergeMutation, map[string]any{"id": tc.id, "dups": tc.dups})
				if tc.code == "" {
					if len(res.Errors) > 0 {
						t.Fatalf("errors: %s", res.Body)
					}
					if got := str(dig(res.Data, "mergeLeads", "id")); got != tc.id {
						t.Errorf("survivor = %q, want %q", got, tc.id)
					}
					if got := str(dig(res.Data, "mergeLeads", "mergedLeads", 0, "id")); got != twin {
						t.Errorf("mergedLeads[0] = %q, want %q (%s)", got, twin, res.Body)
					}
					return
				}
				if len(res.Errors) != 1 || res.Errors[0].code() != tc.code || res.Errors[0].field() != tc.field {
					t.Fatalf("errors = %v, want one %s on %q: %s", res.codes(), tc.code, tc.field, res.Body)
				}
				if res.Data["mergeLeads"] != nil {
					t.Errorf("a refused merge returned a lead: %s", res.Body)
				}
			})
		}
	})
}

const activitiesQuery = `query($id: ID!, $first: Int) { node(id: $id) { ... on Lead { activities(first: $first) { totalCount edges { node { action resourceID } } } } } }`

func TestLeadActivities(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		res := w.as(t, w.keys.full, `mutation($id: ID!) { updateLead(id: $id, input: {firstName: "Janet"}) { id } }`, map[string]any{"id": w.mine})
		if len(res.Errors) > 0 {
			t.Fatalf("update: %s", res.Body)
		}
		for _, tc := range []struct {
			name, key, id string
			first         any
			want          []string // actions, newest first
			code          string
		}{
			{"newest first", w.keys.full, w.mine, 10, []string{"lead.updated", "lead.created"}, ""},
			{"a page of one", w.keys.full, w.mine, 1, []string{"lead.updated"}, ""},
			{"a read-only key reads the lead's history", w.keys.readOnly, w.mine, 10, []string{"lead.updated", "lead.created"}, ""},
			{"first over the limit", w.keys.full, w.mine, 101, nil, "validation_failed"},
			{"another tenant's lead", w.keys.full, w.theirs, 10, nil, "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, tc.key, activitiesQuery, map[string]any{"id": tc.id, "first": tc.first})
				if tc.code != "" {
					if len(res.Errors) != 1 || res.Errors[0].code() != tc.code {
						t.Fatalf("errors = %v, want %s: %s", res.codes(), tc.code, res.Body)
					}
					return
				}
				if len(res.Errors) > 0 {
					t.Fatalf("errors: %s", res.Body)
				}
				edges, _ := dig(res.Data, "node", "activities", "edges").([]any)
				var got []string
				for i := range edges {
					got = append(got, str(dig(edges, i, "node", "action")))
					if id := str(dig(edges, i, "node", "resourceID")); id != tc.id {
						t.Errorf("event %d is of %q, want %q", i, id, tc.id)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("actions = %v, want %v (%s)", got, tc.want, res.Body)
				}
				if n, _ := dig(res.Data, "node", "activities", "totalCount").(float64); n != 2 {
					t.Errorf("totalCount = %v, want 2", n)
				}
			})
		}
	})
}
