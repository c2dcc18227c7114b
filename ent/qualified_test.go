package ent

import (
	"slices"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/user"
)

func TestQualifiedColumns(t *testing.T) {
	selection := []string{lead.FieldID, lead.FieldEmail}
	for _, tc := range []struct {
		name          string
		dialect       string
		columns       []string
		first, second string
	}{
		{"all of them, PostgreSQL", dialect.Postgres, lead.Columns, `"leads"."id"`, `"leads"."created_at"`},
		{"all of them, SQLite", dialect.SQLite, lead.Columns, "`leads`.`id`", "`leads`.`created_at`"},
		{"a selection is left alone", dialect.Postgres, selection, "id", "email"},
		{"a copy of all is a selection", dialect.Postgres, slices.Clone(lead.Columns), "id", "created_at"},
	} {
		got := qualifiedColumns(tc.dialect, lead.Table, lead.Columns, tc.columns)
		if len(got) != len(tc.columns) || got[0] != tc.first || got[1] != tc.second {
			t.Errorf("%s: got %q", tc.name, got)
		}
	}
	if got := qualifiedColumns(dialect.Postgres, lead.Table, lead.Columns, nil); got != nil {
		t.Errorf("no columns: got %q", got)
	}
	if lead.Columns[0] != lead.FieldID {
		t.Errorf("the generated list was changed: %q", lead.Columns)
	}
}

// TestQualifiedColumnsConcurrently is for the race detector: the first
// queries of each table and dialect arrive together.
func TestQualifiedColumnsConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			d := []string{dialect.Postgres, dialect.SQLite}[i%2]
			if got := qualifiedColumns(d, lead.Table, lead.Columns, lead.Columns); len(got) != len(lead.Columns) {
				t.Errorf("got %q", got)
			}
			qualifiedColumns(d, user.Table, user.Columns, user.Columns)
		})
	}
	wg.Wait()
}
