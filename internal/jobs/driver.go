// Package jobs is Leadron's durable background work, on River: the
// duplicate-check job, its worker, and the plumbing that inserts a job in the
// same database transaction as the write that needs it.
//
// The transaction plumbing: ent hides the database transaction under its
// own Tx, and River needs that transaction itself (*sql.Tx on SQLite, a
// pgx.Tx on PostgreSQL). So the ent client runs on Driver, a decorator of
// its database driver (ent's database/sql one on SQLite, pgxdriver's on
// PostgreSQL) whose transactions (Tx) can hand theirs to River. A hook
// finds the Tx under a write by probing it (see probe), and the Tx carries
// the Enqueuer its driver was built with: each database has its own queue,
// set when the database is opened (store.Open), and nothing is global.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadron/leadron/internal/audit"
	"github.com/leadron/leadron/internal/pgxdriver"
)

// Enqueuer inserts jobs in a transaction. *Queue is the real one.
type Enqueuer interface {
	// InsertPgx inserts jobs with River's riverpgxv5 driver.
	InsertPgx(ctx context.Context, tx pgx.Tx, jobs []river.InsertManyParams) error
	// InsertSQL inserts jobs with River's riversqlite driver.
	InsertSQL(ctx context.Context, tx *sql.Tx, jobs []river.InsertManyParams) error
}

// ErrNotInTransaction refuses to enqueue outside a transaction: the job
// must commit or roll back with the write that needs it. It is an
// audit.ErrNotInTransaction, the refusal of every audited write outside one.
var ErrNotInTransaction = fmt.Errorf("%w: jobs are enqueued in the transaction of their write (of a client opened by store.Open)", audit.ErrNotInTransaction)

// Driver is ent's driver whose transactions lend their database
// transaction to River: *entsql.Driver on SQLite, *pgxdriver.Driver on
// PostgreSQL. Everything else is the embedded driver's.
type Driver struct {
	dialect.Driver
	enq Enqueuer
}

// NewDriver decorates drv; enq receives the jobs that hooks enqueue in its
// transactions.
func NewDriver(drv dialect.Driver, enq Enqueuer) *Driver {
	return &Driver{Driver: drv, enq: enq}
}

// Tx begins a transaction.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx begins a transaction with options.
func (d *Driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	switch drv := d.Driver.(type) {
	case *pgxdriver.Driver:
		tx, err := drv.Begin(ctx, opts)
		if err != nil {
			return nil, err
		}
		return &Tx{Tx: tx, pg: tx, enq: d.enq}, nil
	case *entsql.Driver:
		tx, err := drv.DB().BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		return &Tx{Tx: &entsql.Tx{Conn: entsql.Conn{ExecQuerier: tx}, Tx: tx}, sql: tx, enq: d.enq}, nil
	}
	return nil, fmt.Errorf("jobs: a %T cannot lend its transactions to River", d.Driver)
}

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
// River inserts jobs into it when it commits.
type Tx struct {
	dialect.Tx
	sql *sql.Tx       // SQLite
	pg  *pgxdriver.Tx // PostgreSQL
	enq Enqueuer
	// jobs were enqueued and are inserted at commit, under ctx (the first
	// Enqueue's).
	jobs []river.InsertManyParams
	ctx  context.Context
}

// Commit inserts the enqueued jobs and commits. On PostgreSQL River's
// insert carries the commit (pgxdriver's CommitWith), so a write and its
// job reach the database in one round trip with the rest of the
// transaction.
func (t *Tx) Commit() error {
	if len(t.jobs) == 0 {
		return t.Tx.Commit()
	}
	ctx, jobs := t.ctx, t.jobs
	t.jobs, t.ctx = nil, nil
	if t.pg != nil {
		return t.pg.CommitWith(func(ptx pgx.Tx) error { return t.enq.InsertPgx(ctx, ptx, jobs) })
	}
	if err := t.enq.InsertSQL(ctx, t.sql, jobs); err != nil {
		_ = t.Tx.Rollback()
		return err
	}
	return t.Tx.Commit()
}

// Exec runs a statement for ent, and answers a probe (see withProbe).
func (t *Tx) Exec(ctx context.Context, query string, args, v any) error {
	t.answer(ctx)
	return t.Tx.Exec(ctx, query, args, v)
}

// Query runs a query for ent, and answers a probe (see withProbe).
func (t *Tx) Query(ctx context.Context, query string, args, v any) error {
	t.answer(ctx)
	return t.Tx.Query(ctx, query, args, v)
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

// Enqueue adds a job to the transaction, through the queue of the
// database the transaction belongs to: it is inserted when the
// transaction commits, and is never inserted if it rolls back.
func (t *Tx) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if t.enq == nil {
		return errors.New("jobs: the database was opened without a queue")
	}
	if t.ctx == nil {
		t.ctx = ctx
	}
	t.jobs = append(t.jobs, river.InsertManyParams{Args: args, InsertOpts: opts})
	return nil
}
