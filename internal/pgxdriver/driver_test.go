package pgxdriver_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/leadron/leadron/internal/pgxdriver"
	"github.com/leadron/leadron/internal/testutil"
)

// newDriver returns a driver on a fresh PostgreSQL database with a table
// "t" (id, unique name), and its pool.
func newDriver(t *testing.T) (*pgxdriver.Driver, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testutil.NewEmptyDatabaseURL(t, dialect.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, "CREATE TABLE t (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, doc jsonb, at timestamptz)"); err != nil {
		t.Fatal(err)
	}
	return pgxdriver.New(pool), pool
}

func count(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestQueryReportsStatementErrors: pgx reports a failed statement when its
// rows are read, and ent expects the error from Query (as database/sql
// gives it), or it reports "unexpected number of columns" instead of, for
// example, a constraint error.
func TestQueryReportsStatementErrors(t *testing.T) {
	drv, _ := newDriver(t)
	ctx := context.Background()
	var rows entsql.Rows
	if err := drv.Query(ctx, "INSERT INTO t (name) VALUES ($1) RETURNING id", []any{"a"}, &rows); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	tests := []struct {
		name, query string
		args        []any
		code        string // the PostgreSQL error code Query must return
	}{
		{"unique violation", "INSERT INTO t (name) VALUES ($1) RETURNING id", []any{"a"}, "23505"},
		{"not null violation", "INSERT INTO t (name) VALUES ($1) RETURNING id", []any{nil}, "23502"},
		{"syntax error", "SELEC id FROM t", []any{}, "42601"},
		{"division by zero in a row", "SELECT id / 0 FROM t", []any{}, "22012"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows entsql.Rows
			err := drv.Query(ctx, tt.query, tt.args, &rows)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != tt.code {
				t.Fatalf("Query: %v, want PostgreSQL error %s", err, tt.code)
			}
		})
	}
}

