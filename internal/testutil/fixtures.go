package testutil

import (
	"context"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/viewer"
)

// Password is the password of every user the fixtures create.
const Password = "correct horse battery"

// Tenant is a tenant made for a test, with its owner.
type Tenant struct {
	ID      int
	Slug    string
	OwnerID int
}

// NewTenant creates a tenant on the free plan with an owner
// (owner@SLUG.test).
func NewTenant(t testing.TB, db *store.DB, slug string) Tenant {
	t.Helper()
	return NewTenantOnPlan(t, db, slug, "free")
}

// NewTenantOnPlan creates a tenant on the plan, with an owner.
func NewTenantOnPlan(t testing.TB, db *store.DB, slug, plan string) Tenant {
	t.Helper()
	tn, owner, err := account.CreateTenant(context.Background(), db.Client, account.TenantInput{
		Slug: slug, Name: slug, Plan: plan,
		Owner: account.UserInput{Email: "owner@" + slug + ".test", Password: Password},
	})
	if err != nil {
		t.Fatalf("creating tenant %s: %v", slug, err)
	}
	return Tenant{ID: tn.ID, Slug: slug, OwnerID: owner.ID}
}

// System returns a context acting as the system viewer of the tenant and
// environment.
func (tn Tenant) System(env viewer.Environment) context.Context {
	return viewer.NewContext(context.Background(), viewer.System(tn.ID, env))
}

// As returns a context acting as an API key of the tenant's owner with the
// given scopes, in env.
func (tn Tenant) As(env viewer.Environment, scopes scope.Set) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.KindAPIKey, TenantID: tn.ID, Environment: env,
		UserID: tn.OwnerID, Role: scope.RoleOwner, Scopes: scopes,
	})
}

// NewLead creates a lead in the tenant's env as the system viewer.
func (tn Tenant) NewLead(t testing.TB, client *ent.Client, env viewer.Environment, email string) *ent.Lead {
	t.Helper()
	ctx := tn.System(env)
	var l *ent.Lead
	err := store.InTx(ctx, client, func(c *ent.Client) (err error) {
		l, err = c.Lead.Create().SetEmail(email).SetFirstName("Jane").SetLastName("Doe").Save(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("creating lead %s: %v", email, err)
	}
	return l
}
