package ent

import (
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect/sql"
)

// qualified holds each table's columns as qualified, quoted names, by
// dialect and table. It is copied on write: it changes once per table and
// dialect, and is read by every query.
var (
	qualified   atomic.Pointer[map[[2]string][]string]
	qualifiedMu sync.Mutex
)

// qualifiedColumns returns the table's columns qualified and quoted for the
// dialect ("leads"."email"), as sqlgraph would write them, when columns is
// the generated list of all of them (all, the same slice); any other
// selection is returned unchanged. The result is shared: read-only.
func qualifiedColumns(dialect, table string, all, columns []string) []string {
	if len(all) == 0 || len(columns) != len(all) || &columns[0] != &all[0] {
		return columns
	}
	key := [2]string{dialect, table}
	if m := qualified.Load(); m != nil {
		if q, ok := (*m)[key]; ok {
			return q
		}
	}
	qualifiedMu.Lock()
	defer qualifiedMu.Unlock()
	next := map[[2]string][]string{}
	if m := qualified.Load(); m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	q := make([]string, len(all))
	t := sql.Dialect(dialect).Table(table)
	for i, c := range all {
		q[i] = t.C(c)
	}
	next[key] = q
	qualified.Store(&next)
	return q
}
