package rule_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"entgo.io/ent/privacy"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

const live, sandbox = viewer.Live, viewer.Sandbox

func TestNoViewerIsDenied(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		l := a.NewLead(t, db.Client, live, "jane@acme.test")
		ctx := context.Background()
		c := db.Client
		ops := map[string]func() error{
			"query": func() error { _, err := c.Lead.Query().All(ctx); return err },
			"count": func() error { _, err := c.Lead.Query().Count(ctx); return err },
			"get":   func() error { _, err := c.Lead.Get(ctx, l.ID); return err },
			"read":  func() error { _, err := c.Lead.Read(ctx, l.ID); return err },
			"create": func() error {
				return write(ctx, db, func(c *ent.Client) error {
					return c.Lead.Create().SetEmail("x@y.test").SetFirstName("X").SetLastName("Y").Exec(ctx)
				})
			},
			"update one": func() error {
				return write(ctx, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(l.ID).SetScore(5).Exec(ctx) })
			},
			"bulk update": func() error {
				return write(ctx, db, func(c *ent.Client) error { return c.Lead.Update().SetScore(5).Exec(ctx) })
			},
			"delete": func() error {
				return write(ctx, db, func(c *ent.Client) error { _, err := c.Lead.Delete().Exec(ctx); return err })
			},
			"users":    func() error { _, err := c.User.Query().All(ctx); return err },
			"tenants":  func() error { _, err := c.Tenant.Query().All(ctx); return err },
			"settings": func() error { _, err := c.Setting.Query().All(ctx); return err },
			"audit":    func() error { _, err := c.AuditEvent.Query().All(ctx); return err },
		}
		for name, op := range ops {
			if err := op(); !errors.Is(err, privacy.Deny) {
				t.Errorf("%s without a viewer: got %v, want a privacy denial", name, err)
			}
		}
		assertLead(t, db, a, l.ID, 0)
	})
}

func TestTenantCannotReachAnotherTenant(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		b := testutil.NewTenant(t, db, "globex")
		mine := a.NewLead(t, db.Client, live, "mine@acme.test")
		theirs := b.NewLead(t, db.Client, live, "theirs@globex.test")
		ctx := a.As(live, scope.All)
		c := db.Client

		if _, err := c.Lead.Get(ctx, theirs.ID); !ent.IsNotFound(err) {
			t.Errorf("get: got %v, want not found", err)
		}
		if _, err := c.Lead.Read(ctx, theirs.ID); !ent.IsNotFound(err) {
			t.Errorf("read: got %v, want not found", err)
		}
		if got := c.Lead.Query().IDsX(ctx); len(got) != 1 || got[0] != mine.ID {
			t.Errorf("list: got %v, want only %d", got, mine.ID)
		}
		if n := c.Lead.Query().CountX(ctx); n != 1 {
			t.Errorf("count: got %d, want 1", n)
		}
		if err := write(ctx, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(theirs.ID).SetScore(99).Exec(ctx) }); !ent.IsNotFound(err) {
			t.Errorf("update: got %v, want not found", err)
		}
		if err := write(ctx, db, func(c *ent.Client) error { return c.Lead.DeleteOneID(theirs.ID).Exec(ctx) }); !ent.IsNotFound(err) {
			t.Errorf("delete: got %v, want not found", err)
		}
		var n int
		err := write(ctx, db, func(c *ent.Client) (err error) { n, err = c.Lead.Update().SetScore(42).Save(ctx); return err })
		if err != nil || n != 1 {
			t.Errorf("bulk update: got %d rows, %v; want 1 row", n, err)
		}
		if _, err := c.Noder(ctx, theirs.ID); !ent.IsNotFound(err) {
			t.Errorf("node: got %v, want not found", err)
		}
		// HasXWith predicates run as SQL subqueries; they must not find
		// another tenant's users through an edge.
		if n := c.Lead.Query().Where(lead.HasAssigneeWith(user.Email("owner@globex.test"))).CountX(ctx); n != 0 {
			t.Errorf("HasAssigneeWith another tenant's user: found %d", n)
		}
		if got := c.User.Query().IDsX(ctx); len(got) != 1 || got[0] != a.OwnerID {
			t.Errorf("users: got %v, want only %d", got, a.OwnerID)
		}
		if got := c.Tenant.Query().IDsX(ctx); len(got) != 1 || got[0] != a.ID {
			t.Errorf("tenants: got %v, want only %d", got, a.ID)
		}
		if tn := c.Lead.QueryTenant(mine).OnlyX(ctx); tn.ID != a.ID {
			t.Errorf("edge to tenant: got %d", tn.ID)
		}
		// Nothing of B's changed.
		assertLead(t, db, b, theirs.ID, 0)
	})
}

