package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/schema"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

type seedSummary struct {
	Tenant, Environment string
	Leads               int
	NearDuplicates      int
	FirstID, LastID     string
	AuditEvents         int
}

func TestSeed(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			dbURL := testutil.NewDatabaseURL(t, d)
			db, err := store.Open(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx, testutil.Logger(t)); err != nil {
				t.Fatal(err)
			}
			acme := testutil.NewTenantOnPlan(t, db, "acme", "team")
			other := testutil.NewTenantOnPlan(t, db, "globex", "team")
			api := apitest.New(t, db)
			rep := api.User(t, acme, "rep@acme.test", "member")
			environ := map[string]string{"LEADRON_DATABASE_URL": dbURL}

			seed := func(args ...string) seedSummary {
				t.Helper()
				r := run(ctx, environ, append([]string{"seed", "--json"}, args...)...)
				if r.code != 0 {
					t.Fatalf("seed %v: exit %d: %s", args, r.code, r.stderr)
				}
				var s seedSummary
				decode(t, r.stdout, &s)
				return s
			}
			live := seed("--tenant", "acme", "--leads", "500", "--batch", "120")
			sandbox := seed("--tenant", "acme", "--leads", "120", "--env", "sandbox", "--seed", "7")
			seed("--tenant", "globex", "--leads", "30", "--no-progress")

			if live.Leads != 500 || live.Tenant != "acme" || live.Environment != "live" || live.AuditEvents != 1 {
				t.Errorf("live summary: %+v", live)
			}
			if sandbox.Leads != 120 || sandbox.Environment != "sandbox" {
				t.Errorf("sandbox summary: %+v", sandbox)
			}
			if live.NearDuplicates == 0 || live.NearDuplicates > 40 {
				t.Errorf("%d near-duplicates among 500 leads; want about 2%%", live.NearDuplicates)
			}
			for _, id := range []string{live.FirstID, live.LastID, sandbox.FirstID, sandbox.LastID} {
				n, err := api.Codec.DecodeAs(id, lead.Table)
				if err != nil {
					t.Fatalf("summary ID %q is not a lead ID: %v", id, err)
				}
				if api.Codec.Encode(n) != id {
					t.Errorf("ID %q does not round-trip", id)
				}
			}

			// The rows, read through ent as the tenant sees them.
			for _, tc := range []struct {
				tenant testutil.Tenant
				env    viewer.Environment
				want   int
			}{{acme, viewer.Live, 500}, {acme, viewer.Sandbox, 120}, {other, viewer.Live, 30}, {other, viewer.Sandbox, 0}} {
				leads, err := db.Client.Lead.Query().All(tc.tenant.System(tc.env))
				if err != nil {
					t.Fatal(err)
				}
				if len(leads) != tc.want {
					t.Errorf("%s %s: %d leads, want %d", tc.tenant.Slug, tc.env, len(leads), tc.want)
				}
				checkSeededLeads(t, api, leads, tc.tenant, tc.env, []int{tc.tenant.OwnerID, rep.ID})
			}
			checkNearDuplicates(t, db.SQL, d, acme.ID)

			// One audit event per run, in the run's tenant and environment.
			events, err := db.Client.AuditEvent.Query().Where(auditevent.Action("lead.seeded")).All(acme.System(viewer.Live))
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].ResourceType != "lead" || api.Codec.Encode(events[0].ResourceID) != live.FirstID ||
				fmt.Sprint(events[0].Changes["count"].New) != "500" {
				t.Errorf("audit events of the live run: %+v", events)
			}

			// The REST API reads them, and every response matches the
			// OpenAPI document (apitest checks).
			liveKey := api.Key(t, acme, acme.OwnerID, viewer.Live, "leads:read")
			sandboxKey := api.Key(t, acme, acme.OwnerID, viewer.Sandbox, "leads:read")
			if n := countViaAPI(t, api, liveKey); n != 500 {
				t.Errorf("REST lists %d live leads, want 500", n)
			}
			if n := countViaAPI(t, api, sandboxKey); n != 120 {
				t.Errorf("REST lists %d sandbox leads, want 120", n)
			}
			api.Run(t, []apitest.Scenario{
				{Name: "get a seeded lead", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + live.LastID, Key: liveKey},
					Status: 200, Contains: []string{`"id":"` + live.LastID + `"`, `"tenantId":"acme"`}},
				{Name: "a live lead is not in sandbox", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + live.FirstID, Key: sandboxKey},
					Status: 404},
				{Name: "filters work on seeded data", Request: apitest.Request{Method: "GET", Path: "/v1/leads?status=qualified&minScore=60&limit=100", Key: liveKey},
					Status: 200, Contains: []string{`"status":"qualified"`}, NotContains: []string{`"status":"new"`}},
			})
		})
	}
}

