package graph_test

import (
	"os"
	"strings"
	"testing"

	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// The README's GraphQL example runs as written, with the demo owner's JWT.
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	_, section, ok := strings.Cut(readme, "\n## GraphQL\n")
	_, block, ok2 := strings.Cut(section, "```graphql\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no GraphQL section with a ```graphql example")
	}
	query, mutation, ok := strings.Cut(block, "\nmutation")
	if !ok {
		t.Fatal("the README's example has no mutation")
	}
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		jwt := map[string]string{"Authorization": "Bearer " + w.login(t, "owner@acme.test")}
		for _, op := range []string{"mutation" + mutation, query} {
			res := w.post(t, jwt, op, nil)
			if res.Status != 200 || len(res.Errors) > 0 || len(res.Data) == 0 {
				t.Errorf("%s\n→ %d %s", op, res.Status, res.Body)
			}
		}
	})
}