func TestNoReferenceIntoAnotherTenant(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		b := testutil.NewTenant(t, db, "globex")
		ctx := a.As(live, scope.All)
		c := db.Client
		mine := a.NewLead(t, c, live, "mine@acme.test")

		cases := map[string]func() error{
			"create assigned to another tenant's user": func() error {
				return write(ctx, db, func(c *ent.Client) error {
					return c.Lead.Create().SetEmail("x@acme.test").SetFirstName("X").SetLastName("Y").SetAssignedTo(b.OwnerID).Exec(ctx)
				})
			},
			"update assigned to another tenant's user": func() error {
				return write(ctx, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(mine.ID).SetAssignedTo(b.OwnerID).Exec(ctx) })
			},
			"assigned to a lead's ID (wrong type)": func() error {
				return write(ctx, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(mine.ID).SetAssignedTo(mine.ID).Exec(ctx) })
			},
			"key owned by another tenant's user": func() error {
				return write(ctx, db, func(c *ent.Client) error {
					return c.APIKey.Create().SetName("k").SetOwnerID(b.OwnerID).SetScopes([]string{"read_only"}).
						SetKeyHash([]byte("h")).SetPrefix("p").SetLast4("l").Exec(ctx)
				})
			},
		}
		for name, op := range cases {
			err := op()
			if e, ok := apperr.As(err); !ok || e.Code != apperr.Validation {
				t.Errorf("%s: got %v, want a validation error", name, err)
			}
		}
		// A create that names another tenant outright is refused.
		err := write(ctx, db, func(c *ent.Client) error {
			return c.Lead.Create().SetEmail("x@acme.test").SetFirstName("X").SetLastName("Y").SetTenantID(b.ID).Exec(ctx)
		})
		if !errors.Is(err, rule.ErrCrossTenant) {
			t.Errorf("create with another tenant's ID: got %v", err)
		}
		if n := c.Lead.Query().CountX(b.System(live)); n != 0 {
			t.Errorf("tenant B gained %d leads", n)
		}
		// The same user of the own tenant is accepted.
		if err := write(ctx, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(mine.ID).SetAssignedTo(a.OwnerID).Exec(ctx) }); err != nil {
			t.Errorf("assigning to own user: %v", err)
		}
	})
}

func TestEnvironmentsAreSeparate(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		c := db.Client
		liveLead := a.NewLead(t, c, live, "live@acme.test")
		sandboxLead := a.NewLead(t, c, sandbox, "sandbox@acme.test")
		for _, tc := range []struct {
			env         viewer.Environment
			own, others *ent.Lead
		}{
			{live, liveLead, sandboxLead},
			{sandbox, sandboxLead, liveLead},
		} {
			ctx := a.As(tc.env, scope.All)
			if got := c.Lead.Query().IDsX(ctx); len(got) != 1 || got[0] != tc.own.ID {
				t.Errorf("%s list: got %v, want only %d", tc.env, got, tc.own.ID)
			}
			if _, err := c.Lead.Get(ctx, tc.others.ID); !ent.IsNotFound(err) {
				t.Errorf("%s get other env: got %v", tc.env, err)
			}
			if _, err := c.Lead.Read(ctx, tc.others.ID); !ent.IsNotFound(err) {
				t.Errorf("%s read other env: got %v", tc.env, err)
			}
			if err := write(ctx, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(tc.others.ID).SetScore(7).Exec(ctx) }); !ent.IsNotFound(err) {
				t.Errorf("%s update other env: got %v", tc.env, err)
			}
			if err := write(ctx, db, func(c *ent.Client) error { return c.Lead.DeleteOneID(tc.others.ID).Exec(ctx) }); !ent.IsNotFound(err) {
				t.Errorf("%s delete other env: got %v", tc.env, err)
			}
			err := write(ctx, db, func(c *ent.Client) error {
				return c.Lead.Create().SetEmail("x@acme.test").SetFirstName("X").SetLastName("Y").
					SetEnvironment(string(tc.others.Environment)).Exec(ctx)
			})
			if !errors.Is(err, rule.ErrCrossTenant) {
				t.Errorf("%s create in other env: got %v", tc.env, err)
			}
			var created *ent.Lead
			if err := write(ctx, db, func(c *ent.Client) (err error) {
				created, err = c.Lead.Create().SetEmail("y@acme.test").SetFirstName("Y").SetLastName("Z").Save(ctx)
				return err
			}); err != nil {
				t.Fatalf("%s create: %v", tc.env, err)
			}
			if created.Environment != string(tc.env) || created.TenantID != a.ID {
				t.Errorf("%s create: landed in %s of tenant %d", tc.env, created.Environment, created.TenantID)
			}
		}
		assertLead(t, db, a, liveLead.ID, 0)
	})
}

