package testutil

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/store"
)

// Statements records what an ent client sends to its database: every Exec
// and Query in and out of transactions, and each begin, commit and
// rollback. Tests use it to pin round trips and the SQL's shape.
type Statements struct {
	mu   sync.Mutex
	sent []Statement
}

// Statement is one statement as sent: its SQL (or BEGIN, COMMIT, ROLLBACK)
// and its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// CountStatements returns a copy of db whose ent client sends everything
// through a recorder, and the recorder.
func CountStatements(db *store.DB) (*store.DB, *Statements) {
	s := &Statements{}
	counted := *db
	counted.Client = ent.NewClient(ent.Driver(&recordingDriver{Driver: entsql.OpenDB(db.Dialect, db.SQL), s: s}))
	return &counted, s
}

// Count is the number of statements sent so far.
func (s *Statements) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// Sent returns the SQL of the statements sent so far, in order.
func (s *Statements) Sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.sent))
	for i, st := range s.sent {
		out[i] = st.SQL
	}
	return out
}

// Recorded returns the statements sent so far with their arguments.
func (s *Statements) Recorded() []Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Statement(nil), s.sent...)
}

// Reset forgets what was sent.
func (s *Statements) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = nil
}

func (s *Statements) add(q string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, Statement{SQL: q, Args: args})
}

// argsOf unpacks the arguments of ent's Exec and Query (an []any).
func argsOf(args any) []any {
	a, _ := args.([]any)
	return a
}

type recordingDriver struct {
	*entsql.Driver
	s *Statements
}

func (d *recordingDriver) Exec(ctx context.Context, q string, args, v any) error {
	d.s.add(q, argsOf(args)...)
	return d.Driver.Exec(ctx, q, args, v)
}

func (d *recordingDriver) Query(ctx context.Context, q string, args, v any) error {
	d.s.add(q, argsOf(args)...)
	return d.Driver.Query(ctx, q, args, v)
}

func (d *recordingDriver) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	d.s.add(q, args...)
	return d.Driver.ExecContext(ctx, q, args...)
}

func (d *recordingDriver) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	d.s.add(q, args...)
	return d.Driver.QueryContext(ctx, q, args...)
}

func (d *recordingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	d.s.add("BEGIN")
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &recordingTx{Tx: tx, s: d.s}, nil
}

func (d *recordingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

type recordingTx struct {
	dialect.Tx
	s *Statements
}

func (t *recordingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.s.add(q, argsOf(args)...)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *recordingTx) Query(ctx context.Context, q string, args, v any) error {
	t.s.add(q, argsOf(args)...)
	return t.Tx.Query(ctx, q, args, v)
}

// ExecContext and QueryContext are what ent's generated ExecContext and
// QueryContext reach for on a transaction.
func (t *recordingTx) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	ex, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("%T has no ExecContext", t.Tx)
	}
	t.s.add(q, args...)
	return ex.ExecContext(ctx, q, args...)
}

func (t *recordingTx) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	qr, ok := t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("%T has no QueryContext", t.Tx)
	}
	t.s.add(q, args...)
	return qr.QueryContext(ctx, q, args...)
}

func (t *recordingTx) Commit() error   { t.s.add("COMMIT"); return t.Tx.Commit() }
func (t *recordingTx) Rollback() error { t.s.add("ROLLBACK"); return t.Tx.Rollback() }
