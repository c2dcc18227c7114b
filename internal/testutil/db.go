// Package testutil is the shared harness for Leadron's tests: fresh migrated
// databases on SQLite and PostgreSQL, tenants and viewers to act as. Tests
// use real databases; nothing here mocks Leadron's own layers.
package testutil

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/migrations"
)

// PostgresURL is the server the PostgreSQL tests use, overridable with
// LEADRON_TEST_POSTGRES_URL.
func PostgresURL() string {
	if u := os.Getenv("LEADRON_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// postgresRequired is true in CI and when LEADRON_REQUIRE_POSTGRES=1: then a
// missing server fails the suite instead of skipping the PostgreSQL half.
func postgresRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv("LEADRON_REQUIRE_POSTGRES") == "1"
}

var (
	pgOnce      sync.Once
	pgReachable error
)

func postgresAvailable() error {
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, PostgresURL())
		if err != nil {
			pgReachable = err
			return
		}
		pgReachable = conn.Close(ctx)
	})
	return pgReachable
}

// Dialects are the databases every data-layer test runs on.
var Dialects = []string{dialect.SQLite, dialect.Postgres}

// EachDB runs fn once per database, each time on a fresh migrated database.
func EachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, NewDB(t, d))
		})
	}
}

// NewDB returns a fresh migrated database of the dialect, closed when the
// test ends. The PostgreSQL one is skipped when no server is reachable,
// unless PostgreSQL is required (see postgresRequired).
func NewDB(t testing.TB, d string) *store.DB {
	t.Helper()
	url := NewDatabaseURL(t, d)
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("opening %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if d == dialect.SQLite {
		if err := db.Migrate(context.Background(), Logger(t)); err != nil {
			t.Fatalf("migrating: %v", err)
		}
	}
	return db
}

// NewDatabaseURL returns the URL of a fresh database of the dialect: a new
// SQLite file, or a PostgreSQL database cloned from a migrated template.
// The SQLite one is empty; callers migrate it.
func NewDatabaseURL(t testing.TB, d string) string {
	t.Helper()
	return newDatabaseURL(t, d, migrator{})
}

// NewEmptyDatabaseURL returns the URL of a fresh, unmigrated database.
func NewEmptyDatabaseURL(t testing.TB, d string) string {
	t.Helper()
	return newDatabaseURL(t, d, pgtestdb.NoopMigrator{})
}

func newDatabaseURL(t testing.TB, d string, m pgtestdb.Migrator) string {
	t.Helper()
	if d == dialect.SQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
	}
	if err := postgresAvailable(); err != nil {
		if postgresRequired() {
			t.Fatalf("PostgreSQL is required but unreachable at %s: %v", store.Redact(PostgresURL()), err)
		}
		t.Skipf("PostgreSQL unreachable at %s (%v); set LEADRON_TEST_POSTGRES_URL", store.Redact(PostgresURL()), err)
	}
	conf := pgConfig(t)
	return pgtestdb.Custom(t, conf, m).URL()
}

func pgConfig(t testing.TB) pgtestdb.Config {
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("LEADRON_TEST_POSTGRES_URL: %v", err)
	}
	pw, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	opts := u.RawQuery
	if opts == "" {
		opts = "sslmode=disable"
	}
	return pgtestdb.Config{
		DriverName: "pgx", Host: u.Hostname(), Port: port,
		User: u.User.Username(), Password: pw, Database: u.Path[1:], Options: opts,
		ForceTerminateConnections: true,
	}
}

// migrator builds pgtestdb's template database with our migrations; the
// template is rebuilt whenever a migration file changes.
type migrator struct{}

func (migrator) Hash() (string, error) {
	h := sha256.New()
	fsys := migrations.For("postgres")
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		fmt.Fprintf(h, "%s\x00%s\x00", path, b)
		return err
	})
	// River's own migrations are applied too (see store.MigrateSQL).
	fmt.Fprintf(h, "river\x00%s", jobs.MigrationsFingerprint())
	return hex.EncodeToString(h.Sum(nil)), err
}

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return store.MigrateSQL(ctx, db, dialect.Postgres, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// Logger returns a logger that writes to the test log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// SkipOrFailWithout skips a test that needs an unreachable service, except
// in CI (and with LEADRON_REQUIRE_POSTGRES=1), where it fails instead: CI
// provides every service, so a skip there would hide a broken setup.
func SkipOrFailWithout(t testing.TB, service string, err error) {
	t.Helper()
	if postgresRequired() {
		t.Fatalf("%s is required here but unreachable: %v", service, err)
	}
	t.Skipf("%s unreachable (%v)", service, err)
}