// A privacy decision context carrying Allow bypasses every policy. Leadron
// never creates one, and even if one leaked, the tenant filter, which is an
// interceptor and a hook rather than a policy, still holds.
func TestLeakedAllowDecisionStillFiltersTenants(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		b := testutil.NewTenant(t, db, "globex")
		a.NewLead(t, db.Client, live, "mine@acme.test")
		theirs := b.NewLead(t, db.Client, live, "theirs@globex.test")

		leaked := privacy.DecisionContext(a.As(live, scope.All), privacy.Allow)
		derived, cancel := context.WithCancel(leaked)
		defer cancel()
		if n := db.Client.Lead.Query().CountX(derived); n != 1 {
			t.Errorf("count under a leaked Allow: got %d, want 1", n)
		}
		if _, err := db.Client.Lead.Read(derived, theirs.ID); !ent.IsNotFound(err) {
			t.Errorf("read under a leaked Allow: got %v, want not found", err)
		}
		var n int
		_ = write(derived, db, func(c *ent.Client) (err error) { n, err = c.Lead.Update().SetScore(9).Save(derived); return err })
		if n != 1 {
			t.Errorf("bulk update under a leaked Allow touched %d rows, want 1", n)
		}
		noViewer := privacy.DecisionContext(context.Background(), privacy.Allow)
		if _, err := db.Client.Lead.Query().All(noViewer); !errors.Is(err, privacy.Deny) {
			t.Errorf("query with Allow but no viewer: got %v, want denial", err)
		}
		assertLead(t, db, b, theirs.ID, 0)
	})
}

func TestScopesAreEnforcedByTheDataLayer(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		c := db.Client
		l := a.NewLead(t, c, live, "jane@acme.test")
		readOnly := a.As(live, scope.Bundles["read_only"])
		writer := a.As(live, scope.Of(scope.Scope{Resource: scope.Leads, Action: scope.Write}, scope.Scope{Resource: scope.Leads, Action: scope.Read}))
		cases := []struct {
			name string
			op   func() error
			want string
		}{
			{"read without leads:read", func() error {
				_, err := c.Lead.Query().All(a.As(live, scope.Bundles["automation"]&^scope.Of(scope.Scope{Resource: scope.Leads, Action: scope.Read})))
				return err
			}, "leads:read"},
			{"create without leads:write", func() error {
				return write(readOnly, db, func(c *ent.Client) error {
					return c.Lead.Create().SetEmail("x@acme.test").SetFirstName("X").SetLastName("Y").Exec(readOnly)
				})
			}, "leads:write"},
			{"archive without leads:delete", func() error {
				return write(writer, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(l.ID).SetArchivedAt(l.CreatedAt).Exec(writer) })
			}, "leads:delete"},
			{"delete without leads:delete", func() error {
				return write(writer, db, func(c *ent.Client) error { return c.Lead.DeleteOneID(l.ID).Exec(writer) })
			}, "leads:delete"},
			{"users without users:read", func() error { _, err := c.User.Query().All(writer); return err }, "users:read"},
		}
		for _, tc := range cases {
			var se *rule.ScopeError
			if err := tc.op(); !errors.As(err, &se) || se.Scope.String() != tc.want {
				t.Errorf("%s: got %v, want a denial naming %s", tc.name, err, tc.want)
			}
		}
		if err := write(writer, db, func(c *ent.Client) error { return c.Lead.UpdateOneID(l.ID).SetScore(10).Exec(writer) }); err != nil {
			t.Errorf("update with leads:write: %v", err)
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(live)
		ev := db.Client.AuditEvent.Create().SetAction("lead.created").SetResourceType("lead").SetResourceID(1).SaveX(ctx)
		if err := write(ctx, db, func(c *ent.Client) error { return c.AuditEvent.Update().Exec(ctx) }); !errors.Is(err, privacy.Deny) {
			t.Errorf("update: got %v, want denial", err)
		}
		if err := write(ctx, db, func(c *ent.Client) error { return c.AuditEvent.DeleteOneID(ev.ID).Exec(ctx) }); !errors.Is(err, privacy.Deny) {
			t.Errorf("delete: got %v, want denial", err)
		}
		if got := db.Client.AuditEvent.GetX(ctx, ev.ID); got.Action != "lead.created" {
			t.Errorf("event changed: %+v", got)
		}
	})
}

