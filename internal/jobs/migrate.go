package jobs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// migrationLock is the PostgreSQL advisory lock that serializes River's
// migrations across processes starting at once (goose holds its own).
const migrationLock = 0x6c6472_7276 // "ldr" "rv"

// Migrate applies River's pending migrations (its tables river_job,
// river_queue, river_leader, river_migration…), which River versions itself
// in river_migration. store.Migrate runs it after Leadron's own migrations,
// so `leadron migrate`, `serve` and the test databases all get River's
// tables. On PostgreSQL without a pool (b.Pool nil), a short-lived pool is
// opened with the connection settings of b.SQL.
func Migrate(ctx context.Context, b Backend, log *slog.Logger) error {
	var (
		res *rivermigrate.MigrateResult
		err error
	)
	switch b.Dialect {
	case dialect.SQLite:
		m, merr := rivermigrate.New(riversqlite.New(b.SQL), &rivermigrate.Config{Logger: quiet(log)})
		if merr != nil {
			return merr
		}
		res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	case dialect.Postgres:
		pool := b.Pool
		if pool == nil {
			if pool, err = poolFor(ctx, b.SQL); err != nil {
				return fmt.Errorf("river migrations: %w", err)
			}
			defer pool.Close()
		}
		res, err = migratePostgres(ctx, pool, log)
	default:
		return fmt.Errorf("river migrations: unsupported dialect %s", b.Dialect)
	}
	if err != nil {
		return fmt.Errorf("applying River's migrations: %w", err)
	}
	for _, v := range res.Versions {
		logger(log).Info("migration applied", "river_version", v.Version, "name", v.Name, "duration", v.Duration)
	}
	return nil
}

func migratePostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*rivermigrate.MigrateResult, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return nil, err
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrationLock))
	}()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return nil, err
	}
	return m.Migrate(ctx, rivermigrate.DirectionUp, nil)
}

// poolFor opens a small pgx pool with the connection settings of db, whose
// connections come from pgx's database/sql driver.
func poolFor(ctx context.Context, db *sql.DB) (*pgxpool.Pool, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	cfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL connection is %T, not pgx's", dc)
		}
		cfg.ConnConfig = sc.Conn().Config().Copy()
		return nil
	})
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 2 // the lock's connection and the migrator's
	return pgxpool.NewWithConfig(ctx, cfg)
}

// quiet keeps River's migrator to warnings; Migrate logs what it applied.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(warnOnly{logger(log).Handler()})
}

type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{h.Handler.WithAttrs(attrs)}
}

func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }

// MigrationsFingerprint identifies the River migrations this build applies,
// for caches of migrated databases (the test template database).
func MigrationsFingerprint() string {
	h := sha256.New()
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "river-unknown"
	}
	for _, v := range m.AllVersions() {
		fmt.Fprintf(h, "%d\x00%s\x00", v.Version, v.SQLUp)
	}
	return hex.EncodeToString(h.Sum(nil))
}
