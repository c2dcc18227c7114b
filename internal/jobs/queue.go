package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// riverClient is the part of *river.Client[TTx] that does not depend on the
// transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Queue inserts and lists jobs of one database. It runs no workers (see
// Runner); every opened database has one, so every committed write that
// needs a job gets it.
type Queue struct {
	client riverClient
	// insertTx inserts jobs in a transaction: a pgx.Tx on PostgreSQL, a
	// *sql.Tx on SQLite.
	insertTx func(ctx context.Context, tx any, jobs []river.InsertManyParams) error
	// exec runs River's own queries outside the client (counts, which the
	// client does not offer).
	exec riverdriver.Executor
}

// Backend is what River needs of a database: its dialect (ent's name), its
// database/sql handle, and on PostgreSQL its pgx pool.
type Backend struct {
	Dialect string
	SQL     *sql.DB
	Pool    *pgxpool.Pool
}

// NewQueue returns the queue of a database. It needs River's tables (see
// Migrate) only when used.
//
// On PostgreSQL, River tells workers of new jobs with a NOTIFY (just after
// the inserting transaction's commit: see Tx.Commit), and every
// transaction that notifies takes a global lock at commit. The queue notifies at most once a second (insertNotify),
// so busy write traffic does not serialize on that lock, and under
// connection cuts write latency stays as without jobs (rest's outage test);
// runners poll every second anyway.
func NewQueue(b Backend, log *slog.Logger) (*Queue, error) {
	return newQueue(b, &river.Config{Logger: logger(log), FetchCooldown: insertNotify, FetchPollInterval: insertNotify})
}

// insertNotify is the least time between two new-job notifications of a
// queue (River's FetchCooldown: in a client without workers it only paces
// notifications).
const insertNotify = time.Second

func newQueue(b Backend, cfg *river.Config) (*Queue, error) {
	switch b.Dialect {
	case dialect.Postgres:
		if b.Pool == nil {
			return nil, errors.New("jobs: PostgreSQL needs a pgx pool")
		}
		drv := riverpgxv5.New(b.Pool)
		c, err := river.NewClient(drv, cfg)
		if err != nil {
			return nil, err
		}
		return &Queue{client: c, exec: drv.GetExecutor(), insertTx: func(ctx context.Context, tx any, jobs []river.InsertManyParams) error {
			ptx, ok := tx.(pgx.Tx)
			if !ok {
				return fmt.Errorf("jobs: a PostgreSQL queue cannot insert into a %T", tx)
			}
			_, err := c.InsertManyTx(ctx, ptx, jobs)
			return err
		}}, nil
	case dialect.SQLite:
		drv := riversqlite.New(b.SQL)
		c, err := river.NewClient(drv, cfg)
		if err != nil {
			return nil, err
		}
		return &Queue{client: c, exec: drv.GetExecutor(), insertTx: func(ctx context.Context, tx any, jobs []river.InsertManyParams) error {
			stx, ok := tx.(*sql.Tx)
			if !ok {
				return fmt.Errorf("jobs: a SQLite queue cannot insert into a %T", tx)
			}
			_, err := c.InsertManyTx(ctx, stx, jobs)
			return err
		}}, nil
	}
	return nil, errors.New("jobs: unsupported dialect " + b.Dialect)
}

// InsertPgx inserts jobs in a PostgreSQL transaction: they become visible
// to workers when it commits, and never exist if it rolls back.
func (q *Queue) InsertPgx(ctx context.Context, tx pgx.Tx, jobs []river.InsertManyParams) error {
	return q.insertTx(ctx, tx, jobs)
}

// InsertSQL inserts jobs in a SQLite transaction, as InsertPgx does.
func (q *Queue) InsertSQL(ctx context.Context, tx *sql.Tx, jobs []river.InsertManyParams) error {
	return q.insertTx(ctx, tx, jobs)
}

// Insert inserts a job on its own (operations and tests; writes use the
// transactional EnqueueTx through their hooks).
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	res, err := q.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, err
	}
	return res.Job, nil
}

// Job returns one job.
func (q *Queue) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return q.client.JobGet(ctx, id)
}

// Jobs lists jobs in the states (all states when none), newest first.
func (q *Queue) Jobs(ctx context.Context, limit int, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(states) > 0 {
		p = p.States(states...)
	}
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

// Failed lists the jobs that failed for good: discarded after their last
// attempt (or by a worker that gave up on them), most recent first.
func (q *Queue) Failed(ctx context.Context, limit int) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().States(rivertype.JobStateDiscarded).First(limit).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc)
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

// FailedCount counts the jobs Failed lists (the discarded ones), with one
// COUNT query rather than by listing them.
func (q *Queue) FailedCount(ctx context.Context) (int, error) {
	return q.exec.JobCountByState(ctx, &riverdriver.JobCountByStateParams{State: rivertype.JobStateDiscarded})
}

func logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.Default()
	}
	return log
}
