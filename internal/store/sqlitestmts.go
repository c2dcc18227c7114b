package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// stmtCacheSize is how many prepared statements each SQLite connection
// keeps. ent sends a few dozen distinct statements in steady state; IN
// lists of other lengths and one-off queries pass through the LRU.
const stmtCacheSize = 256

// stmtCachingConnector opens SQLite connections that keep the statements
// they prepare. Without it, database/sql asks modernc to run each query
// text afresh, and SQLite parsed and planned every statement of every
// request: a sixth of a GET's CPU. pgx has the same cache built in
// (QueryExecModeCacheStatement).
type stmtCachingConnector struct {
	driver.Connector // modernc's (sqlite.NewConnector)
	size             int
}

func (c stmtCachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, errUnsupportedSQLiteDriver
	}
	lru, err := simplelru.NewLRU[string, *cachedStmt](c.size, func(_ string, s *cachedStmt) { s.evict() })
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &stmtCachingConn{sqliteConn: sc, stmts: lru}, nil
}

// errUnsupportedSQLiteDriver means the SQLite driver's connections lack an
// interface that database/sql would use; it is a programming error.
var errUnsupportedSQLiteDriver = errors.New("store: the SQLite driver lacks an interface the statement cache forwards")

// sqliteConn is what modernc's connection implements and database/sql
// uses; stmtCachingConn forwards all of it.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteStmt is what a modernc statement implements.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// stmtCachingConn runs queries and execs that carry arguments through a
// prepared statement kept by query text. Those without arguments pass
// through: ent always binds its values, and what it sends bare (DDL,
// PRAGMAs, migration scripts) runs once. The cache needs no lock of its
// own: database/sql holds the connection's lock around every call into it,
// its rows' Next and Close included (even when its context watcher closes
// rows from another goroutine), whether the connection is shared by a Tx or
// a Conn.
type stmtCachingConn struct {
	sqliteConn
	stmts *simplelru.LRU[string, *cachedStmt]
}

type cachedStmt struct {
	stmt sqliteStmt
	// busy: rows read from it are open, so it cannot run again until they
	// close. evicted: the LRU dropped it while busy; it closes with its rows.
	busy, evicted bool
}

func (s *cachedStmt) evict() {
	if s.busy {
		s.evicted = true
		return
	}
	s.stmt.Close()
}

func (s *cachedStmt) release() {
	s.busy = false
	if s.evicted {
		s.stmt.Close()
	}
}

// statement returns the kept statement for a query with args, preparing it
// on first use, or nil when the query runs uncached: it has no arguments,
// or its statement is busy.
func (c *stmtCachingConn) statement(ctx context.Context, query string, args []driver.NamedValue) (*cachedStmt, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if s, ok := c.stmts.Get(query); ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(sqliteStmt)
	if !ok {
		ds.Close()
		return nil, errUnsupportedSQLiteDriver
	}
	s := &cachedStmt{stmt: st}
	c.stmts.Add(query, s)
	return s, nil
}

func (c *stmtCachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.statement(ctx, query, args)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	sr, ok := rows.(sqliteRows)
	if !ok {
		rows.Close()
		return nil, errUnsupportedSQLiteDriver
	}
	s.busy = true
	return &cachedRows{rows: sr, stmt: s}, nil
}

func (c *stmtCachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.statement(ctx, query, args)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

// Close closes the kept statements, then the connection.
func (c *stmtCachingConn) Close() error {
	c.stmts.Purge()
	return c.sqliteConn.Close()
}

// sqliteRows is what modernc's rows implement; cachedRows forwards it, so
// that database/sql's ColumnTypes keeps working.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows frees its statement for the next query when closed.
type cachedRows struct {
	rows sqliteRows
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.rows.Close()
	if r.stmt != nil {
		r.stmt.release()
		r.stmt = nil
	}
	return err
}

func (r *cachedRows) Columns() []string              { return r.rows.Columns() }
func (r *cachedRows) Next(dest []driver.Value) error { return r.rows.Next(dest) }
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.rows.ColumnTypeDatabaseTypeName(i)
}
func (r *cachedRows) ColumnTypeLength(i int) (int64, bool)  { return r.rows.ColumnTypeLength(i) }
func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) { return r.rows.ColumnTypeNullable(i) }
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type { return r.rows.ColumnTypeScanType(i) }
func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.rows.ColumnTypePrecisionScale(i)
}