func TestQueryScansEntsTypes(t *testing.T) {
	drv, _ := newDriver(t)
	ctx := context.Background()
	if err := drv.Exec(ctx, `INSERT INTO t (name, doc, at) VALUES ($1, $2, now()), ($3, NULL, NULL)`, []any{"a", []byte(`{"k": 1}`), "b"}, nil); err != nil {
		t.Fatal(err)
	}
	var rows entsql.Rows
	if err := drv.Query(ctx, "SELECT id, name, doc, at FROM t ORDER BY id", []any{}, &rows); err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || len(cols) != 4 || cols[1] != "name" {
		t.Fatalf("Columns: %v, %v", cols, err)
	}
	var got []string
	for rows.Next() {
		var (
			id   sql.NullInt64
			name sql.NullString
			doc  []byte
			at   sql.NullTime
		)
		if err := rows.Scan(&id, &name, &doc, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, name.String+" "+string(doc)+" "+map[bool]string{true: "at", false: "-"}[at.Valid])
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{`a {"k": 1} at`, "b  -"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("rows %q, want %q", got, want)
	}
}

func TestExec(t *testing.T) {
	drv, pool := newDriver(t)
	ctx := context.Background()
	if err := drv.Exec(ctx, "INSERT INTO t (name) VALUES ('a'), ('b'), ('c')", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	var res sql.Result
	if err := drv.Exec(ctx, "UPDATE t SET name = name || '!' WHERE name <> $1", []any{"a"}, &res); err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); n != 2 || err != nil {
		t.Errorf("RowsAffected = %d, %v; want 2", n, err)
	}
	if _, err := res.LastInsertId(); err == nil {
		t.Error("LastInsertId: no error, want one (PostgreSQL has none)")
	}
	bad := []struct {
		name string
		run  func() error
	}{
		{"exec result of another type", func() error { var n int; return drv.Exec(ctx, "INSERT INTO t (name) VALUES ('never')", []any{}, &n) }},
		{"exec arguments not a slice", func() error { return drv.Exec(ctx, "INSERT INTO t (name) VALUES ('never')", "x", nil) }},
		{"query into another type", func() error { var n int; return drv.Query(ctx, "SELECT 1", []any{}, &n) }},
		{"query arguments not a slice", func() error { var rows entsql.Rows; return drv.Query(ctx, "SELECT 1", 1, &rows) }},
	}
	for _, b := range bad {
		if err := b.run(); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	if n := count(t, pool); n != 3 {
		t.Errorf("%d rows, want 3: a refused statement must not run", n)
	}
}

func TestTransactions(t *testing.T) {
	drv, pool := newDriver(t)
	insert := func(ctx context.Context, tx *pgxdriver.Tx, name string) {
		t.Helper()
		if err := tx.Exec(ctx, "INSERT INTO t (name) VALUES ($1)", []any{name}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()

	tx, err := drv.Begin(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	insert(ctx, tx, "committed")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("Rollback after Commit: %v, want sql.ErrTxDone", err)
	}

	tx, err = drv.Begin(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	insert(ctx, tx, "rolled back")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// A transaction whose context ends cannot commit; rolling it back
	// still works and leaves nothing behind.
	cctx, cancel := context.WithCancel(ctx)
	tx, err = drv.Begin(cctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	insert(cctx, tx, "cancelled")
	cancel()
	if err := tx.Commit(); err == nil {
		t.Error("Commit after the context ended: no error")
	}
	_ = tx.Rollback()

	if n := count(t, pool); n != 1 {
		t.Errorf("%d rows, want only the committed one", n)
	}
}

func TestTransactionOptions(t *testing.T) {
	drv, _ := newDriver(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		opts      *sql.TxOptions
		isolation string // SHOW transaction_isolation; "" if BeginTx must fail
		readOnly  bool
	}{
		{"default", nil, "read committed", false},
		{"serializable", &sql.TxOptions{Isolation: sql.LevelSerializable}, "serializable", false},
		{"repeatable read", &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, "repeatable read", false},
		{"read only", &sql.TxOptions{ReadOnly: true}, "read committed", true},
		{"unsupported level", &sql.TxOptions{Isolation: sql.LevelLinearizable}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := drv.Begin(ctx, tt.opts)
			if tt.isolation == "" {
				if err == nil {
					_ = tx.Rollback()
					t.Fatal("BeginTx: no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var rows entsql.Rows
			if err := tx.Query(ctx, "SHOW transaction_isolation", []any{}, &rows); err != nil {
				t.Fatal(err)
			}
			var level string
			if !rows.Next() || rows.Scan(&level) != nil || level != tt.isolation {
				t.Errorf("isolation %q, want %q", level, tt.isolation)
			}
			rows.Close()
			err = tx.Exec(ctx, "INSERT INTO t (name) VALUES ($1)", []any{tt.name}, nil)
			var pgErr *pgconn.PgError
			if readOnlyRefused := errors.As(err, &pgErr) && pgErr.Code == "25006"; readOnlyRefused != tt.readOnly {
				t.Errorf("insert: %v; read only: %v", err, tt.readOnly)
			}
		})
	}
}

// TestColumnsOutliveTheConnection: rows with nothing to read hand their
// connection back to the pool at once, and the next query reuses its
// buffers; ent asks for the columns after that.
func TestColumnsOutliveTheConnection(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testutil.NewEmptyDatabaseURL(t, dialect.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // the next query gets the same connection
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	drv := pgxdriver.New(pool)
	var empty entsql.Rows
	if err := drv.Query(ctx, "SELECT 1 AS id, 'x' AS name WHERE false", []any{}, &empty); err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	var other entsql.Rows
	if err := drv.Query(ctx, "SELECT 1 AS something_else", []any{}, &other); err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if cols, _ := empty.Columns(); len(cols) != 2 || cols[0] != "id" || cols[1] != "name" {
		t.Errorf("Columns = %q, want [id name]", cols)
	}
	if empty.Next() {
		t.Error("Next: a row, want none")
	}
}

// TestScanMatchesDatabaseSQL: the driver scans ent's database/sql Null
// destinations through pgx's own values for the common column types; what
// ent gets must be what database/sql gives, NULLs included, and so must the
// columns and destinations it passes through to pgx as they are.
func TestScanMatchesDatabaseSQL(t *testing.T) {
	drv, pool := newDriver(t)
	ctx := context.Background()
	const query = `SELECT v.* FROM (VALUES
		('text'::text, 'varchar'::varchar, 42::bigint, 7::int, 3::smallint, true, 2.5::float8, 1.5::float4, '2026-12-01 21:37:08.123456+01'::timestamptz, 99::bigint),
		(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)) AS v`
	type row struct {
		text, varchar    sql.NullString
		big, integer, sm sql.NullInt64
		b                sql.NullBool
		f8, f4           sql.NullFloat64
		at               sql.NullTime
		intAsText        sql.NullString // no pgx value of that meaning: pgx's sql.Scanner path
	}
	dests := func(r *row) []any {
		return []any{&r.text, &r.varchar, &r.big, &r.integer, &r.sm, &r.b, &r.f8, &r.f4, &r.at, &r.intAsText}
	}

	// collect reads every row of database/sql's rows or ent's.
	collect := func(rows interface {
		Next() bool
		Scan(...any) error
		Close() error
	}) []row {
		t.Helper()
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(dests(&r)...); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}

	std := stdlib.OpenDBFromPool(pool)
	defer std.Close()
	stdRows, err := std.QueryContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	want := collect(stdRows)
	var rows entsql.Rows
	if err := drv.Query(ctx, query, []any{}, &rows); err != nil {
		t.Fatal(err)
	}
	got := collect(&rows)

	if len(got) != 2 || len(want) != 2 {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.at.Time.Equal(w.at.Time) || g.at.Valid != w.at.Valid || g.at.Time.Location().String() != w.at.Time.Location().String() {
			t.Errorf("row %d: time %v, want %v", i, g.at, w.at)
		}
		g.at, w.at = sql.NullTime{}, sql.NullTime{}
		if g != w {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if want[0].intAsText.String != "99" || !want[0].big.Valid || want[1].text.Valid {
		t.Fatalf("database/sql's own answer is not what this test expects: %+v", want)
	}
}

func TestScanRefusesInfinityInATime(t *testing.T) {
	drv, _ := newDriver(t)
	var rows entsql.Rows
	if err := drv.Query(context.Background(), "SELECT 'infinity'::timestamptz", []any{}, &rows); err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var at sql.NullTime
	if !rows.Next() {
		t.Fatal("no row")
	}
	if err := rows.Scan(&at); err == nil {
		t.Fatalf("Scan: %v, no error; database/sql refuses infinity in a time too", at)
	}
}

// proxiedPool is a one-connection pool on a fresh database, through a proxy
// the test can freeze.
func proxiedPool(t *testing.T) (*pgxpool.Pool, *testutil.Proxy) {
	t.Helper()
	dbURL, proxy := testutil.Proxied(t, testutil.NewEmptyDatabaseURL(t, dialect.Postgres))
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, proxy
}

// TestRollbackOnASilentNetwork: a rollback runs after the request's context
// has ended too, but it must not wait forever on a connection whose network
// went silent: it gives up within rollbackTimeout (and pgx discards the
// connection).
func TestRollbackOnASilentNetwork(t *testing.T) {
	pool, proxy := proxiedPool(t)
	drv := pgxdriver.New(pool)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	tx, err := drv.Begin(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Exec(ctx, "SELECT 1", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	proxy.Freeze()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- tx.Rollback() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Rollback on a silent network: no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Rollback still waiting after 10s on a silent network")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Rollback took %v", took)
	}
	// pgx closes the connection in the background; dropping the frozen
	// connections lets that finish before the pool closes.
	proxy.Restore()
}

// TestCommitAfterCancelKeepsTheConnection: a commit refused because the
// request ended rolls back, and its connection serves the next request
// instead of being closed.
func TestCommitAfterCancelKeepsTheConnection(t *testing.T) {
	pool, _ := proxiedPool(t)
	drv := pgxdriver.New(pool)
	ctx := context.Background()
	if err := drv.Exec(ctx, "CREATE TABLE t (name text)", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	opened := pool.Stat().NewConnsCount()
	cctx, cancel := context.WithCancel(ctx)
	tx, err := drv.Begin(cctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Exec(cctx, "INSERT INTO t VALUES ('cancelled')", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := tx.Commit(); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit: %v, want context.Canceled", err)
	}
	var rows entsql.Rows
	if err := drv.Query(ctx, "SELECT count(*) FROM t", []any{}, &rows); err != nil {
		t.Fatal(err)
	}
	var n int
	if !rows.Next() || rows.Scan(&n) != nil || n != 0 {
		t.Errorf("%d rows after a refused commit, want 0", n)
	}
	rows.Close()
	if again := pool.Stat().NewConnsCount(); again != opened {
		t.Errorf("%d connections opened after the refused commit, want the same one reused", again-opened)
	}
}
