package ent

import (
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// byIDStatements keeps a statement only when the arguments its builder
// produced are the caller's, and hands the kept text out from then on.
func TestByIDStatementsKeepOnlyMatchingText(t *testing.T) {
	var st byIDStatements
	key := byIDKey{dialect.Postgres, true}
	builds := 0
	build := func(tenant int) func() *sql.Selector {
		return func() *sql.Selector {
			builds++
			return sql.Dialect(dialect.Postgres).Select("id").From(sql.Table("leads")).
				Where(sql.And(sql.EQ("id", 7), sql.EQ("tenant_id", tenant), sql.EQ("environment", "live")))
		}
	}
	const want = `SELECT "id" FROM "leads" WHERE "id" = $1 AND "tenant_id" = $2 AND "environment" = $3`
	for _, tc := range []struct {
		name   string
		args   []any
		tenant int
		ok     bool
		builds int // builds so far
	}{
		{"arguments other than the builder's", []any{7, 2, "live"}, 1, false, 1},
		{"a type other than the builder's", []any{7, "1", "live"}, 1, false, 2},
		{"fewer arguments", []any{7, 1}, 1, false, 3},
		{"the builder's arguments", []any{7, 1, "live"}, 1, true, 4},
		{"kept: not built again", []any{8, 2, "sandbox"}, 2, true, 4},
	} {
		text, ok := st.statement(key, tc.args, build(tc.tenant))
		if ok != tc.ok || (ok && text != want) || builds != tc.builds {
			t.Errorf("%s: got %q, %v after %d builds; want ok %v after %d", tc.name, text, ok, builds, tc.ok, tc.builds)
		}
	}
	if _, ok := st.statement(byIDKey{dialect.SQLite, true}, []any{7, 1, "live"}, build(1)); !ok || builds != 5 {
		t.Errorf("another shape: ok %v after %d builds, want a build of its own", ok, builds)
	}
}
