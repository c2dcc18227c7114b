// Package store opens Leadron's database (embedded SQLite by default,
// PostgreSQL through pgx/v5), applies the versioned migrations, and builds the
// ent client with its privacy policies linked in.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // the pure-Go SQLite driver

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	_ "github.com/leadron/leadron/ent/runtime" // registers the privacy policies, hooks and interceptors
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/pgxdriver"
)

// minPoolConns is the least PostgreSQL pool size (pgx's default is the
// number of CPUs, at least 4).
const minPoolConns = 10

// DefaultURL is the embedded database used when none is configured.
const DefaultURL = "sqlite://leadron.db"

// DB is an open database with its ent client.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string        // dialect.SQLite or dialect.Postgres
	Pool    *pgxpool.Pool // the pgx pool on PostgreSQL, nil on SQLite
	// Jobs is the database's River queue. The ent client's transactions
	// enqueue into it (see internal/jobs); it runs no workers (NewRunner).
	Jobs *jobs.Queue
	drv  *jobs.Driver // the driver under Client
}

// Open connects to the database at rawURL: "postgres://…" or
// "postgresql://…" for PostgreSQL; "sqlite://PATH", "file:PATH" or a plain
// path for SQLite. An empty URL means DefaultURL.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		return openPostgres(ctx, rawURL)
	}
	return openSQLite(ctx, rawURL)
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", redactErr(err, rawURL))
	}
	// A database that does not answer must fail requests quickly, not
	// hang them: bound the dial unless the URL sets connect_timeout.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	// The job runner holds a connection to listen for new jobs and uses
	// others to fetch and complete them: leave requests room, unless the
	// URL sets pool_max_conns.
	if !strings.Contains(rawURL, "pool_max_conns") && cfg.MaxConns < minPoolConns {
		cfg.MaxConns = minPoolConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", redactErr(err, rawURL))
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", Redact(rawURL), err)
	}
	// ent runs on pgx directly (pgxdriver); database/sql is only for what
	// needs a *sql.DB (migrations, the seed command, tests), and borrows
	// a pool connection per statement.
	db := stdlib.OpenDBFromPool(pool)
	// A create's lead and audit event are numbered ahead, so that the
	// create's transaction reaches PostgreSQL in one round trip
	// (pgxdriver.PreallocateIDs, docs/performance.md).
	return newDB(db, pgxdriver.New(pool, pgxdriver.PreallocateIDs(lead.Table, auditevent.Table)), pool)
}

func openSQLite(ctx context.Context, rawURL string) (*DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return nil, errors.New("database URL: SQLite path is empty")
	}
	// Foreign keys on, WAL for concurrent readers, a busy timeout instead of
	// immediate "database is locked", and write transactions that take the
	// lock up front so they never deadlock on upgrade.
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	conn, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite %s: %w", path, err)
	}
	db := sql.OpenDB(stmtCachingConnector{Connector: conn, size: stmtCacheSize})
	// One connection: SQLite has one writer, and a second connection would
	// only wait on the lock.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening SQLite %s: %w", path, err)
	}
	d, err := newDB(db, entsql.OpenDB(dialect.SQLite, db), nil)
	if err != nil {
		db.Close()
	}
	return d, err
}

// newDB builds the ent client on drv through the jobs driver, whose
// transactions can enqueue River jobs into the database's queue.
func newDB(db *sql.DB, drv dialect.Driver, pool *pgxpool.Pool) (*DB, error) {
	dia := drv.Dialect()
	q, err := jobs.NewQueue(jobs.Backend{Dialect: dia, SQL: db, Pool: pool}, nil)
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, fmt.Errorf("job queue: %w", err)
	}
	jd := jobs.NewDriver(drv, q)
	return &DB{Client: ent.NewClient(ent.Driver(jd)), SQL: db, Dialect: dia, Pool: pool, Jobs: q, drv: jd}, nil
}

// Driver is the ent driver under Client, for decorators (tests wrap it to
// record statements).
func (db *DB) Driver() dialect.Driver { return db.drv }

// NewRunner returns the job runner of the database (the workers `serve`
// starts).
func (db *DB) NewRunner(cfg jobs.Config) (*jobs.Runner, error) {
	return jobs.NewRunner(db.backend(), db.Client, cfg)
}

func (db *DB) backend() jobs.Backend {
	return jobs.Backend{Dialect: db.Dialect, SQL: db.SQL, Pool: db.Pool}
}

// Ping reports whether the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// Close closes the client and the connections under it.
func (db *DB) Close() error {
	err := db.Client.Close() // on SQLite this closes db.SQL too
	if db.Pool != nil {
		err = errors.Join(err, db.SQL.Close())
		db.Pool.Close()
	}
	return err
}

// Redact hides the password in a database URL, for messages and logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

func redactErr(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}
