package pgxdriver

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Begin is BeginTx with the transaction's own type, for callers that
// commit with CommitWith. Every transaction
// must end with Commit, CommitWith or Rollback: unlike database/sql,
// nothing rolls it back when its context ends, and until then it holds a
// pool connection.
func (d *Driver) Begin(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	begin, err := beginStatement(opts)
	if err != nil {
		return nil, err
	}
	conn, err := d.acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &Tx{d: d, conn: conn, ctx: ctx, begin: begin}, nil
}

func (d *Driver) acquire(ctx context.Context) (conn *pgxpool.Conn, err error) {
	err = retry(ctx, func() (err error) {
		conn, err = d.pool.Acquire(ctx)
		return err
	})
	return conn, err
}

// rollbackTimeout bounds a rollback, which runs even after the request's
// context has ended: on a network that went silent it gives up, and the
// connection is closed instead of returned.
const rollbackTimeout = 2 * time.Second

// Tx is a transaction on one pool connection, held until it ends.
//
// It sends nothing until a statement needs an answer. BEGIN goes in the
// same round trip as the first statement, and an insert whose ID the
// driver allocated (PreallocateIDs) is answered at once and waits for the
// next statement that needs an answer, or for the commit. A transaction
// whose statements all wait, or whose last one is CommitWith's, reaches
// PostgreSQL in one round trip: its statements are pipelined up to one
// Sync, which PostgreSQL runs as one implicit transaction, so they commit
// together or not at all.
type Tx struct {
	d     *Driver
	conn  *pgxpool.Conn
	ctx   context.Context // Begin's: commit runs under it, as in database/sql
	begin string          // BEGIN with the transaction's options
	begun bool            // BEGIN has been sent
	// queued statements were answered for (their inserts' IDs) but not
	// yet sent.
	queued []statement
	state  txState
	// carrier holds the answer of CommitWith's query, and with it how the
	// commit it carried went (outcome).
	carrier *batchRows
	outcome error
}

type txState int

const (
	txOpen       txState = iota
	txCommitting         // in CommitWith: the next query carries the commit
	txCommitted          // by CommitWith's query; what fn sends after runs outside
	txDone
)

type statement struct {
	sql  string
	args []any
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, query string, args, v any) error {
	return execOn(ctx, txQuerier{t}, query, args, v)
}

// Query runs a query in the transaction. ent's insert of one row into a
// table of PreallocateIDs is answered with an allocated ID and queued.
func (t *Tx) Query(ctx context.Context, query string, args, v any) error {
	if t.state == txOpen {
		if done, err := t.queueInsert(ctx, query, args, v); done {
			return err
		}
	}
	return queryOn(ctx, txQuerier{t}, query, args, v)
}

// Commit commits the transaction, sending what is still queued with the
// COMMIT. Like database/sql, it fails once the context it began with is
// done; the transaction is then rolled back, so that its connection goes
// back to the pool clean.
func (t *Tx) Commit() error {
	if t.state != txOpen {
		return sql.ErrTxDone
	}
	if err := t.ctx.Err(); err != nil {
		_ = t.Rollback()
		return err
	}
	defer t.end()
	if len(t.queued) == 0 {
		if !t.begun {
			return nil // nothing was sent: nothing to commit
		}
		return commitResult(t.conn.Exec(t.ctx, "COMMIT"))
	}
	_, err := t.send(t.ctx, nil, true)
	return err
}

// CommitWith calls fn with the transaction as a pgx.Tx, and commits. The
// first query fn sends carries the commit: it goes in one round trip with
// the statements still queued and, if BEGIN was sent, the COMMIT, so
// River's insert of a job costs a create no round trip of its own. What fn
// sends after that query runs outside the transaction, once it has
// committed (River's NOTIFY of new jobs), and fn's error is then ignored:
// CommitWith reports how the commit went. If fn sends no query, or fails
// before it does, CommitWith commits or rolls back as Commit would.
func (t *Tx) CommitWith(fn func(pgx.Tx) error) error {
	if t.state != txOpen {
		return sql.ErrTxDone
	}
	if err := t.ctx.Err(); err != nil {
		_ = t.Rollback()
		return err
	}
	t.state = txCommitting
	err := fn(lent{t})
	if t.state == txCommitted {
		if t.carrier != nil {
			t.carrier.Close() // reads the commit's answer, if fn did not
		}
		t.end()
		return t.outcome
	}
	if t.state == txDone { // the connection was lost before anything was sent
		t.end()
		if err == nil {
			err = t.outcome
		}
		return err
	}
	t.state = txOpen
	if err != nil {
		_ = t.Rollback()
		return err
	}
	return t.Commit()
}

