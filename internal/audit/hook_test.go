package audit_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/audit"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/diff"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

func TestEveryLeadWriteIsLogged(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.As(viewer.Live, scope.All)
		l := a.NewLead(t, db.Client, viewer.Live, "jane@acme.test")

		steps := []struct {
			action  string
			write   func(c *ent.Client) error
			changed map[string][2]any // field → old, new
		}{
			{"lead.updated", func(c *ent.Client) error {
				return c.Lead.UpdateOneID(l.ID).SetScore(40).SetFirstName("Janet").Exec(ctx)
			},
				map[string][2]any{"score": {0.0, 40.0}, "first_name": {"Jane", "Janet"}}},
			{"lead.archived", func(c *ent.Client) error { return c.Lead.UpdateOneID(l.ID).SetArchivedAt(time.Now()).Exec(ctx) }, nil},
			{"lead.restored", func(c *ent.Client) error { return c.Lead.UpdateOneID(l.ID).ClearArchivedAt().Exec(ctx) }, nil},
			{"lead.deleted", func(c *ent.Client) error { return c.Lead.DeleteOneID(l.ID).Exec(ctx) }, nil},
		}
		for _, s := range steps {
			if err := store.InTx(ctx, db.Client, s.write); err != nil {
				t.Fatalf("%s: %v", s.action, err)
			}
		}
		events := db.Client.AuditEvent.Query().Where(auditevent.ResourceID(l.ID), auditevent.ResourceType("lead")).
			Order(ent.Asc(auditevent.FieldID)).AllX(ctx)
		want := []string{"lead.created"}
		for _, s := range steps {
			want = append(want, s.action)
		}
		if len(events) != len(want) {
			t.Fatalf("got %d events, want %d", len(events), len(want))
		}
		for i, ev := range events {
			if ev.Action != want[i] {
				t.Errorf("event %d: action %q, want %q", i, ev.Action, want[i])
			}
			if ev.Environment != "live" {
				t.Errorf("%s: logged in %s", ev.Action, ev.Environment)
			}
		}
		// The fixture created the lead as the system viewer, which has no
		// user; the owner's key made the rest.
		if e := events[0]; e.ActorID != nil || e.Changes["email"].New != "jane@acme.test" {
			t.Errorf("created event: actor %v, changes %+v", e.ActorID, e.Changes)
		}
		for _, ev := range events[1:] {
			if ev.ActorID == nil || *ev.ActorID != a.OwnerID {
				t.Errorf("%s: actor %v, want the owner %d", ev.Action, ev.ActorID, a.OwnerID)
			}
		}
		for f, ov := range steps[0].changed {
			got, ok := events[1].Changes[f]
			if !ok || got.Old != ov[0] || got.New != ov[1] {
				t.Errorf("update change %s: got %+v, want old %v new %v", f, got, ov[0], ov[1])
			}
		}
		if _, ok := events[1].Changes["last_name"]; ok {
			t.Error("an unchanged field was logged")
		}
	})
}

// TestCustomFieldChangesAreLoggedAsObjects: custom fields, kept as JSON
// text, are logged as the objects they are, and an update that writes the
// same fields logs no change of them.
func TestCustomFieldChangesAreLoggedAsObjects(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.As(viewer.Live, scope.All)
		l := a.NewLead(t, db.Client, viewer.Live, "jane@acme.test")
		for i, fields := range []map[string]any{{}, {"a": "x"}, {"a": "y", "n": 2}, {"n": 2, "a": "y"}} {
			set := customfields.MustFromMap(fields)
			if err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
				return c.Lead.UpdateOneID(l.ID).SetCustomFields(set).SetScore(10 + i).Exec(ctx)
			}); err != nil {
				t.Fatal(err)
			}
		}
		events := db.Client.AuditEvent.Query().Where(auditevent.ResourceID(l.ID), auditevent.Action("lead.updated")).
			Order(ent.Asc(auditevent.FieldID)).AllX(ctx)
		if len(events) != 4 {
			t.Fatalf("%d update events, want 4", len(events))
		}
		want := []*diff.Change{
			nil, // the empty object, which the lead was created with
			{Old: map[string]any{}, New: map[string]any{"a": "x"}},
			{Old: map[string]any{"a": "x"}, New: map[string]any{"a": "y", "n": 2.0}},
			nil, // the same fields again
		}
		for i, ev := range events {
			got, logged := ev.Changes["custom_fields"]
			switch {
			case want[i] == nil && logged:
				t.Errorf("update %d: logged %+v for unchanged custom fields", i+1, got)
			case want[i] != nil && !reflect.DeepEqual(got, *want[i]):
				t.Errorf("update %d: logged %#v, want %#v", i+1, got, *want[i])
			}
		}
	})
}

func TestAuditRecordsKeyAndOnBehalfOf(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		v := &viewer.Viewer{
			Kind: viewer.KindAPIKey, TenantID: a.ID, Environment: viewer.Sandbox,
			UserID: 777, KeyOwnerID: a.OwnerID, APIKeyID: 55, Role: scope.RoleOwner, Scopes: scope.All,
			Request: viewer.Request{ID: "req-1", IP: "203.0.113.9", UserAgent: "curl/8"},
		}
		ctx := viewer.NewContext(t.Context(), v)
		err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
			return c.Lead.Create().SetEmail("x@acme.test").SetFirstName("X").SetLastName("Y").Exec(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		ev := db.Client.AuditEvent.Query().OnlyX(a.System(viewer.Sandbox))
		if *ev.ActorID != a.OwnerID || *ev.OnBehalfOfID != 777 || *ev.APIKeyID != 55 {
			t.Errorf("actor %v on behalf of %v key %v", *ev.ActorID, *ev.OnBehalfOfID, *ev.APIKeyID)
		}
		if ev.RequestID != "req-1" || ev.IP != "203.0.113.9" || ev.UserAgent != "curl/8" || ev.Environment != "sandbox" {
			t.Errorf("request data: %+v", ev)
		}
	})
}

func TestRolledBackWriteLeavesNoEvent(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(viewer.Live)
		boom := errors.New("boom")
		err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
			if err := c.Lead.Create().SetEmail("x@acme.test").SetFirstName("X").SetLastName("Y").Exec(ctx); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
		if n := db.Client.Lead.Query().CountX(ctx); n != 0 {
			t.Errorf("%d leads survived the rollback", n)
		}
		if n := db.Client.AuditEvent.Query().Where(auditevent.ResourceType("lead")).CountX(ctx); n != 0 {
			t.Errorf("%d events survived the rollback", n)
		}
	})
}

func TestWriteOutsideTransactionIsRefused(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(viewer.Live)
		err := db.Client.Lead.Create().SetEmail("x@acme.test").SetFirstName("X").SetLastName("Y").Exec(ctx)
		if !errors.Is(err, audit.ErrNotInTransaction) {
			t.Fatalf("got %v, want ErrNotInTransaction", err)
		}
		if n := db.Client.Lead.Query().CountX(ctx); n != 0 {
			t.Errorf("the write happened anyway")
		}
	})
}

func TestSecretsAreNeverLogged(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(viewer.Live)
		ev := db.Client.AuditEvent.Query().Where(auditevent.Action("user.created")).FirstX(ctx)
		if _, ok := ev.Changes["password_hash"]; ok {
			t.Error("user.created logged the password hash")
		}
		if _, ok := ev.Changes["email"]; !ok {
			t.Errorf("user.created did not log the email: %+v", ev.Changes)
		}
	})
}
