// Package jobs is Leadron's durable background work, on River: the
// duplicate-check job, its worker, and the plumbing that inserts a job in the
// same database transaction as the write that needs it.
//
// The transaction plumbing: ent hides the database transaction under its
// own Tx, and River needs that transaction itself (*sql.Tx on SQLite, a
// pgx.Tx on PostgreSQL). So the ent client runs on Driver, a decorator of
// ent's SQL driver whose transactions (Tx) can hand theirs to River. A hook
// finds the Tx under a write by probing it (see probe), and the Tx carries
// the Enqueuer its driver was built with: each database has its own queue,
// set when the database is opened (store.Open), and nothing is global.
package jobs

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"

	"github.com/leadron/leadron/internal/audit"
)

// Enqueuer inserts jobs in a transaction. *Queue is the real one.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// ErrNotInTransaction refuses to enqueue outside a transaction: the job
// must commit or roll back with the write that needs it. It is an
// audit.ErrNotInTransaction, the refusal of every audited write outside one.
var ErrNotInTransaction = fmt.Errorf("%w: jobs are enqueued in the transaction of their write (of a client opened by store.Open)", audit.ErrNotInTransaction)

// Driver is ent's SQL driver whose transactions lend their database
// transaction to River. Everything else is the embedded driver's.
type Driver struct {
	*entsql.Driver
	enq Enqueuer
}

// NewDriver decorates drv; enq receives the jobs that hooks enqueue in its
// transactions.
func NewDriver(drv *entsql.Driver, enq Enqueuer) *Driver {
	return &Driver{Driver: drv, enq: enq}
}

// Tx begins a transaction.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx begins a transaction with options. On PostgreSQL it runs on a
// connection held for its lifetime, so River's pgx driver can reach the same
// session (see Tx.WithPgx).
func (d *Driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	t := &Tx{enq: d.enq}
	var err error
	if d.Dialect() == dialect.Postgres {
		// Like sql.DB.BeginTx, retry on a pooled connection found dead, so a
		// database restart costs no failed request.
		for attempt := 1; ; attempt++ {
			if t.conn, err = d.DB().Conn(ctx); err != nil {
				return nil, err
			}
			if t.tx, err = t.conn.BeginTx(ctx, opts); err == nil {
				break
			}
			_ = t.conn.Close()
			if !errors.Is(err, driver.ErrBadConn) || attempt == maxBadConnRetries {
				return nil, err
			}
		}
	} else if t.tx, err = d.DB().BeginTx(ctx, opts); err != nil {
		return nil, err
	}
	t.Conn = entsql.Conn{ExecQuerier: t.tx}
	return t, nil
}

// maxBadConnRetries is how often BeginTx tries a fresh connection after one
// the pool handed out turns out dead (database/sql tries three times too).
const maxBadConnRetries = 3

// Exec runs a statement outside a transaction, and answers a probe.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	if p, ok := ctx.Value(probeKey{}).(*probe); ok {
		p.outside = true
	}
	return d.Driver.Exec(ctx, query, args, v)
}

// Query runs a query outside a transaction, and answers a probe.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	if p, ok := ctx.Value(probeKey{}).(*probe); ok {
		p.outside = true
	}
	return d.Driver.Query(ctx, query, args, v)
}

// Tx is a transaction begun by Driver: ent runs its statements on it, and
// River inserts jobs into it.
type Tx struct {
	entsql.Conn
	tx   *sql.Tx
	conn *sql.Conn // PostgreSQL: the connection under tx, held until the end
	enq  Enqueuer
}

// Commit commits the transaction.
func (t *Tx) Commit() error {
	err := t.tx.Commit()
	t.release()
	return err
}

// Rollback rolls the transaction back.
func (t *Tx) Rollback() error {
	err := t.tx.Rollback()
	t.release()
	return err
}

func (t *Tx) release() {
	if t.conn != nil {
		_ = t.conn.Close() // returns the connection to the pool
	}
}

// SQLTx returns the database/sql transaction (River's riversqlite driver
// takes it).
func (t *Tx) SQLTx() *sql.Tx { return t.tx }

// WithPgx calls fn with the transaction as a pgx.Tx, for River's riverpgxv5
// driver. fn runs while database/sql lends the connection (sql.Conn.Raw), so
// it never overlaps ent's own statements; the pgx.Tx it gets shares the
// session, and so the transaction, but cannot commit, roll back or nest it:
// the transaction stays ent's.
func (t *Tx) WithPgx(fn func(pgx.Tx) error) error {
	if t.conn == nil {
		return errors.New("jobs: not a PostgreSQL transaction")
	}
	return t.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("jobs: PostgreSQL connection is %T, not pgx's", dc)
		}
		return fn(sessionTx{sc.Conn()})
	})
}

// Exec runs a statement for ent, and answers a probe (see withProbe).
func (t *Tx) Exec(ctx context.Context, query string, args, v any) error {
	t.answer(ctx)
	return t.Conn.Exec(ctx, query, args, v)
}

// Query runs a query for ent, and answers a probe (see withProbe).
func (t *Tx) Query(ctx context.Context, query string, args, v any) error {
	t.answer(ctx)
	return t.Conn.Query(ctx, query, args, v)
}

func (t *Tx) answer(ctx context.Context) {
	if p, ok := ctx.Value(probeKey{}).(*probe); ok && p.tx == nil {
		p.tx = t
	}
}

type probeKey struct{}

// probe finds the transaction under an ent write: a hook passes the
// context of withProbe to the rest of the write, and the Tx that runs the
// write's statements records itself in it. Statements travel through any
// driver decorators ent is given (they forward Exec and Query with their
// context), so the probe finds the Tx wherever it sits.
type probe struct {
	tx      *Tx
	outside bool // a statement ran on Driver outside any transaction
}

func withProbe(ctx context.Context) (context.Context, *probe) {
	p := &probe{}
	return context.WithValue(ctx, probeKey{}, p), p
}

// Enqueue inserts a job in the transaction, through the queue of the
// database the transaction belongs to.
func (t *Tx) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if t.enq == nil {
		return errors.New("jobs: the database was opened without a queue")
	}
	return t.enq.EnqueueTx(ctx, t, args, opts)
}

// sessionTx is a pgx.Tx over a connection whose transaction database/sql
// began: statements run in it, but ending or nesting it is refused.
type sessionTx struct{ c *pgx.Conn }

var errTxOwned = errors.New("jobs: the transaction belongs to ent; it cannot be ended or nested here")

func (s sessionTx) Begin(context.Context) (pgx.Tx, error) { return nil, errTxOwned }
func (s sessionTx) Commit(context.Context) error          { return errTxOwned }
func (s sessionTx) Rollback(context.Context) error        { return errTxOwned }
func (s sessionTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return s.c.CopyFrom(ctx, table, cols, src)
}
func (s sessionTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return s.c.SendBatch(ctx, b)
}
func (s sessionTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (s sessionTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return s.c.Prepare(ctx, name, sql)
}
func (s sessionTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return s.c.Exec(ctx, sql, args...)
}
func (s sessionTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return s.c.Query(ctx, sql, args...)
}
func (s sessionTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return s.c.QueryRow(ctx, sql, args...)
}
func (s sessionTx) Conn() *pgx.Conn { return s.c }