func TestPlatformViewerCannotReadTenantData(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		l := a.NewLead(t, db.Client, live, "jane@acme.test")
		ctx := viewer.NewContext(context.Background(), viewer.Platform())
		if _, err := db.Client.Lead.Query().All(ctx); !errors.Is(err, privacy.Deny) {
			t.Errorf("platform reading leads: got %v, want denial", err)
		}
		if _, err := db.Client.Lead.Read(ctx, l.ID); !errors.Is(err, privacy.Deny) {
			t.Errorf("platform reading a lead by ID: got %v, want denial", err)
		}
		if err := write(ctx, db, func(c *ent.Client) error {
			return c.Lead.Create().SetEmail("x@y.test").SetFirstName("X").SetLastName("Y").Exec(ctx)
		}); !errors.Is(err, privacy.Deny) {
			t.Errorf("platform creating a lead: got %v, want denial", err)
		}
		if err := write(ctx, db, func(c *ent.Client) error { return c.Tenant.UpdateOneID(a.ID).SetName("pwned").Exec(ctx) }); !errors.Is(err, privacy.Deny) {
			t.Errorf("platform renaming a tenant: got %v, want denial", err)
		}
	})
}

// assertLead checks, as the tenant's system viewer, that a lead still exists
// with the given score.
func assertLead(t *testing.T, db *store.DB, tn testutil.Tenant, id, score int) {
	t.Helper()
	env := live
	l, err := db.Client.Lead.Query().Where(lead.ID(id)).Only(tn.System(env))
	if ent.IsNotFound(err) {
		l, err = db.Client.Lead.Query().Where(lead.ID(id)).Only(tn.System(sandbox))
	}
	if err != nil {
		t.Fatalf("lead %d of %s is gone: %v", id, tn.Slug, err)
	}
	if l.Score != score {
		t.Errorf("lead %d of %s has score %d, want %d (it was changed)", id, tn.Slug, l.Score, score)
	}
}

// write runs op in a transaction as ctx's viewer, as every audited write
// must.
func write(ctx context.Context, db *store.DB, op func(c *ent.Client) error) error {
	return store.InTx(ctx, db.Client, op)
}

// Every tenant-scoped read carries the tenant predicate exactly once, and
// the environment predicate once where the type has one: the filter is one
// interceptor per type, so no query pays for a repeated predicate, and none
// is filtered by environment without its tenant.
func TestTenantPredicateOnce(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, plain *store.DB) {
		a := testutil.NewTenant(t, plain, "acme")
		l := a.NewLead(t, plain.Client, live, "jane@acme.test")
		db, sent := testutil.CountStatements(plain)
		ctx := a.System(live)
		c := db.Client
		tests := []struct {
			name            string
			read            func() error
			withEnvironment bool
		}{
			{"leads", func() error { _, err := c.Lead.Query().All(ctx); return err }, true},
			{"lead count", func() error { _, err := c.Lead.Query().Count(ctx); return err }, true},
			{"lead by ID", func() error { _, err := c.Lead.Read(ctx, l.ID); return err }, true},
			{"user by ID", func() error { _, err := c.User.Read(ctx, a.OwnerID); return err }, false},
			{"api keys", func() error { _, err := c.APIKey.Query().All(ctx); return err }, true},
			{"audit events", func() error { _, err := c.AuditEvent.Query().All(ctx); return err }, true},
			{"users", func() error { _, err := c.User.Query().All(ctx); return err }, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sent.Reset()
				if err := tc.read(); err != nil {
					t.Fatal(err)
				}
				stmts := sent.Sent()
				if len(stmts) != 1 {
					t.Fatalf("%d statements: %q", len(stmts), stmts)
				}
				q := stmts[0]
				if n := strings.Count(q, `tenant_id`+quote(db)+` = `); n != 1 {
					t.Errorf("tenant predicate %d times in %s", n, q)
				}
				want := 0
				if tc.withEnvironment {
					want = 1
				}
				if n := strings.Count(q, `environment`+quote(db)+` = `); n != want {
					t.Errorf("environment predicate %d times (want %d) in %s", n, want, q)
				}
			})
		}
	})
}

// quote is the identifier quote of db's SQL: ` on SQLite, " on PostgreSQL.
func quote(db *store.DB) string {
	if db.Dialect == "postgres" {
		return `"`
	}
	return "`"
}
