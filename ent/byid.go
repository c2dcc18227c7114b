package ent

import (
	"context"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// ViewerScope is what the privacy layer limited a query to: the viewer's
// tenant and, WithEnvironment, its environment. internal/rule records it
// on the query beside the predicate it adds, so that a read by ID can use
// a statement written once for its shape (see byIDStatements).
type ViewerScope struct {
	TenantID        int
	Environment     string
	WithEnvironment bool
}

// recordedScope is a ViewerScope and the index, in the query's predicates,
// of the predicate that applies it.
type recordedScope struct {
	ViewerScope
	predicate int
}

// args are the statement's arguments after the ID's, in the order the
// scope's predicate writes them.
func (s *recordedScope) args(id int) []any {
	if s.WithEnvironment {
		return []any{id, s.TenantID, s.Environment}
	}
	return []any{id, s.TenantID}
}

// byIDKey is a by-ID statement's shape: the dialect and whether the scope
// names an environment. Nothing else varies in a read by ID under a
// recorded scope: the ID's predicate and the scope's are the only ones,
// and the table, its columns and the limit are fixed.
type byIDKey struct {
	dialect         string
	withEnvironment bool
}

// byIDStatements holds one type's by-ID statements by shape. Generated
// Read writes a statement once per shape by running the query's own
// predicates through ent's builder, as sqlgraph would for Get, and sends
// that text from then on with the new arguments: the builders' work (a
// tenth of a GET's CPU) is done once instead of per request.
//
// A statement is kept only when the arguments the builders produced are
// the ones Read will pass, in the same order, so the text and the
// arguments cannot disagree. The map is copied on write: it changes once
// per shape and is read by every Read.
type byIDStatements struct {
	text atomic.Pointer[map[byIDKey]string]
	mu   sync.Mutex
}

// statement returns the statement of the shape, building it with build on
// the first call. ok is false when build's arguments are not args: the
// query is then not the shape it seems, and the caller takes ent's path.
func (st *byIDStatements) statement(key byIDKey, args []any, build func() *sql.Selector) (text string, ok bool) {
	if m := st.text.Load(); m != nil {
		if text, ok := (*m)[key]; ok {
			return text, true
		}
	}
	text, built := build().Query()
	if !sameArgs(built, args) {
		return "", false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	next := map[byIDKey]string{key: text}
	if m := st.text.Load(); m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	st.text.Store(&next)
	return text, true
}

// readByID is the body of a type's sqlRead once its query is known to be
// a read by ID under scope: it writes the statement from the query's own
// predicates (where) on the first call for the shape, sends it with this
// call's arguments, and scans each row into a node. ok is false when no
// statement could be kept; the caller then takes ent's path.
func readByID[T any](ctx context.Context, drv dialect.Driver, st *byIDStatements, scope *recordedScope, id int,
	table string, columns []string, where func(*sql.Selector),
	scan func([]string) ([]any, error), node func(values []any) (T, error)) (nodes []T, ok bool, err error) {
	d := drv.Dialect()
	args := scope.args(id)
	text, ok := st.statement(byIDKey{d, scope.WithEnvironment}, args, func() *sql.Selector {
		selector := sql.Dialect(d).Select(qualifiedColumns(d, table, columns, columns, true)...).From(sql.Table(table))
		where(selector)
		return selector.Limit(2)
	})
	if !ok {
		return nil, false, nil
	}
	rows := &sql.Rows{}
	if err := drv.Query(ctx, text, args, rows); err != nil {
		return nil, true, err
	}
	defer rows.Close()
	nodes = []T{}
	for rows.Next() {
		values, err := scan(columns)
		if err != nil {
			return nil, true, err
		}
		if err := rows.Scan(values...); err != nil {
			return nil, true, err
		}
		n, err := node(values)
		if err != nil {
			return nil, true, err
		}
		nodes = append(nodes, n)
	}
	return nodes, true, rows.Err()
}

// onlyOne is Only's answer for Read: the one node, or the type's
// NotFoundError or NotSingularError.
func onlyOne[T any](nodes []T, err error, label string) (T, error) {
	var none T
	switch {
	case err != nil:
		return none, err
	case len(nodes) == 1:
		return nodes[0], nil
	case len(nodes) == 0:
		return none, &NotFoundError{label}
	default:
		return none, &NotSingularError{label}
	}
}

// sameArgs reports whether a and b hold the same IDs and strings, in the
// same order.
func sameArgs(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		switch x := a[i].(type) {
		case int:
			if y, ok := b[i].(int); !ok || x != y {
				return false
			}
		case string:
			if y, ok := b[i].(string); !ok || x != y {
				return false
			}
		default: // not an argument a by-ID read passes
			return false
		}
	}
	return true
}
