package ent

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/user"
)

func TestQualifiedColumns(t *testing.T) {
	selection := []string{lead.FieldID, lead.FieldEmail}
	names := func(quote string) []string {
		names := make([]string, len(lead.Columns))
		for i, c := range lead.Columns {
			names[i] = quote + lead.Table + quote + "." + quote + c + quote
		}
		return names
	}
	oneEntry := func(quote string) []string { return []string{strings.Join(names(quote), ", ")} }
	for _, tc := range []struct {
		name     string
		dialect  string
		columns  []string
		oneEntry bool
		want     []string
	}{
		{"all of them, PostgreSQL", dialect.Postgres, lead.Columns, false, names(`"`)},
		{"all of them, SQLite", dialect.SQLite, lead.Columns, false, names("`")},
		{"all of them as one entry, PostgreSQL", dialect.Postgres, lead.Columns, true, oneEntry(`"`)},
		{"all of them as one entry, SQLite", dialect.SQLite, lead.Columns, true, oneEntry("`")},
		{"a selection is left alone", dialect.Postgres, selection, false, selection},
		{"a selection is left alone, one entry asked", dialect.Postgres, selection, true, selection},
		{"a copy of all is a selection", dialect.Postgres, slices.Clone(lead.Columns), true, lead.Columns},
	} {
		if got := qualifiedColumns(tc.dialect, lead.Table, lead.Columns, tc.columns, tc.oneEntry); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := qualifiedColumns(dialect.Postgres, lead.Table, lead.Columns, nil, true); got != nil {
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
			oneEntry, want := i%4 < 2, len(lead.Columns)
			if oneEntry {
				want = 1
			}
			if got := qualifiedColumns(d, lead.Table, lead.Columns, lead.Columns, oneEntry); len(got) != want {
				t.Errorf("got %q", got)
			}
			qualifiedColumns(d, user.Table, user.Columns, user.Columns, true)
		})
	}
	wg.Wait()
}
