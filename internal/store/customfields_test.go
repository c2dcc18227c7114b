package store_test

import (
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"

	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
	"github.com/leadron/leadron/migrations"
)

// customFieldsText is the migration that made PostgreSQL's custom_fields
// text instead of jsonb, and beforeCustomFieldsText the one before it.
const customFieldsText, beforeCustomFieldsText = 20261202042853, 20261124143141

// TestCustomFieldsReadAsStoredText: a lead's custom fields are read as the
// column's text when it is as encoding/json writes it, and written again
// by it otherwise. On PostgreSQL this includes leads written while the
// column was jsonb, whose text jsonb reformatted: the migration keeps
// their values, and they read as they did before it. Text that is not a
// JSON object fails the read instead of breaking a response.
func TestCustomFieldsReadAsStoredText(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		tn := testutil.NewTenant(t, db, "acme")
		ctx := tn.System(viewer.Live)
		var p *goose.Provider
		if db.Dialect == dialect.Postgres {
			var err error
			p, err = goose.NewProvider(goose.DialectPostgres, db.SQL, migrations.For("postgres"), goose.WithDisableGlobalRegistry(true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, beforeCustomFieldsText); err != nil {
				t.Fatal(err)
			}
		}
		insert := func(email, custom string) int {
			t.Helper()
			q := `INSERT INTO leads (created_at, updated_at, environment, email, email_normalized, first_name, last_name, status, score, custom_fields, version, tenant_id)
				VALUES (?, ?, 'live', ?, ?, 'Jane', 'Doe', 'new', 0, ?, 1, ?) RETURNING id /* ` + email + ` */`
			// (The comment makes each statement new to pgx's statement
			// cache, which would keep the first one's jsonb parameter.)
			if db.Dialect == dialect.Postgres {
				for i := 1; strings.Contains(q, "?"); i++ {
					q = strings.Replace(q, "?", "$"+string(rune('0'+i)), 1)
				}
			}
			now := time.Now().UTC()
			var id int
			if err := db.SQL.QueryRowContext(ctx, q, now, now, email, email, custom, tn.ID).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		old := insert("old@acme.test", `{"zz": 1.0, "a": "<x>", "list": [1, 2]}`) // jsonb's form on PostgreSQL
		if p != nil {
			if res, err := p.UpTo(ctx, customFieldsText); err != nil || len(res) != 1 {
				t.Fatalf("migrating: %v %v", res, err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
		}
		want := `{"a":"\u003cx\u003e","list":[1,2],"zz":1}` // as when every read decoded it
		l, err := db.Client.Lead.Get(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.CustomFields.String(); got != want {
			t.Errorf("read %s, want %s", got, want)
		}
		if m, err := l.CustomFields.Map(); err != nil || m["a"] != "<x>" || m["zz"] != 1.0 {
			t.Errorf("decoded %v %v", m, err)
		}

		kept := `{"b":"x","a":1}` // compact and escaped: kept as it is written
		if got := db.Client.Lead.GetX(ctx, insert("new@acme.test", kept)).CustomFields.String(); got != kept {
			t.Errorf("read %s, want %s as stored", got, kept)
		}

		if got := db.Client.Lead.GetX(ctx, insert("empty@acme.test", "")).CustomFields.String(); got != "{}" {
			t.Errorf("empty text read as %s, want {}", got) // ent decodes no empty JSON value
		}
		for _, bad := range []string{`not json`, `[1, 2]`, `{"a":`} {
			id := insert(bad+"@acme.test", bad)
			if l, err := db.Client.Lead.Get(ctx, id); err == nil {
				t.Errorf("%q read as %s", bad, l.CustomFields)
			}
		}
	})
}
