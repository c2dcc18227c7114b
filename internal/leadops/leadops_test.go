package leadops_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/leadops"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

func TestMergeCustomFields(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cur, patch map[string]any
		want       map[string]any
	}{
		{"nil current", nil, map[string]any{"a": "x"}, map[string]any{"a": "x"}},
		{"add and replace", map[string]any{"a": "x", "b": 1.0}, map[string]any{"b": 2.0, "c": true}, map[string]any{"a": "x", "b": 2.0, "c": true}},
		{"null deletes", map[string]any{"a": "x", "b": 1.0}, map[string]any{"a": nil}, map[string]any{"b": 1.0}},
		{"deleting a missing key", map[string]any{"a": "x"}, map[string]any{"zz": nil}, map[string]any{"a": "x"}},
		{"empty patch", map[string]any{"a": "x"}, map[string]any{}, map[string]any{"a": "x"}},
		{"nil everything", nil, nil, map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := maps.Clone(tc.cur)
			got := leadops.MergeCustomFields(tc.cur, tc.patch)
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !maps.Equal(tc.cur, before) {
				t.Errorf("the current fields were modified: %v", tc.cur)
			}
		})
	}
}

// inTx runs fn in a transaction as the viewer of ctx, as the adapters do.
func inTx[T any](t *testing.T, ctx context.Context, db *store.DB, fn func(c *ent.Client) (T, error)) (T, error) {
	t.Helper()
	var out T
	err := store.InTx(ctx, db.Client, func(c *ent.Client) (err error) {
		out, err = fn(c)
		return err
	})
	return out, err
}

func events(t *testing.T, ctx context.Context, db *store.DB, leadID int) []string {
	t.Helper()
	evs, err := db.Client.AuditEvent.Query().
		Where(auditevent.ResourceType("lead"), auditevent.ResourceID(leadID)).
		Order(ent.Asc(auditevent.FieldID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

func TestUpdate(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(viewer.Live)
		l, err := inTx(t, ctx, db, func(c *ent.Client) (*ent.Lead, error) {
			return c.Lead.Create().SetEmail("jane@acme.com").SetFirstName("Jane").SetLastName("Doe").
				SetCustomFields(customfields.MustFromMap(map[string]any{"company": "Acme", "role": "VP"})).Save(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("merges custom fields", func(t *testing.T) {
			got, err := inTx(t, ctx, db, func(c *ent.Client) (*ent.Lead, error) {
				return leadops.Patch(ctx, c, l.ID, func(m *ent.LeadMutation) { m.SetScore(70) },
					map[string]any{"role": nil, "seats": 25.0})
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"company": "Acme", "seats": 25.0}
			if m, err := got.CustomFields.Map(); err != nil || !maps.Equal(m, want) || got.Score != 70 {
				t.Errorf("got %v score %d, want %v score 70", got.CustomFields, got.Score, want)
			}
		})

		t.Run("nothing to change writes nothing", func(t *testing.T) {
			before, _ := db.Client.Lead.Get(ctx, l.ID)
			n := len(events(t, ctx, db, l.ID))
			got, err := inTx(t, ctx, db, func(c *ent.Client) (*ent.Lead, error) {
				return leadops.Patch(ctx, c, l.ID, nil, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != before.Version || len(events(t, ctx, db, l.ID)) != n {
				t.Errorf("an empty update wrote: version %d → %d", before.Version, got.Version)
			}
		})

		t.Run("a stale read is a race", func(t *testing.T) {
			stale, _ := db.Client.Lead.Get(ctx, l.ID)
			if _, err := inTx(t, ctx, db, func(c *ent.Client) (*ent.Lead, error) {
				return leadops.Patch(ctx, c, l.ID, func(m *ent.LeadMutation) { m.SetScore(10) }, nil)
			}); err != nil {
				t.Fatal(err)
			}
			_, err := inTx(t, ctx, db, func(c *ent.Client) (*ent.Lead, error) {
				return leadops.Update(ctx, c, stale, nil, map[string]any{"x": "y"})
			})
			if !errors.Is(err, leadops.ErrRaced) {
				t.Errorf("got %v, want ErrRaced", err)
			}
		})
	})
}

func TestArchiveAndRestore(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(viewer.Live)
		l := a.NewLead(t, db.Client, viewer.Live, "jane@acme.com")
		steps := []struct {
			name     string
			op       func(context.Context, *ent.Client, int) (*ent.Lead, error)
			archived bool
		}{
			{"archive", leadops.Archive, true},
			{"archive again", leadops.Archive, true},
			{"restore", leadops.Restore, false},
			{"restore again", leadops.Restore, false},
		}
		for _, s := range steps {
			got, err := inTx(t, ctx, db, func(c *ent.Client) (*ent.Lead, error) { return s.op(ctx, c, l.ID) })
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if (got.ArchivedAt != nil) != s.archived {
				t.Errorf("%s: archivedAt %v", s.name, got.ArchivedAt)
			}
		}
		want := []string{"lead.created", "lead.archived", "lead.restored"}
		if got := events(t, ctx, db, l.ID); !slices.Equal(got, want) {
			t.Errorf("audit events %v, want %v: a no-op must log nothing", got, want)
		}
	})
}

// A no-op writes nothing for the privacy policy to see, yet a viewer who
// could not have written is refused all the same.
func TestNoOpsNeedTheScope(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		l := a.NewLead(t, db.Client, viewer.Live, "jane@acme.com")
		readOnly := a.As(viewer.Live, scope.Of(scope.Scope{Resource: scope.Leads, Action: scope.Read}))
		for name, op := range map[string]func(c *ent.Client) (*ent.Lead, error){
			"restore an active lead": func(c *ent.Client) (*ent.Lead, error) { return leadops.Restore(readOnly, c, l.ID) },
			"archive":                func(c *ent.Client) (*ent.Lead, error) { return leadops.Archive(readOnly, c, l.ID) },
			"empty update":           func(c *ent.Client) (*ent.Lead, error) { return leadops.Patch(readOnly, c, l.ID, nil, nil) },
		} {
			_, err := inTx(t, readOnly, db, op)
			if e, ok := errmap.Classify(err); !ok || e.Code != "insufficient_scope" {
				t.Errorf("%s: got %v, want insufficient_scope", name, err)
			}
		}
	})
}

func TestListed(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(viewer.Live)
		active := a.NewLead(t, db.Client, viewer.Live, "active@acme.test")
		archived := a.NewLead(t, db.Client, viewer.Live, "archived@acme.test")
		merged := a.NewLead(t, db.Client, viewer.Live, "merged@acme.test")
		if _, err := inTx(t, ctx, db, func(c *ent.Client) (*ent.Lead, error) {
			if err := c.Lead.UpdateOne(merged).SetMergedInto(active.ID).Exec(ctx); err != nil {
				return nil, err
			}
			return leadops.Archive(ctx, c, archived.ID)
		}); err != nil {
			t.Fatal(err)
		}
		for include, want := range map[bool][]int{false: {active.ID}, true: {active.ID, archived.ID}} {
			got, err := db.Client.Lead.Query().Where(leadops.Listed(include)...).Order(ent.Asc("id")).IDs(ctx)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("Listed(%v) = %v %v, want %v", include, got, err, want)
			}
		}
	})
}