// checkSeededLeads checks what ent's hooks would have set on each lead.
func checkSeededLeads(t *testing.T, api *apitest.Env, leads []*ent.Lead, tn testutil.Tenant, env viewer.Environment, users []int) {
	t.Helper()
	now := time.Now()
	for _, l := range leads {
		problems := []string{}
		if l.TenantID != tn.ID || l.Environment != string(env) {
			problems = append(problems, "tenant or environment")
		}
		if _, err := api.Codec.DecodeAs(api.Codec.Encode(l.ID), lead.Table); err != nil {
			problems = append(problems, "ID outside the lead range")
		}
		if l.EmailNormalized != schema.NormalizeEmail(l.Email) || schema.ValidateEmail(l.Email) != nil {
			problems = append(problems, "email")
		}
		switch {
		case l.Phone == nil && l.PhoneNormalized != nil,
			l.Phone != nil && (l.PhoneNormalized == nil || *l.PhoneNormalized != schema.NormalizePhone(*l.Phone) || schema.ValidatePhone(*l.Phone) != nil):
			problems = append(problems, "phone")
		}
		if l.Version != 1 || l.ArchivedAt != nil || l.MergedInto != nil {
			problems = append(problems, "version, archived or merged")
		}
		if l.CreatedAt.IsZero() || l.UpdatedAt.Before(l.CreatedAt) || l.UpdatedAt.After(now) || l.CreatedAt.Before(now.AddDate(-1, 0, -1)) {
			problems = append(problems, "timestamps")
		}
		if l.Score < 0 || l.Score > 100 || lead.StatusValidator(l.Status) != nil || (l.Source != nil && lead.SourceValidator(*l.Source) != nil) {
			problems = append(problems, "score, status or source")
		}
		if l.AssignedTo != nil && !slices.Contains(users, *l.AssignedTo) {
			problems = append(problems, "assignee")
		}
		if m, err := l.CustomFields.Map(); err != nil || schema.ValidateCustomFields(m) != nil {
			problems = append(problems, "custom fields")
		}
		if strings.TrimSpace(l.FirstName) == "" || strings.TrimSpace(l.LastName) == "" {
			problems = append(problems, "names")
		}
		if len(problems) > 0 {
			t.Errorf("lead %d (%s): bad %s: %+v", l.ID, l.Email, strings.Join(problems, ", "), l)
		}
	}
}

// checkNearDuplicates finds the deliberate near-duplicates: the same
// normalized email or phone written differently.
func checkNearDuplicates(t *testing.T, db *sql.DB, d string, tenantID int) {
	t.Helper()
	q := `SELECT COUNT(*) FROM leads a JOIN leads b ON a.tenant_id = b.tenant_id AND a.environment = b.environment AND a.id < b.id
		WHERE a.tenant_id = $1 AND a.environment = 'live' AND %s`
	if d == dialect.SQLite {
		q = strings.ReplaceAll(q, "$1", "?")
	}
	for name, cond := range map[string]string{
		"email": "a.email_normalized = b.email_normalized AND a.email <> b.email",
		"phone": "a.phone_normalized = b.phone_normalized AND a.phone <> b.phone",
	} {
		var n int
		if err := db.QueryRow(fmt.Sprintf(q, cond), tenantID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("no near-duplicate pairs by %s", name)
		}
	}
}

// countViaAPI pages through every lead the key sees.
func countViaAPI(t *testing.T, api *apitest.Env, key string) int {
	t.Helper()
	n, after := 0, ""
	for range 20 {
		path := "/v1/leads?limit=100"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		res := api.Do(t, apitest.Request{Method: "GET", Path: path, Key: key})
		if res.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
		}
		var page struct {
			Data []json.RawMessage
			Meta struct{ Pagination struct{ NextCursor *string } }
		}
		if err := json.Unmarshal([]byte(res.Body), &page); err != nil {
			t.Fatal(err)
		}
		n += len(page.Data)
		if page.Meta.Pagination.NextCursor == nil {
			return n
		}
		after = *page.Meta.Pagination.NextCursor
	}
	t.Fatal("paging did not end")
	return 0
}

func TestSeedErrors(t *testing.T) {
	environ := map[string]string{"LEADRON_DATABASE_URL": testutil.NewEmptyDatabaseURL(t, dialect.SQLite)}
	ctx := context.Background()
	if r := run(ctx, environ, "tenant", "create", "--slug", "acme", "--name", "Acme", "--owner-email", "o@acme.test", "--owner-password", "s3cret-pass"); r.code != 0 {
		t.Fatalf("setup: %s", r.stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing tenant", []string{"seed", "--leads", "10"}, "missing required flag(s): --tenant"},
		{"no count", []string{"seed", "--tenant", "acme"}, "--leads must be between 1 and 50000000, not 0"},
		{"negative count", []string{"seed", "--tenant", "acme", "--leads", "-5"}, "--leads must be between 1 and 50000000, not -5"},
		{"too many", []string{"seed", "--tenant", "acme", "--leads", "50000001"}, "--leads must be between 1 and 50000000"},
		{"not a number", []string{"seed", "--tenant", "acme", "--leads", "lots"}, `invalid argument "lots" for "--leads" flag`},
		{"unknown env", []string{"seed", "--tenant", "acme", "--leads", "10", "--env", "prod"}, `--env must be live or sandbox, not "prod"`},
		{"unknown tenant", []string{"seed", "--tenant", "nope", "--leads", "10"}, `no tenant with slug "nope"`},
		{"bad workers", []string{"seed", "--tenant", "acme", "--leads", "10", "--workers", "99"}, "--workers must be between 1 and 16"},
		{"stray argument", []string{"seed", "--tenant", "acme", "--leads", "10", "extra"}, `unknown command "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(ctx, environ, tc.args...)
			line := lastLine(r.stderr)
			if r.code == 0 || !strings.Contains(line, tc.want) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want non-zero and one line with %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}
