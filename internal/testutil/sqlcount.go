package testutil

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"sync"

	"entgo.io/ent/dialect"

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
	counted.Client = ent.NewClient(ent.Driver(&recordingDriver{Driver: db.Driver(), s: s}))
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

// recordingDriver records around the database's own driver, so what it
// counts is what production sends, on the same connections.
type recordingDriver struct {
	dialect.Driver
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

func (d *recordingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	d.s.add("BEGIN")
	var tx dialect.Tx
	var err error
	if b, ok := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	}); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else if opts == nil {
		tx, err = d.Driver.Tx(ctx)
	} else {
		err = fmt.Errorf("%T takes no transaction options", d.Driver)
	}
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

func (t *recordingTx) Commit() error   { t.s.add("COMMIT"); return t.Tx.Commit() }
func (t *recordingTx) Rollback() error { t.s.add("ROLLBACK"); return t.Tx.Rollback() }
