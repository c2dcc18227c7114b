package rule_test

import (
	"testing"
	"time"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// Every time a write sets, by default or given, is stored to the
// millisecond, the precision the APIs show, on creates, single and bulk
// updates, and on each kind of row.
func TestMillisecondTimes(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(live)
		given := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
		want := time.Date(2031, 5, 6, 5, 8, 9, 123000000, time.UTC)

		var created *ent.Lead
		tests := []struct {
			name  string
			write func(c *ent.Client) error
			read  func() []time.Time // the stored times, read back
			given bool               // whether the times read back are given's
		}{
			{
				name: "defaults on create",
				write: func(c *ent.Client) (err error) {
					created, err = c.Lead.Create().SetEmail("jane@acme.test").SetFirstName("J").SetLastName("D").Save(ctx)
					return err
				},
				read: func() []time.Time {
					l := db.Client.Lead.GetX(ctx, created.ID)
					return []time.Time{l.CreatedAt, l.UpdatedAt, created.CreatedAt}
				},
			},
			{
				name:  "a given time on update",
				write: func(c *ent.Client) error { return c.Lead.UpdateOneID(created.ID).SetArchivedAt(given).Exec(ctx) },
				read:  func() []time.Time { return []time.Time{*db.Client.Lead.GetX(ctx, created.ID).ArchivedAt} },
				given: true,
			},
			{
				name:  "the default on update",
				write: func(c *ent.Client) error { return c.Lead.UpdateOneID(created.ID).SetScore(7).Exec(ctx) },
				read:  func() []time.Time { return []time.Time{db.Client.Lead.GetX(ctx, created.ID).UpdatedAt} },
			},
			{
				name: "a given time on a bulk update",
				write: func(c *ent.Client) error {
					return c.Lead.Update().Where(lead.ID(created.ID)).SetArchivedAt(given.Add(time.Hour)).Exec(ctx)
				},
				read: func() []time.Time {
					return []time.Time{db.Client.Lead.GetX(ctx, created.ID).ArchivedAt.Add(-time.Hour), db.Client.Lead.GetX(ctx, created.ID).UpdatedAt}
				},
			},
			{
				name: "another type's given time",
				write: func(c *ent.Client) error {
					return c.APIKey.Create().SetName("k").SetOwnerID(a.OwnerID).SetKeyHash([]byte("0123456789abcdef0123456789abcdef")).
						SetPrefix("ldr_live_sk_abcd").SetLast4("wxyz").SetScopes([]string{"leads:read"}).SetExpiresAt(given).Exec(ctx)
				},
				read:  func() []time.Time { return []time.Time{*db.Client.APIKey.Query().OnlyX(ctx).ExpiresAt} },
				given: true,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := write(ctx, db, tt.write); err != nil {
					t.Fatal(err)
				}
				for i, got := range tt.read() {
					if got.Nanosecond()%int(time.Millisecond) != 0 {
						t.Errorf("time %d is %s, want it to the millisecond", i, got.Format(time.RFC3339Nano))
					}
					if tt.given && !got.Equal(want) {
						t.Errorf("time %d is %s, want %s", i, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
					}
				}
			})
		}
	})
}
