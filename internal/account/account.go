// Package account creates tenants, users and API keys: the operations that
// the CLI, the demo setup and the API share. Each runs in one transaction,
// so a failure leaves nothing half-made.
package account

import (
	"context"
	"fmt"
	"time"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/tenant"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/apikey"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/password"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/viewer"
)

// TenantInput describes a new tenant and its first owner.
type TenantInput struct {
	Slug, Name, Plan string
	Owner            UserInput
}

// UserInput describes a new user.
type UserInput struct {
	Email, Password, Role, FirstName, LastName string
}

// CreateTenant creates a tenant and its owner together.
func CreateTenant(ctx context.Context, client *ent.Client, in TenantInput) (*ent.Tenant, *ent.User, error) {
	in.Owner.Role = "owner"
	hash, err := hashPassword(in.Owner.Password)
	if err != nil {
		return nil, nil, err
	}
	pctx := viewer.NewContext(ctx, viewer.Platform())
	var t *ent.Tenant
	var owner *ent.User
	err = store.WithTx(pctx, client, func(tx *ent.Tx) error {
		t, err = tx.Tenant.Create().SetSlug(in.Slug).SetName(in.Name).SetPlan(tenant.Plan(in.Plan)).Save(pctx)
		if ent.IsConstraintError(err) {
			return apperr.Invalid("slug", "taken", fmt.Sprintf("a tenant with slug %q already exists", in.Slug))
		}
		if err != nil {
			return err
		}
		sctx := viewer.NewContext(ctx, viewer.System(t.ID, viewer.Live))
		owner, err = createUser(sctx, tx.Client(), in.Owner, hash)
		return err
	})
	return t, owner, err
}

// CreateUser adds a user to the tenant of the viewer in ctx.
func CreateUser(ctx context.Context, client *ent.Client, in UserInput) (*ent.User, error) {
	hash, err := hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	var u *ent.User
	err = store.WithTx(ctx, client, func(tx *ent.Tx) error {
		u, err = createUser(ctx, tx.Client(), in, hash)
		return err
	})
	return u, err
}

func createUser(ctx context.Context, client *ent.Client, in UserInput, hash string) (*ent.User, error) {
	u, err := client.User.Create().
		SetEmail(in.Email).SetRole(user.Role(in.Role)).
		SetFirstName(in.FirstName).SetLastName(in.LastName).
		SetPasswordHash(hash).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Invalid("email", "taken", fmt.Sprintf("a user with email %q already exists", in.Email))
	}
	return u, err
}

func hashPassword(pw string) (string, error) {
	if err := password.Validate(pw); err != nil {
		return "", apperr.Invalid("password", apperr.FieldInvalid, err.Error())
	}
	return password.Hash(pw)
}

// KeyInput describes a new API key. The key's environment is the viewer's.
type KeyInput struct {
	Name      string
	OwnerID   int
	Scopes    []string
	ExpiresAt *time.Time
	// Environment is the environment the caller asks for; empty means the
	// viewer's. Keys act in their own environment only, so it must be the
	// viewer's: a key made from the other one would cross the boundary
	// between live and sandbox.
	Environment viewer.Environment
}

