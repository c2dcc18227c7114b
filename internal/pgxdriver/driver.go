// Package pgxdriver is an ent dialect.Driver on pgx's native interface, so
// that ent's statements on PostgreSQL skip database/sql: its connection
// pool, its driver.Value conversions and its row wrappers cost about 15 % of
// a GET's CPU (docs/performance.md, change 17). The pool belongs to the
// caller; the driver only borrows connections from it.
//
// ent gives drivers its SQL text and an []any of arguments, and scans rows
// into the database/sql types its generated code declares (sql.NullString,
// sql.NullTime, []byte…), which pgx scans natively through sql.Scanner.
package pgxdriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxAttempts is how often a statement is tried on a fresh connection when
// the one the pool lent was dead before anything was sent (database/sql
// retries the same way on driver.ErrBadConn).
const maxAttempts = 3

// Driver runs ent's statements on a pgx pool.
type Driver struct {
	pool *pgxpool.Pool
	ids  map[string]*idBlock // the tables whose IDs the driver allocates (see PreallocateIDs)
}

// Option configures a Driver.
type Option func(*Driver)

// New returns a driver over pool. Closing the driver leaves the pool open.
func New(pool *pgxpool.Pool, opts ...Option) *Driver {
	d := &Driver{pool: pool}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Dialect is PostgreSQL.
func (*Driver) Dialect() string { return dialect.Postgres }

// Close does nothing: the pool is its owner's to close.
func (*Driver) Close() error { return nil }

// Exec runs a statement outside a transaction.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	return retry(ctx, func() error { return execOn(ctx, d.pool, query, args, v) })
}

// Query runs a query outside a transaction. The rows hold a pool connection
// until ent closes them.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	return retry(ctx, func() error { return queryOn(ctx, d.pool, query, args, v) })
}

// Tx begins a transaction.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx begins a transaction with database/sql's options, as ent's
// generated Client.BeginTx expects of a driver.
func (d *Driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	return d.Begin(ctx, opts)
}

// querier is what pools and transactions have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// execOn runs a statement; v is nil or ent's *sql.Result. Both are checked
// before anything is sent.
func execOn(ctx context.Context, q querier, query string, args, v any) error {
	res, ok := v.(*sql.Result)
	if !ok && v != nil {
		return fmt.Errorf("pgxdriver: invalid result %T, want *sql.Result", v)
	}
	argv, err := arguments(args)
	if err != nil {
		return err
	}
	tag, err := q.Exec(ctx, query, argv...)
	if err != nil {
		return err
	}
	if res != nil {
		*res = result(tag.RowsAffected())
	}
	return nil
}

// arguments are ent's statement arguments, always an []any.
func arguments(args any) ([]any, error) {
	argv, ok := args.([]any)
	if !ok {
		return nil, fmt.Errorf("pgxdriver: invalid arguments %T, want []any", args)
	}
	return argv, nil
}

func queryOn(ctx context.Context, q querier, query string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	if !ok {
		return fmt.Errorf("pgxdriver: invalid rows %T, want *sql.Rows", v)
	}
	argv, err := arguments(args)
	if err != nil {
		return err
	}
	r, err := q.Query(ctx, query, argv...)
	if err != nil {
		return err
	}
	// The column names are copied now: once the rows are read to the end,
	// pgx hands their connection back to the pool, and its field
	// descriptions to the next query on it.
	fields := r.FieldDescriptions()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	// pgx reports a statement's failure (a constraint violated, the
	// connection lost) when the rows are read; ent expects it from the query,
	// as database/sql gives it. So read up to the first row here, as pgx's
	// own database/sql driver does.
	more := r.Next()
	if err := r.Err(); err != nil {
		r.Close()
		return err
	}
	*vr = entsql.Rows{ColumnScanner: &rows{Rows: r, columns: names, preloaded: true, more: more}}
	return nil
}

// retry runs fn again on a fresh connection while it fails before sending
// anything (a pooled connection found dead, for example after a database
// restart), so such a failure costs no request.
func retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == maxAttempts || !pgconn.SafeToRetry(err) || ctx.Err() != nil {
			return err
		}
	}
}

// beginStatement is the BEGIN of a transaction with database/sql's options.
func beginStatement(opts *sql.TxOptions) (string, error) {
	begin := "BEGIN"
	if opts == nil {
		return begin, nil
	}
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		begin += " ISOLATION LEVEL READ UNCOMMITTED"
	case sql.LevelReadCommitted:
		begin += " ISOLATION LEVEL READ COMMITTED"
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		begin += " ISOLATION LEVEL REPEATABLE READ"
	case sql.LevelSerializable:
		begin += " ISOLATION LEVEL SERIALIZABLE"
	default:
		return "", fmt.Errorf("pgxdriver: isolation level %v is not supported", opts.Isolation)
	}
	if opts.ReadOnly {
		begin += " READ ONLY"
	}
	return begin, nil
}

