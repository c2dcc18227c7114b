package graph_test

import (
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/internal/testutil"
)

// Any GraphQL document sent to the real handler gets a JSON answer that is
// never a 5xx, and never an internal error's text.
func FuzzGraphQLDocuments(f *testing.F) {
	w := newWorld(f, testutil.NewDB(f, dialect.SQLite))
	for _, s := range []string{
		`{ viewer { user { email } } }`,
		`{ leads(first: 5) { edges { node { id email assignee { email } } } } }`,
		`{ node(id: "AAAAAAAAAAAAAAAA") { id } }`,
		`mutation { createLead(input: {email: "x", firstName: "", lastName: "y"}) { id } }`,
		`{ leads(first: 1000) { totalCount } }`,
		`query { a: viewer { user { id } } b: viewer { user { id } } }`,
		`{ __schema { types { name } } }`,
		`{`, ``, `fragment f on Query { ...f } { ...f }`, "{ leads(first: 1, where: {emailContains: \"\\u0000\"}) { totalCount } }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		res := w.as(t, w.keys.full, doc, nil)
		if res.Status >= 500 {
			t.Fatalf("status %d for %q: %s", res.Status, doc, res.Body)
		}
		for _, leak := range []string{"sql:", "SQLSTATE", "runtime error", "goroutine"} {
			if strings.Contains(res.Body, leak) {
				t.Fatalf("%q leaked %q: %s", doc, leak, res.Body)
			}
		}
	})
}
