package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"
)

// openCaching opens a SQLite database of one connection whose statement
// cache holds size statements, with a table t(n).
func openCaching(t testing.TB, size int) *sql.DB {
	t.Helper()
	conn, err := sqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(stmtCachingConnector{Connector: conn, size: size})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (n INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := db.Exec(`INSERT INTO t (n) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// cached is the connection's cache size.
func cached(t testing.TB, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error { n = dc.(*stmtCachingConn).stmts.Len(); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func sum(t testing.TB, rows *sql.Rows) int {
	t.Helper()
	defer rows.Close()
	total := 0
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// Statements with arguments are prepared once per text and reused; those
// without (DDL, PRAGMAs, scripts) are not kept; a failing statement is not
// kept, and a failing run leaves its statement usable.
func TestStatementCache(t *testing.T) {
	db := openCaching(t, 8)
	base := cached(t, db) // the INSERT of openCaching
	if base != 1 {
		t.Fatalf("after one INSERT text: %d statements kept, want 1", base)
	}
	for range 50 {
		var n int
		if err := db.QueryRow(`SELECT n FROM t WHERE n = ?`, 3).Scan(&n); err != nil || n != 3 {
			t.Fatalf("SELECT = %d, %v", n, err)
		}
	}
	if got := cached(t, db); got != 2 {
		t.Errorf("after 50 runs of one SELECT: %d statements kept, want 2", got)
	}
	if _, err := db.Exec(`CREATE INDEX t_n ON t (n)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(`SELECT nope FROM t WHERE n = ?`, 1); err == nil {
		t.Error("a statement that does not prepare ran")
	}
	if _, err := db.Exec(`INSERT INTO t (n) VALUES (?)`, 1); err == nil {
		t.Error("a duplicate key was inserted")
	}
	if _, err := db.Exec(`INSERT INTO t (n) VALUES (?)`, 6); err != nil {
		t.Errorf("the INSERT after a failed run: %v", err)
	}
	if got := cached(t, db); got != 2 {
		t.Errorf("after DDL, a bad statement and failed runs: %d statements kept, want 2", got)
	}
	// The index changed the schema under the kept SELECT: SQLite prepares it
	// again by itself.
	var n int
	if err := db.QueryRow(`SELECT n FROM t WHERE n = ?`, 6).Scan(&n); err != nil || n != 6 {
		t.Errorf("the kept SELECT after the schema changed = %d, %v", n, err)
	}
	if got := cached(t, db); got != 2 {
		t.Errorf("at the end: %d statements kept, want 2", got)
	}
}

// A kept statement stays usable after a run that failed on its second
// row, after a run whose context was cancelled mid-way (database/sql then
// closes its rows from its own goroutine), and after a run whose context
// was cancelled before it began.
func TestStatementCacheAfterFailedRuns(t *testing.T) {
	db := openCaching(t, 8)
	// abs() of the smallest integer overflows: the error comes at step 2.
	const overflow = `SELECT abs(x) FROM (SELECT ? AS x UNION ALL SELECT -9223372036854775807 - ?)`
	rows := must(db.Query(overflow, 1, 1))
	for rows.Next() {
	}
	if rows.Err() == nil {
		t.Error("the overflowing row did not fail")
	}
	rows.Close()
	if got := sum(t, must(db.Query(overflow, 2, -9223372036854775800))); got != 2+7 {
		t.Errorf("the statement after a failed step = %d", got)
	}

	// A million rows, so that the cancel lands while they are being read.
	const q = `WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT x FROM c`
	ctx, cancel := context.WithCancel(context.Background())
	rows = must(db.QueryContext(ctx, q, 1))
	if !rows.Next() {
		t.Fatal("no first row")
	}
	cancel()
	for rows.Next() {
	}
	if err := rows.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("rows after the cancel: %v, want context.Canceled", err)
	}
	rows.Close()
	if _, err := db.QueryContext(ctx, q, 1); err == nil {
		t.Error("a query ran under a cancelled context")
	}
	if got := sum(t, must(db.Query(q, 999998))); got != 999998+999999+1000000 {
		t.Errorf("the statement after cancelled runs = %d, want 2999997", got)
	}
}

// A statement whose rows are still open runs again uncached (a query inside
// a loop over the same query, in a transaction), and one the LRU drops
// while its rows are open is closed only once they are.
func TestStatementCacheWhileRowsAreOpen(t *testing.T) {
	db := openCaching(t, 2)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT n FROM t WHERE n >= ? ORDER BY n`
	outer := must(tx.Query(q, 1))
	defer outer.Close()
	var seen []int
	for outer.Next() {
		var n int
		if err := outer.Scan(&n); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, n)
		if got := sum(t, must(tx.Query(q, n))); got != (n+5)*(5-n+1)/2 {
			t.Fatalf("inner SELECT from %d = %d", n, got)
		}
		// Two other texts push q out of a cache of two while its rows are open.
		for _, other := range []string{`SELECT n FROM t WHERE n = ?`, `SELECT n + 0 FROM t WHERE n = ?`} {
			if got := sum(t, must(tx.Query(other, n))); got != n {
				t.Fatalf("%s = %d, want %d", other, got, n)
			}
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 5 || seen[4] != 5 {
		t.Errorf("outer rows = %v, want 1…5", seen)
	}
	outer.Close()
	if got := sum(t, must(tx.Query(q, 4))); got != 9 {
		t.Errorf("q after its rows closed = %d, want 9", got)
	}

	// An exec of a text whose rows are open runs uncached too.
	const ins = `INSERT INTO t (n) SELECT ? WHERE ? > 0`
	open := must(tx.Query(ins+` RETURNING n`, 7, 1))
	if _, err := tx.Exec(ins+` RETURNING n`, 8, 1); err != nil {
		t.Errorf("exec beside open rows of the same text: %v", err)
	}
	if got := sum(t, open); got != 7 {
		t.Errorf("RETURNING = %d, want 7", got)
	}
	if got := sum(t, must(tx.Query(`SELECT n FROM t WHERE n > ?`, 6))); got != 15 {
		t.Errorf("rows 7 and 8: sum %d, want 15", got)
	}
}

func must(rows *sql.Rows, err error) *sql.Rows {
	if err != nil {
		panic(err)
	}
	return rows
}

// BenchmarkSQLiteQuery compares a point query through the cache with the
// same query prepared on every run, as database/sql runs it on modernc.
func BenchmarkSQLiteQuery(b *testing.B) {
	for _, bc := range []struct {
		name string
		open func(testing.TB) *sql.DB
	}{
		{"cached", func(t testing.TB) *sql.DB { return openCaching(t, stmtCacheSize) }},
		{"prepared_each_time", func(t testing.TB) *sql.DB {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Exec(`CREATE TABLE t (n INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)`); err != nil {
				t.Fatal(err)
			}
			return db
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := bc.open(b)
			b.ReportAllocs()
			for b.Loop() {
				var n int
				if err := db.QueryRow(`SELECT n FROM t WHERE n = ? AND n > ? AND n < ?`, 2, 0, 10).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
