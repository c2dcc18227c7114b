package pgxdriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// idBlockSize is how many IDs of a table the driver draws from its
// sequence at a time: one round trip per that many creates.
const idBlockSize = 64

// PreallocateIDs makes the driver number the rows ent inserts one at a
// time into tables (each with an identity or serial "id" column) in a
// transaction. ent sends such an insert with RETURNING "id" and waits for
// the answer before it goes on; the driver instead draws the ID ahead from
// the column's own sequence, answers ent with it at once, and queues the
// insert with the ID set, to go with the transaction's next statement that
// needs an answer, or its commit (see Tx). The database still numbers the
// rows: IDs stay unique across processes, but a process that draws a block
// can write a row with an ID below one another process wrote before it.
//
// A failure of a queued insert (a constraint it violates) is reported by
// the statement it went with, or by the commit, instead of by ent's create.
func PreallocateIDs(tables ...string) Option {
	return func(d *Driver) {
		if d.ids == nil {
			d.ids = make(map[string]*idBlock, len(tables))
		}
		for _, table := range tables {
			d.ids[table] = &idBlock{table: table, lock: make(chan struct{}, 1)}
		}
	}
}

// idBlock holds the IDs of one table drawn and not yet used.
type idBlock struct {
	table string
	// lock guards free; a channel, so that a create waiting behind a
	// block's draw on a stalled connection gives up with its context.
	lock chan struct{}
	free []int64
}

// take returns an unused ID, drawing a block on the transaction's own
// connection when none is left: on a second connection, transactions
// holding all of the pool's would wait for each other.
func (b *idBlock) take(ctx context.Context, t *Tx) (int64, error) {
	select {
	case b.lock <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-b.lock }()
	if len(b.free) == 0 {
		ids, err := b.draw(ctx, t)
		if err != nil {
			return 0, fmt.Errorf("pgxdriver: drawing IDs of %s: %w", b.table, err)
		}
		b.free = ids
	}
	id := b.free[0]
	b.free = b.free[1:]
	return id, nil
}

// draw takes a block of IDs from the table's sequence. Until the
// transaction has sent anything, a connection found dead is swapped for
// another, as Begin did when it sent BEGIN at once.
func (b *idBlock) draw(ctx context.Context, t *Tx) ([]int64, error) {
	for attempt := 1; ; attempt++ {
		rows, err := t.conn.Query(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`,
			strconv.Quote(b.table), idBlockSize)
		var ids []int64
		if err == nil {
			ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		}
		switch {
		case err == nil && len(ids) == 0:
			return nil, errors.New("the sequence gave none")
		case err == nil:
			return ids, nil
		case t.begun || attempt == maxAttempts || !pgconn.SafeToRetry(err) || ctx.Err() != nil:
			return nil, err
		}
		if err := t.reconnect(ctx); err != nil {
			return nil, err
		}
	}
}

// queueInsert answers ent's single-row insert into a table of
// PreallocateIDs with an allocated ID, and queues it. It reports false
// for any other statement, which the caller then sends.
func (t *Tx) queueInsert(ctx context.Context, query string, args, v any) (bool, error) {
	if len(t.d.ids) == 0 || !strings.HasPrefix(query, `INSERT INTO "`) {
		return false, nil
	}
	table, _, _ := strings.Cut(query[len(`INSERT INTO "`):], `"`)
	b, ok := t.d.ids[table]
	if !ok {
		return false, nil
	}
	argv, ok := args.([]any)
	if !ok {
		return false, nil
	}
	withID, ok := insertWithID(query, table, len(argv)+1)
	if !ok {
		return false, nil
	}
	vr, ok := v.(*entsql.Rows)
	if !ok {
		return false, nil
	}
	id, err := b.take(ctx, t)
	if err != nil {
		return true, err
	}
	t.queued = append(t.queued, statement{sql: withID, args: append(argv[:len(argv):len(argv)], id)})
	*vr = entsql.Rows{ColumnScanner: &idRows{id: id}}
	return true, nil
}

// insertWithID rewrites ent's insert of one row into table, as sqlgraph
// writes it for PostgreSQL:
//
//	INSERT INTO "t" ("a", "b") VALUES ($1, $2) RETURNING "id"
//
// into the same insert with the ID as parameter n and nothing returned:
//
//	INSERT INTO "t" ("id", "a", "b") VALUES ($3, $1, $2)
//
// Anything else (several rows, ON CONFLICT, other returned columns) is
// left alone.
func insertWithID(query, table string, n int) (string, bool) {
	prefix := `INSERT INTO "` + table + `" (`
	const suffix = `) RETURNING "id"`
	const values = `) VALUES (`
	if !strings.HasPrefix(query, prefix) || !strings.HasSuffix(query, suffix) {
		return "", false
	}
	body := query[len(prefix) : len(query)-len(suffix)] // "a", "b") VALUES ($1, $2
	columns, params, ok := strings.Cut(body, values)
	if !ok || strings.Contains(params, values) || strings.ContainsAny(params, "()") ||
		strings.Contains(columns, `"id"`) {
		return "", false
	}
	return prefix + `"id", ` + columns + values + "$" + strconv.Itoa(n) + ", " + params + ")", true
}

// idRows answer an insert's RETURNING "id" with the allocated ID.
type idRows struct {
	id   int64
	read bool
}

func (r *idRows) Next() bool {
	if r.read {
		return false
	}
	r.read = true
	return true
}

func (r *idRows) Scan(dest ...any) error {
	if len(dest) != 1 {
		return fmt.Errorf("pgxdriver: %d scan destinations for an ID", len(dest))
	}
	switch d := dest[0].(type) {
	case *int64:
		*d = r.id
	case *any:
		*d = r.id
	case *sql.NullInt64:
		*d = sql.NullInt64{Int64: r.id, Valid: true}
	default:
		return fmt.Errorf("pgxdriver: cannot scan an ID into %T", dest[0])
	}
	return nil
}

func (*idRows) Close() error                            { return nil }
func (*idRows) Err() error                              { return nil }
func (*idRows) NextResultSet() bool                     { return false }
func (*idRows) Columns() ([]string, error)              { return []string{"id"}, nil }
func (*idRows) ColumnTypes() ([]*sql.ColumnType, error) { return nil, nil }