// result is an Exec's outcome. PostgreSQL has no last insert ID; ent reads
// IDs with RETURNING.
type result int64

func (r result) RowsAffected() (int64, error) { return int64(r), nil }
func (result) LastInsertId() (int64, error) {
	return 0, errors.New("pgxdriver: PostgreSQL has no last insert ID; use RETURNING")
}

// rows adapts pgx's rows to ent's ColumnScanner.
type rows struct {
	pgx.Rows
	columns   []string
	preloaded bool // the first Next has run; more is what it answered
	more      bool
	native    []native // per column, reused from row to row (see Scan)
	targets   []any
}

// native holds one column's value as pgx decodes it without database/sql:
// the sql.Scanner path (pgx's DecodeDatabaseSQLValue, then the Null type's
// Scan) plans the decoding anew and boxes the value for every row.
type native struct {
	text pgtype.Text
	int8 pgtype.Int8
	bool pgtype.Bool
	f8   pgtype.Float8
	ts   pgtype.Timestamptz
}

// Scan copies the current row into dest. ent's generated code scans into
// database/sql's Null types; for the column types that have a pgx value
// of the same meaning, the row is scanned into that and copied over.
// Anything else goes to pgx as it is.
func (r *rows) Scan(dest ...any) error {
	if len(r.native) != len(dest) {
		r.native = make([]native, len(dest))
		r.targets = make([]any, len(dest))
	}
	fields := r.FieldDescriptions()
	if len(fields) != len(dest) {
		return r.Rows.Scan(dest...) // pgx reports the mismatch
	}
	for i, d := range dest {
		r.targets[i] = nativeTarget(&r.native[i], fields[i].DataTypeOID, d)
	}
	if err := r.Rows.Scan(r.targets...); err != nil {
		return err
	}
	for i, d := range dest {
		if r.targets[i] == d {
			continue
		}
		if err := r.native[i].copyTo(d, r.columns[i]); err != nil {
			return err
		}
	}
	return nil
}

// nativeTarget is where pgx scans a column of type oid that ent wants in d.
func nativeTarget(n *native, oid uint32, d any) any {
	switch d.(type) {
	case *sql.NullString:
		switch oid {
		case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
			return &n.text
		}
	case *sql.NullInt64:
		switch oid {
		case pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID:
			return &n.int8
		}
	case *sql.NullBool:
		if oid == pgtype.BoolOID {
			return &n.bool
		}
	case *sql.NullFloat64:
		switch oid {
		case pgtype.Float8OID, pgtype.Float4OID:
			return &n.f8
		}
	case *sql.NullTime:
		if oid == pgtype.TimestamptzOID {
			return &n.ts
		}
	}
	return d
}

func (n *native) copyTo(d any, column string) error {
	switch d := d.(type) {
	case *sql.NullString:
		*d = sql.NullString{String: n.text.String, Valid: n.text.Valid}
	case *sql.NullInt64:
		*d = sql.NullInt64{Int64: n.int8.Int64, Valid: n.int8.Valid}
	case *sql.NullBool:
		*d = sql.NullBool{Bool: n.bool.Bool, Valid: n.bool.Valid}
	case *sql.NullFloat64:
		*d = sql.NullFloat64{Float64: n.f8.Float64, Valid: n.f8.Valid}
	case *sql.NullTime:
		if n.ts.Valid && n.ts.InfinityModifier != pgtype.Finite {
			// database/sql cannot hold infinity in a time either.
			return fmt.Errorf("pgxdriver: column %s: %v cannot be scanned into a time", column, n.ts.InfinityModifier)
		}
		*d = sql.NullTime{Time: n.ts.Time, Valid: n.ts.Valid}
	}
	return nil
}

// Next advances to the next row.
func (r *rows) Next() bool {
	if r.preloaded {
		r.preloaded = false
		return r.more
	}
	return r.Rows.Next()
}

// Close releases the rows' connection. A query's error is reported by Err,
// as database/sql does.
func (r *rows) Close() error {
	r.Rows.Close()
	return nil
}

// Columns are the result's column names.
func (r *rows) Columns() ([]string, error) { return r.columns, nil }

// ColumnTypes is database/sql's alone (its ColumnType cannot be built
// elsewhere). ent only asks for it to scan columns outside the schema, and
// then falls back to scanning into an any.
func (*rows) ColumnTypes() ([]*sql.ColumnType, error) {
	return nil, errors.New("pgxdriver: column types are not available")
}

// NextResultSet reports that there is none: an extended-protocol query has
// one result.
func (*rows) NextResultSet() bool { return false }