// Rollback rolls the transaction back, also after its context is done
// (within rollbackTimeout).
func (t *Tx) Rollback() error {
	if t.state == txDone || t.state == txCommitted {
		return sql.ErrTxDone // what database/sql answers for an ended transaction
	}
	t.queued = nil
	if !t.begun {
		t.end()
		return nil
	}
	err := t.rollback()
	t.end()
	return err
}

func (t *Tx) rollback() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), rollbackTimeout)
	defer cancel()
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	if err != nil {
		// The connection's state is unknown: close it rather than return it.
		closed, cancel := context.WithCancel(context.Background())
		cancel() // a cancelled context closes at once, without a goodbye
		_ = t.conn.Conn().Close(closed)
	}
	return err
}

// end gives the connection back. pgxpool closes it instead if it is still
// in a transaction, for example after a failed COMMIT in a pipeline.
func (t *Tx) end() {
	t.state = txDone
	t.queued = nil
	if t.conn != nil {
		if t.begun && t.conn.Conn().PgConn().TxStatus() == 'E' {
			_ = t.rollback()
		}
		t.conn.Release()
		t.conn = nil
	}
}

// txQuerier runs a statement now, with whatever is queued before it.
type txQuerier struct{ t *Tx }

func (q txQuerier) Exec(ctx context.Context, query string, args ...any) (pgconn.CommandTag, error) {
	t := q.t
	switch {
	case t.state == txDone:
		return pgconn.CommandTag{}, sql.ErrTxDone
	case t.state == txCommitted || (t.begun && len(t.queued) == 0):
		return t.conn.Exec(ctx, query, args...)
	}
	br, err := t.send(ctx, &statement{query, args}, false)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (q txQuerier) Query(ctx context.Context, query string, args ...any) (pgx.Rows, error) {
	t := q.t
	switch {
	case t.state == txDone:
		return nil, sql.ErrTxDone
	case t.state == txCommitting:
		return t.queryCommitting(ctx, query, args)
	case t.state == txCommitted || (t.begun && len(t.queued) == 0):
		return t.conn.Query(ctx, query, args...)
	}
	br, err := t.send(ctx, &statement{query, args}, false)
	if err != nil {
		return nil, err
	}
	return lastRows(br, nil)
}

// lastRows are the rows of the batch's next answer.
func lastRows(br pgx.BatchResults, commit *Tx) (pgx.Rows, error) {
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		if commit != nil {
			commit.outcome = err
		}
		return nil, err
	}
	return &batchRows{Rows: rows, br: br, commit: commit}, nil
}

// queryCommitting sends CommitWith's query with the commit.
func (t *Tx) queryCommitting(ctx context.Context, query string, args []any) (pgx.Rows, error) {
	t.state = txCommitted
	t.outcome = errors.New("pgxdriver: the commit's answer was not read")
	br, err := t.send(ctx, &statement{query, args}, true)
	if err != nil {
		t.outcome = err
		return nil, err
	}
	rows, err := lastRows(br, t)
	if r, ok := rows.(*batchRows); ok {
		t.carrier = r
	}
	return rows, err
}

// send sends, in one round trip: BEGIN if it has not been sent, the queued
// statements, last if any, and COMMIT if commit. It reads the answers up to
// last's and returns the batch there; without last it reads them all and
// returns nil. A commit of a transaction that never sent BEGIN sends none:
// the pipeline's single Sync makes it PostgreSQL's implicit transaction.
func (t *Tx) send(ctx context.Context, last *statement, commit bool) (pgx.BatchResults, error) {
	implicit := commit && !t.begun && t.begin == "BEGIN"
	explicitBegin := !t.begun && !implicit
	for attempt := 1; ; attempt++ {
		b := &pgx.Batch{}
		if explicitBegin {
			b.Queue(t.begin)
		}
		for _, s := range t.queued {
			b.Queue(s.sql, s.args...)
		}
		if last != nil {
			b.Queue(last.sql, last.args...)
		}
		if commit && !implicit {
			b.Queue("COMMIT")
		}
		br := t.conn.SendBatch(ctx, b)
		err := t.readResults(br, explicitBegin, commit && !implicit && last == nil)
		if err == nil {
			t.begun = t.begun || explicitBegin
			t.queued = nil
			if last == nil {
				return nil, br.Close()
			}
			return br, nil
		}
		_ = br.Close()
		// Nothing reached the server on a connection found dead: the
		// whole transaction can go again on another.
		fresh := !t.begun && attempt < maxAttempts && pgconn.SafeToRetry(err) && ctx.Err() == nil
		if !fresh {
			t.begun = t.begun || explicitBegin
			t.queued = nil
			return nil, err
		}
		if err := t.reconnect(ctx); err != nil {
			return nil, err
		}
	}
}

