package ent

import (
	"sync"
	"sync/atomic"

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
