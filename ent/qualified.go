package ent

import (
	"strings"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect/sql"
)

// qualifiedSelection is one table's full selection for one dialect, in
// the two forms qualifiedColumns hands out.
type qualifiedSelection struct {
	names []string // one qualified, quoted name per column
	list  []string // the same names as one entry: "a", "b", …
}

// qualified holds each table's selection, by dialect and table. It is
// copied on write: it changes once per table and dialect, and is read by
// every query.
var (
	qualified   atomic.Pointer[map[[2]string]qualifiedSelection]
	qualifiedMu sync.Mutex
)

// qualifiedColumns returns the table's columns qualified and quoted for the
// dialect ("leads"."email"), as sqlgraph would write them, when columns is
// the generated list of all of them (all, the same slice); any other
// selection is returned unchanged. The result is shared: read-only.
//
// With oneEntry the names come as a single select-list entry. sqlgraph
// writes a selection entry by entry, checking each for an alias, a
// function and a modifier, so one entry is one check and one write, and
// the statement's text is the same. It is only for queries without
// modifiers: a modifier may rebuild the statement from the selection's
// columns one by one (entgql's LimitPerRow takes each entry's last name).
func qualifiedColumns(dialect, table string, all, columns []string, oneEntry bool) []string {
	if len(all) == 0 || len(columns) != len(all) || &columns[0] != &all[0] {
		return columns
	}
	selection := qualifiedSelectionOf(dialect, table, all)
	if oneEntry {
		return selection.list
	}
	return selection.names
}

func qualifiedSelectionOf(dialect, table string, all []string) qualifiedSelection {
	key := [2]string{dialect, table}
	if m := qualified.Load(); m != nil {
		if s, ok := (*m)[key]; ok {
			return s
		}
	}
	qualifiedMu.Lock()
	defer qualifiedMu.Unlock()
	next := map[[2]string]qualifiedSelection{}
	if m := qualified.Load(); m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	names := make([]string, len(all))
	t := sql.Dialect(dialect).Table(table)
	for i, c := range all {
		names[i] = t.C(c)
	}
	s := qualifiedSelection{names: names, list: []string{strings.Join(names, ", ")}}
	next[key] = s
	qualified.Store(&next)
	return s
}
