package store_test

import (
	"context"
	"testing"

	"entgo.io/ent/privacy"

	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

func TestMigrationsApplyFromEmptyAndAreIdempotent(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, testutil.NewEmptyDatabaseURL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for i := range 2 {
				if err := db.Migrate(ctx, testutil.Logger(t)); err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
			}
			var applied int
			row := db.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0")
			if err := row.Scan(&applied); err != nil {
				t.Fatal(err)
			}
			files := migrationCount(t, d)
			if applied != files {
				t.Errorf("goose recorded %d migrations, there are %d files", applied, files)
			}
			testutil.NewTenant(t, db, "acme") // the schema works
		})
	}
}

func TestIDsAreStableAcrossRestarts(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			url := testutil.NewDatabaseURL(t, d)
			var first string
			for restart := range 2 {
				db, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Migrate(ctx, testutil.Logger(t)); err != nil {
					t.Fatal(err)
				}
				codec, err := store.LoadCodec(ctx, db.Client)
				if err != nil {
					t.Fatal(err)
				}
				id := codec.Encode(2<<32 + 1)
				if restart == 0 {
					first = id
				} else if id != first {
					t.Errorf("after a restart the same row's ID changed from %s to %s", first, id)
				}
				db.Close()
			}
		})
	}
}

func TestSelfCheck(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		if err := store.SelfCheck(context.Background(), db.Client); err != nil {
			t.Fatalf("self-check failed with the policies linked in: %v", err)
		}
		// A context that bypasses policies stands in for policies that
		// were never registered: the check must notice.
		bypass := privacy.DecisionContext(context.Background(), privacy.Allow)
		if err := store.SelfCheck(bypass, db.Client); err == nil {
			t.Fatal("self-check passed although the policies did not deny")
		}
	})
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for name, url := range map[string]string{
		"empty sqlite path":     "sqlite://",
		"unreachable postgres":  "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=1",
		"malformed postgres":    "postgres://%zz",
		"sqlite in missing dir": "sqlite:///nonexistent/dir/x.db",
	} {
		if db, err := store.Open(context.Background(), url); err == nil {
			db.Close()
			t.Errorf("%s: opened %q", name, url)
		}
	}
}

func TestRedact(t *testing.T) {
	got := store.Redact("postgres://u:hunter2@h:5432/db")
	if got != "postgres://u:xxxxx@h:5432/db" {
		t.Errorf("Redact = %q", got)
	}
}

// TestCloseReleasesEverything: Close ends the ent client, database/sql's
// handle and, on PostgreSQL, the pgx pool under both.
func TestCloseReleasesEverything(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, testutil.NewDatabaseURL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			// database/sql's own refusal, not the closed pool's under it.
			if err := db.SQL.PingContext(ctx); err == nil || err.Error() != "sql: database is closed" {
				t.Errorf("database/sql after Close: %v, want it closed", err)
			}
			if db.Pool != nil {
				if err := db.Pool.Ping(ctx); err == nil {
					t.Error("pgx pool still open after Close")
				}
			}
		})
	}
}
