package graph_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// A connection's cursor names its row by the public ID only, never by the
// primary key (which would tell how many rows other tenants have written),
// and paging with the cursors walks every row once, in each order and in
// both directions.
func TestCursors(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for i := range 5 {
			w.as(t, w.keys.full, fmt.Sprintf(`mutation { createLead(input: {email: "page%d@acme.test", firstName: "P", lastName: "G", score: %d}) { id } }`, i, i%3*10), nil)
		}

		res := w.as(t, w.keys.full, `{ users(first: 5) { edges { cursor node { id } } } leads(first: 5) { edges { cursor node { id } } } }`, nil)
		for _, conn := range []string{"users", "leads"} {
			edges, _ := dig(res.Data, conn, "edges").([]any)
			if len(edges) == 0 {
				t.Fatalf("no %s: %s", conn, res.Body)
			}
			for _, e := range edges {
				raw, err := base64.RawStdEncoding.DecodeString(str(dig(e, "cursor")))
				if err != nil {
					t.Fatalf("cursor %v: %v", dig(e, "cursor"), err)
				}
				var c map[string]any
				if err := msgpack.Unmarshal(raw, &c); err != nil {
					t.Fatalf("cursor %v: %v", dig(e, "cursor"), err)
				}
				if c["i"] != str(dig(e, "node", "id")) {
					t.Errorf("%s cursor holds %#v, want the node's ID %s", conn, c["i"], dig(e, "node", "id"))
				}
			}
		}

		ids := func(res gqlResponse, conn string) []string {
			var out []string
			edges, _ := dig(res.Data, conn, "edges").([]any)
			for _, e := range edges {
				out = append(out, str(dig(e, "node", "id")))
			}
			return out
		}
		for _, order := range []string{`[{field: SCORE, direction: DESC}]`, `[{field: EMAIL}]`, `[{field: CREATED_AT, direction: DESC}]`} {
			all := ids(w.as(t, w.keys.full, `{ leads(first: 100, orderBy: `+order+`) { edges { node { id } } } }`, nil), "leads")
			var forward, backward []string
			var after, before any
			for range len(all) + 1 {
				page := w.as(t, w.keys.full, `query($after: Cursor) { leads(first: 2, after: $after, orderBy: `+order+`) {
					edges { node { id } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
				forward = append(forward, ids(page, "leads")...)
				if dig(page.Data, "leads", "pageInfo", "hasNextPage") != true {
					break
				}
				after = dig(page.Data, "leads", "pageInfo", "endCursor")
			}
			for range len(all) + 1 {
				page := w.as(t, w.keys.full, `query($before: Cursor) { leads(last: 2, before: $before, orderBy: `+order+`) {
					edges { node { id } } pageInfo { hasPreviousPage startCursor } } }`, map[string]any{"before": before})
				backward = append(ids(page, "leads"), backward...)
				if dig(page.Data, "leads", "pageInfo", "hasPreviousPage") != true {
					break
				}
				before = dig(page.Data, "leads", "pageInfo", "startCursor")
			}
			if len(all) < 6 || !slices.Equal(forward, all) || !slices.Equal(backward, all) {
				t.Errorf("orderBy %s: one page %s\nforward %s\nbackward %s", order, strings.Join(all, ","), strings.Join(forward, ","), strings.Join(backward, ","))
			}
		}
	})
}
