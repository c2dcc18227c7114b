package graph_test

import (
	"reflect"
	"testing"

	"github.com/leadron/leadron/internal/testutil"
)

// An error under a list element carries its whole path, through the
// connection's edges and nodes: graph/generate.go marshals plain leaf
// fields directly, but objects keep the field contexts that paths are made
// of.
func TestErrorPathsThroughLists(t *testing.T) {
	w := newWorld(t, testutil.NewDB(t, "sqlite3"))
	res := w.as(t, w.keys.full, `{ leads(first: 5) { edges { node { email activities(first: 5, after: "not-a-cursor") { totalCount } } } } }`, nil)
	want := []any{"leads", "edges", 0.0, "node", "activities"}
	if res.Status != 200 || len(res.Errors) != 1 || !reflect.DeepEqual(res.Errors[0].Path, want) || res.Errors[0].field() != "after" {
		t.Fatalf("%d %s\nwant one error on after at %v", res.Status, res.Body, want)
	}
}
