package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"

	"github.com/leadron/leadron/internal/store"
)

// NewDatabase returns the URL of a fresh database: "postgres" creates one
// named <prefix>_<nanoseconds> on the server at adminURL, "sqlite" names a
// new file in dir. drop removes the PostgreSQL database (a no-op for
// SQLite, whose file goes with dir).
func NewDatabase(ctx context.Context, kind, adminURL, prefix, dir string) (dbURL string, drop func(), err error) {
	switch kind {
	case "postgres":
		u, drop, err := createPostgresDB(ctx, adminURL, prefix)
		if err != nil {
			return "", nil, fmt.Errorf("creating the run's PostgreSQL database (is PostgreSQL running? set LEADRON_BENCH_POSTGRES_URL): %w", err)
		}
		return u, drop, nil
	case "sqlite":
		return "sqlite://" + filepath.Join(dir, prefix+".db"), func() {}, nil
	}
	return "", nil, fmt.Errorf("unknown database %q (postgres or sqlite)", kind)
}

func createPostgresDB(ctx context.Context, adminURL, prefix string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		c, err := pgx.Connect(context.Background(), adminURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

// Rebind turns PostgreSQL's $1 placeholder into SQLite's ? on SQLite.
func Rebind(db *store.DB, query string) string {
	if db.Dialect == dialect.SQLite {
		return strings.ReplaceAll(query, "$1", "?")
	}
	return query
}

// TenantSample is a prepared tenant: its ID and a random sample of its live
// leads' IDs, as integers and as the API spells them.
type TenantSample struct {
	ID    int
	Ints  []int
	Sqids []string
}

// PrepareTenant lifts the tenant's rate limit, so that a run measures
// serving, not refusing (the limiter still runs on every request), and
// samples up to n of its live lead IDs. Run it while no server is up.
func PrepareTenant(ctx context.Context, db *store.DB, slug string, n int) (TenantSample, error) {
	var t TenantSample
	codec, err := store.LoadCodec(ctx, db.Client)
	if err != nil {
		return t, err
	}
	if _, err := db.SQL.ExecContext(ctx, Rebind(db, "UPDATE tenants SET rate_limit_per_minute = 1000000000, rate_limit_burst = 1000000000 WHERE slug = $1"), slug); err != nil {
		return t, err
	}
	if err := db.SQL.QueryRowContext(ctx, Rebind(db, "SELECT id FROM tenants WHERE slug = $1"), slug).Scan(&t.ID); err != nil {
		return t, fmt.Errorf("tenant %s: %w", slug, err)
	}
	rows, err := db.SQL.QueryContext(ctx, Rebind(db, fmt.Sprintf("SELECT id FROM leads WHERE tenant_id = $1 AND environment = 'live' ORDER BY random() LIMIT %d", n)), t.ID)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return t, err
		}
		t.Ints = append(t.Ints, id)
		t.Sqids = append(t.Sqids, codec.Encode(id))
	}
	if err := rows.Err(); err != nil {
		return t, err
	}
	if len(t.Ints) == 0 {
		return t, errors.New("no leads were seeded")
	}
	return t, nil
}
