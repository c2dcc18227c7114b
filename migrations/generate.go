//go:build ignore

// generate writes new versioned migrations for every dialect when the ent
// schema changed. It replays the existing migrations on a clean database,
// diffs them against the schema, and writes the difference as a goose file.
// With no change it writes nothing. Run it through `make generate`.
//
// PostgreSQL needs a server to replay on: LEADRON_DEV_DATABASE_URL, by
// default the local server, where a scratch database is created and dropped.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/leadron/leadron/ent/migrate"
)

func main() {
	name := flag.String("name", "changes", "name of the new migration")
	flag.Parse()
	ctx := context.Background()
	if err := diffSQLite(ctx, *name); err != nil {
		log.Fatalf("sqlite: %v", err)
	}
	if err := diffPostgres(ctx, *name); err != nil {
		log.Fatalf("postgres: %v", err)
	}
}

func diffSQLite(ctx context.Context, name string) error {
	db, err := sql.Open("sqlite", "file:dev?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return diff(ctx, db, dialect.SQLite, "migrations/sqlite", name)
}

func diffPostgres(ctx context.Context, name string) error {
	admin := os.Getenv("LEADRON_DEV_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer adb.Close()
	scratch := fmt.Sprintf("leadron_migrate_dev_%d", os.Getpid())
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+scratch); err != nil {
		return fmt.Errorf("creating scratch database (is PostgreSQL running? set LEADRON_DEV_DATABASE_URL): %w", err)
	}
	defer adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+scratch+" WITH (FORCE)")
	db, err := sql.Open("pgx", strings.Replace(admin, "/postgres?", "/"+scratch+"?", 1))
	if err != nil {
		return err
	}
	defer db.Close()
	return diff(ctx, db, dialect.Postgres, "migrations/postgres", name)
}

func diff(ctx context.Context, db *sql.DB, dia, path, name string) error {
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return err
	}
	s := migrate.NewSchema(entsql.OpenDB(dia, db))
	return s.NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dia),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
}