// reconnect swaps the transaction's connection, found dead before the
// transaction sent anything, for another from the pool. If none can be
// had, the transaction ends with that error.
func (t *Tx) reconnect(ctx context.Context) error {
	t.conn.Release() // pgxpool closes a dead connection instead of keeping it
	t.conn = nil
	var err error
	if t.conn, err = t.d.acquire(ctx); err != nil {
		t.state, t.queued, t.outcome = txDone, nil, err
	}
	return err
}

// readResults reads the answers of send's batch up to its last statement:
// BEGIN's if begin, the queued statements', and COMMIT's if commit.
func (t *Tx) readResults(br pgx.BatchResults, begin, commit bool) error {
	if begin {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	for _, s := range t.queued {
		if _, err := br.Exec(); err != nil {
			return &QueuedError{SQL: s.sql, Err: err}
		}
	}
	if commit {
		return commitResult(br.Exec())
	}
	return nil
}

// QueuedError is the failure of a statement the driver answered for and
// sent later (see PreallocateIDs): the statement it went with, or the
// commit, reports it. ent's create returned before it failed, so ent has
// not wrapped it (as a ConstraintError, for one).
type QueuedError struct {
	SQL string
	Err error
}

func (e *QueuedError) Error() string { return "pgxdriver: queued insert: " + e.Err.Error() }
func (e *QueuedError) Unwrap() error { return e.Err }

// commitResult is a COMMIT's outcome: PostgreSQL answers the COMMIT of a
// failed transaction with ROLLBACK, which pgx reports as an error too.
func commitResult(tag pgconn.CommandTag, err error) error {
	if err == nil && tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return err
}

// batchRows are the rows of a batch's last query: when they end, the batch
// is read to its end, with the COMMIT that followed them, if any.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	commit *Tx // the transaction whose COMMIT followed, or nil
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.finish()
	return false
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

func (r *batchRows) Close() {
	r.finish()
}

func (r *batchRows) finish() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	err := r.Rows.Err()
	if r.commit != nil && r.commit.begun && err == nil {
		err = commitResult(r.br.Exec())
	}
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	r.err = err
	if r.commit != nil {
		r.commit.outcome = err
	}
}

// lent is a Tx lent out as a pgx.Tx, to CommitWith's function (River's
// riverpgxv5 driver): its statements run in the transaction, in order with
// ent's; ending or nesting it is refused, the transaction stays its
// owner's.
type lent struct{ t *Tx }

var errTxOwned = errors.New("pgxdriver: the transaction belongs to its owner; it cannot be ended or nested here")

func (lent) Begin(context.Context) (pgx.Tx, error) { return nil, errTxOwned }
func (lent) Commit(context.Context) error          { return errTxOwned }
func (lent) Rollback(context.Context) error        { return errTxOwned }

func (l lent) Exec(ctx context.Context, query string, args ...any) (pgconn.CommandTag, error) {
	return txQuerier(l).Exec(ctx, query, args...)
}

func (l lent) Query(ctx context.Context, query string, args ...any) (pgx.Rows, error) {
	return txQuerier(l).Query(ctx, query, args...)
}

func (l lent) QueryRow(ctx context.Context, query string, args ...any) pgx.Row {
	rows, err := l.Query(ctx, query, args...)
	return row{rows: rows, err: err}
}

// The rest need the transaction's connection with nothing queued.

func (l lent) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := l.t.flush(ctx); err != nil {
		return 0, err
	}
	return l.t.conn.CopyFrom(ctx, table, columns, src)
}

func (l lent) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := l.t.flush(ctx); err != nil {
		return errBatch{err: err}
	}
	return l.t.conn.SendBatch(ctx, b)
}

// LargeObjects is not lent: pgx builds it only for its own transactions.
func (lent) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (l lent) Prepare(ctx context.Context, name, query string) (*pgconn.StatementDescription, error) {
	return l.t.conn.Conn().Prepare(ctx, name, query)
}

func (l lent) Conn() *pgx.Conn { return l.t.conn.Conn() }

// flush sends BEGIN and the queued statements, if any wait.
func (t *Tx) flush(ctx context.Context) error {
	if t.state == txDone {
		return sql.ErrTxDone
	}
	if t.state == txCommitted || (t.begun && len(t.queued) == 0) {
		return nil
	}
	_, err := t.send(ctx, nil, false)
	return err
}

// row is QueryRow's answer.
type row struct {
	rows pgx.Rows
	err  error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// errBatch is the answer to a batch that could not be sent.
type errBatch struct {
	pgx.BatchResults // nil: only the methods below are answered
	err              error
}

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return row{err: b.err} }
func (b errBatch) Close() error                     { return b.err }