// CreateAPIKey creates a key in the viewer's tenant and environment and
// returns it with its plaintext, which is never available again.
func CreateAPIKey(ctx context.Context, client *ent.Client, in KeyInput) (k *ent.APIKey, plain string, err error) {
	err = store.InTx(ctx, client, func(c *ent.Client) error {
		k, plain, err = CreateAPIKeyIn(ctx, c, in)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return k, plain, nil
}

// CreateAPIKeyIn is CreateAPIKey inside the caller's transaction: c must be
// a transactional client (the GraphQL mutations' ent.FromContext), and the
// key exists only once the caller commits.
func CreateAPIKeyIn(ctx context.Context, c *ent.Client, in KeyInput) (*ent.APIKey, string, error) {
	v := viewer.FromContext(ctx)
	if !v.TenantScoped() {
		return nil, "", apperr.New(apperr.Forbidden, "no tenant to create the key in")
	}
	if in.Environment != "" && in.Environment != v.Environment {
		who := "session"
		if v.Kind == viewer.KindAPIKey {
			who = "key"
		}
		return nil, "", &apperr.Error{Code: apperr.Forbidden, Message: "A " + string(v.Environment) + " " + who + " cannot create " + string(in.Environment) + " keys",
			Fields: []apperr.FieldError{{Field: "environment", Code: apperr.FieldInvalid,
				Message: "environment must be " + string(v.Environment) + ", the environment of the " + who}}}
	}
	if in.ExpiresAt != nil && !rule.StoredTime(*in.ExpiresAt).After(time.Now()) {
		return nil, "", apperr.Invalid("expiresAt", apperr.FieldInvalid, "expiresAt must be in the future")
	}
	key, err := apikey.Generate(v.Environment)
	if err != nil {
		return nil, "", err
	}
	k, err := c.APIKey.Create().
		SetName(in.Name).SetOwnerID(in.OwnerID).SetScopes(in.Scopes).
		SetKeyHash(key.Hash).SetPrefix(key.Prefix).SetLast4(key.Last4).
		SetNillableExpiresAt(in.ExpiresAt).Save(ctx)
	if err != nil {
		return nil, "", err
	}
	return k, key.Plaintext, nil
}

// TenantBySlug finds a tenant by its slug.
func TenantBySlug(ctx context.Context, client *ent.Client, slug string) (*ent.Tenant, error) {
	t, err := client.Tenant.Query().Where(tenant.Slug(slug)).Only(viewer.NewContext(ctx, viewer.Platform()))
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid("tenant", "not_found", fmt.Sprintf("no tenant with slug %q", slug))
	}
	return t, err
}

// UserByEmail finds a user of the viewer's tenant by email.
func UserByEmail(ctx context.Context, client *ent.Client, email string) (*ent.User, error) {
	u, err := client.User.Query().Where(user.Email(email)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid("user", "not_found", fmt.Sprintf("no user with email %q in this tenant", email))
	}
	return u, err
}

// MaxRollGrace is the longest an old secret may keep working after a roll.
const MaxRollGrace = 7 * 24 * time.Hour

// RevokeAPIKey revokes a key of the viewer's tenant and environment. Revoking
// a revoked key changes nothing.
func RevokeAPIKey(ctx context.Context, client *ent.Client, id int) (k *ent.APIKey, err error) {
	err = store.InTx(ctx, client, func(c *ent.Client) error {
		k, err = RevokeAPIKeyIn(ctx, c, id)
		return err
	})
	return k, err
}

// RevokeAPIKeyIn is RevokeAPIKey inside the caller's transaction (c must be
// a transactional client).
func RevokeAPIKeyIn(ctx context.Context, c *ent.Client, id int) (*ent.APIKey, error) {
	cur, err := c.APIKey.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.RevokedAt != nil {
		// The no-op writes nothing, so no mutation rule runs: it answers
		// only a caller that could revoke (rule.RequireDeleteScopeToSet).
		if err := rule.CheckScope(ctx, scope.Scope{Resource: scope.APIKeys, Action: scope.Delete}); err != nil {
			return nil, err
		}
		return cur, nil
	}
	return c.APIKey.UpdateOne(cur).SetRevokedAt(time.Now().UTC()).Save(ctx)
}

// RollAPIKeyIn gives a key a new secret, inside the caller's transaction
// (c must be a transactional client), and returns the plaintext, shown
// once. The old secret keeps working for grace (zero: not at all).
func RollAPIKeyIn(ctx context.Context, c *ent.Client, id int, grace time.Duration) (*ent.APIKey, string, error) {
	if grace < 0 || grace > MaxRollGrace {
		return nil, "", apperr.Invalid("expiresInSeconds", apperr.FieldRange, fmt.Sprintf("expiresInSeconds must be between 0 and %d", int(MaxRollGrace.Seconds())))
	}
	cur, err := c.APIKey.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if cur.RevokedAt != nil {
		return nil, "", apperr.New(apperr.Conflict, "A revoked key cannot be rolled")
	}
	key, err := apikey.Generate(viewer.Environment(cur.Environment))
	if err != nil {
		return nil, "", err
	}
	u := c.APIKey.UpdateOne(cur).SetKeyHash(key.Hash).SetPrefix(key.Prefix).SetLast4(key.Last4)
	if grace > 0 {
		u.SetPreviousKeyHash(cur.KeyHash).SetPreviousExpiresAt(time.Now().Add(grace).UTC())
	} else {
		u.ClearPreviousKeyHash().ClearPreviousExpiresAt()
	}
	k, err := u.Save(ctx)
	if err != nil {
		return nil, "", err
	}
	return k, key.Plaintext, nil
}
