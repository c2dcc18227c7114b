package graph_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/graph"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// create is a createLead call; the limits tests hang selections under it,
// so that a refused operation that ran anyway would leave a lead behind.
const create = `createLead(input: {email: "limits@acme.test", firstName: "Lim", lastName: "Its"})`

// nest wraps inner in n levels of lead → assignee → assignedLeads.
func nest(n int, page, inner string) string {
	if page != "" {
		page = "(" + page + ")"
	}
	s := inner
	for range n {
		s = `assignee { assignedLeads` + page + ` { edges { node { ` + s + ` } } } }`
	}
	return s
}

// Operations beyond the limits are refused with 422 before anything runs.
func TestLimits(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		var aliases, bomb strings.Builder
		for i := range graph.MaxAliases + 1 {
			fmt.Fprintf(&aliases, "a%d: %s { id }\n", i, create)
		}
		bomb.WriteString("mutation { " + create + " { ...F0 } }\n")
		for i := range 30 {
			fmt.Fprintf(&bomb, "fragment F%d on Lead { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		bomb.WriteString("fragment F30 on Lead { id }\n")
		// Argument values from variables, which the token limit does not see.
		terms := func(n int, term func(i int) any) []any {
			out := make([]any, n)
			for i := range out {
				out[i] = term(i)
			}
			return out
		}
		nestNot := func(n int) map[string]any {
			w := map[string]any{"emailContains": "x"}
			for range n {
				w = map[string]any{"not": w}
			}
			return w
		}
		const filtered = `query($w: LeadWhereInput, $o: [LeadOrder!]) { leads(first: 1, where: $w, orderBy: $o) { totalCount } }`
		manyFields := map[string]any{}
		for i := range graph.MaxInputValues {
			manyFields[fmt.Sprint("f", i)] = i
		}
		ids := make([]string, graph.MaxPage+1)
		for i := range ids {
			ids[i] = w.mine
		}
		for _, tc := range []struct {
			name, query string
			vars        map[string]any
			code, field string
		}{
			{"too deep", "mutation { " + create + " { " + nest(3, "first: 1", "id") + " } }", nil, graph.CodeTooComplex, ""},
			{"too complex", "mutation { " + create + " { " + nest(2, "first: 100", "id") + " } }", nil, graph.CodeTooComplex, ""},
			{"too complex with last", "mutation { " + create + " { " + nest(2, "last: 100", "id") + " } }", nil, graph.CodeTooComplex, ""},
			{"alias flood", "mutation {\n" + aliases.String() + "}", nil, graph.CodeTooComplex, ""},
			{"fragment bomb", bomb.String(), nil, graph.CodeTooComplex, ""},
			{"first: 101", "mutation { " + create + " { " + nest(1, "first: 101", "id") + " } }", nil, "validation_failed", "first"},
			{"first: 101 in a variable", "mutation($n: Int) { " + create + " { " + nest(1, "first: $n", "id") + " } }", map[string]any{"n": 101}, "validation_failed", "first"},
			{"last: 101", "mutation { " + create + " { " + nest(1, "last: 101", "id") + " } }", nil, "validation_failed", "last"},
			{"first: -1", "mutation { " + create + " { " + nest(1, "first: -1", "id") + " } }", nil, "validation_failed", "first"},
			{"no first or last", "mutation { " + create + " { " + nest(1, "", "id") + " } }", nil, "validation_failed", "first"},
			{"first and last", "mutation { " + create + " { " + nest(1, "first: 1, last: 1", "id") + " } }", nil, "validation_failed", "last"},
			{"nodes with too many IDs", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, "validation_failed", "ids"},
			// A plain list (a lead's duplicates) counts once per row it may
			// hold, as a connection does; before, this cost 8 and ran for
			// seconds on 100 look-alike leads.
			{"nested plain lists", `{ leads(first: 100) { edges { node { duplicates { lead { duplicates { lead { duplicates { lead { id } } } } } } } } } }`, nil, graph.CodeTooComplex, ""},
			{"too many tokens", "mutation { " + create + " { id " + strings.Repeat("__typename ", graph.MaxTokens) + "} }", nil, graph.CodeTooComplex, ""},
			{"an or of 1,000 terms", filtered, map[string]any{"w": map[string]any{"or": terms(1000, func(int) any { return map[string]any{"emailContains": "x"} })}}, graph.CodeTooComplex, "where"},
			{"an emailIn of 40,000 values", filtered, map[string]any{"w": map[string]any{"emailIn": terms(40000, func(i int) any { return fmt.Sprint(i, "@x.test") })}}, graph.CodeTooComplex, "where"},
			{"not nested 20 deep", filtered, map[string]any{"w": nestNot(20)}, graph.CodeTooComplex, "where"},
			{"an orderBy of 2,000 entries", filtered, map[string]any{"o": terms(2000, func(int) any { return map[string]any{"field": "EMAIL", "direction": "ASC"} })}, graph.CodeTooComplex, "orderBy"},
			{"a lead with 1,000 custom fields", `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"email": "limits@acme.test", "firstName": "L", "lastName": "I", "customFields": manyFields}}, graph.CodeTooComplex, "input"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, w.keys.full, tc.query, tc.vars)
				if res.Status != http.StatusUnprocessableEntity || len(res.Errors) != 1 || res.Data != nil {
					t.Fatalf("want 422 with one error and no data: %d %.600s", res.Status, res.Body)
				}
				if e := res.Errors[0]; e.code() != tc.code || e.field() != tc.field {
					t.Errorf("code %q field %q, want %q %q: %s", e.code(), e.field(), tc.code, tc.field, e.Message)
				}
				ctx := w.acme.System(live)
				if n := db.Client.Lead.Query().Where(lead.Email("limits@acme.test")).CountX(ctx); n != 0 {
					t.Errorf("the refused mutation ran: %d leads", n)
				}
				if n := db.Client.AuditEvent.Query().Where(auditevent.Action("lead.created"), auditevent.RequestIDNEQ("")).CountX(ctx); n != 0 {
					t.Errorf("the refused mutation wrote %d audit events", n)
				}
			})
		}

		// Right at the limits, the same shapes run.
		for _, q := range []string{
			"mutation { " + create + " { " + nest(2, "first: 10", "id") + " } }",
			`{ leads(first: 100) { edges { node { id } } } }`,
			`{ a: leads(last: 0) { totalCount } b: users(first: 100) { totalCount } }`,
			`{ leads(first: 10) { edges { node { id duplicates { matchedOn lead { id email } } mergedLeads { id } } } } }`,
		} {
			if res := w.as(t, w.keys.full, q, nil); res.Status != http.StatusOK || len(res.Errors) > 0 {
				t.Errorf("%s\n→ %d %s", q, res.Status, res.Body)
			}
		}
		for name, vars := range map[string]map[string]any{
			"an or of 100 terms":    {"w": map[string]any{"or": terms(100, func(i int) any { return map[string]any{"emailContains": fmt.Sprint(i)} })}},
			"an emailIn of 900":     {"w": map[string]any{"emailIn": terms(900, func(i int) any { return fmt.Sprint(i, "@x.test") })}},
			"not nested 7 deep":     {"w": nestNot(7)},
			"an orderBy of 2 terms": {"o": []any{map[string]any{"field": "SCORE", "direction": "DESC"}, map[string]any{"field": "EMAIL"}}},
		} {
			if res := w.as(t, w.keys.full, filtered, vars); res.Status != http.StatusOK || len(res.Errors) > 0 {
				t.Errorf("%s → %d %.300s", name, res.Status, res.Body)
			}
		}
	})
}

// Introspection and field suggestions describe the schema; they are off
// unless configured on (the default in development).
func TestIntrospection(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("on=%v", on), func(t *testing.T) {
			testutil.EachDB(t, func(t *testing.T, db *store.DB) {
				w := newWorld(t, db, func(d *server.Deps) { d.GraphQLIntrospection = on })
				for _, q := range []string{introspectionQuery, `{ __type(name: "Lead") { name fields { name } } }`} {
					res := w.as(t, w.keys.full, q, nil)
					if on && (res.Status != http.StatusOK || len(res.Errors) > 0 || !strings.Contains(res.Body, "customFields")) {
						t.Errorf("introspection on: %d %.300s", res.Status, res.Body)
					}
					if !on && (res.Status != http.StatusUnprocessableEntity || strings.Join(res.codes(), ",") != "forbidden" || strings.Contains(res.Body, "customFields")) {
						t.Errorf("introspection off: %d %.300s", res.Status, res.Body)
					}
				}
				if res := w.as(t, w.keys.full, `{ __typename }`, nil); str(dig(res.Data, "__typename")) != "Query" {
					t.Errorf("__typename: %s", res.Body)
				}
				res := w.as(t, w.keys.full, `{ leads(first: 1) { totalCont } }`, nil)
				if got := strings.Contains(res.Body, "Did you mean"); got != on {
					t.Errorf("suggestions shown: %v, want %v: %s", got, on, res.Body)
				}
				if strings.Join(res.codes(), ",") != graph.CodeValidationFailed {
					t.Errorf("codes %v", res.codes())
				}
			})
		})
	}
}

// introspectionQuery is the query GraphiQL sends to learn the schema.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`
