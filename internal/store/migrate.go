package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/leadron/leadron/migrations"
)

// Migrate applies the pending migrations and reports each one applied. It is
// safe to run from several processes at once: on PostgreSQL a session lock
// serializes them, and goose's version table makes a migration run once.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	return MigrateSQL(ctx, db.SQL, db.Dialect, log)
}

// MigrateSQL is Migrate on a plain connection of the given ent dialect.
func MigrateSQL(ctx context.Context, sqlDB *sql.DB, dia string, log *slog.Logger) error {
	gd, opts := goose.DialectSQLite3, []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if dia == dialect.Postgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		gd = goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, sqlDB, migrations.For(string(gd)), opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if r.Error == nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	if err != nil {
		return fmt.Errorf("applying migrations: %w", err)
	}
	return nil
}
