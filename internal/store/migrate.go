package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/migrations"
)

// Migrate applies the pending migrations and reports each one applied:
// Leadron's own (goose, from migrations/), then River's job tables (River
// versions them itself, in river_migration). It is safe to run from several
// processes at once: on PostgreSQL session locks serialize them, and the
// version tables make a migration run once.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	if err := migrateGoose(ctx, db.SQL, db.Dialect, log); err != nil {
		return err
	}
	return jobs.Migrate(ctx, db.backend(), log)
}

// MigrateSQL is Migrate on a plain connection of the given ent dialect (on
// PostgreSQL, one opened with pgx's database/sql driver).
func MigrateSQL(ctx context.Context, sqlDB *sql.DB, dia string, log *slog.Logger) error {
	if err := migrateGoose(ctx, sqlDB, dia, log); err != nil {
		return err
	}
	return jobs.Migrate(ctx, jobs.Backend{Dialect: dia, SQL: sqlDB}, log)
}

func migrateGoose(ctx context.Context, sqlDB *sql.DB, dia string, log *slog.Logger) error {
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
