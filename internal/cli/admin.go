package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/viewer"
)

func (e *env) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.db.Close()
			a.log.Info("database is up to date", "dialect", a.db.Dialect)
			return nil
		},
	}
}

func (e *env) tenantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants"}
	var in account.TenantInput
	var asJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a tenant and its owner",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(map[string]string{"--slug": in.Slug, "--name": in.Name, "--owner-email": in.Owner.Email, "--owner-password": in.Owner.Password}); err != nil {
				return err
			}
			a, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.db.Close()
			t, owner, err := account.CreateTenant(cmd.Context(), a.db.Client, in)
			if err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(map[string]any{
					"id": a.codec.Encode(t.ID), "slug": t.Slug, "name": t.Name, "plan": t.Plan,
					"owner": map[string]any{"id": a.codec.Encode(owner.ID), "email": owner.Email, "role": owner.Role},
				})
			}
			fmt.Fprintf(e.stdout, "Created tenant %s (%s, plan %s) with owner %s.\n", t.Slug, a.codec.Encode(t.ID), t.Plan, owner.Email)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&in.Slug, "slug", "", "URL-safe identifier, e.g. acme-corp (required)")
	f.StringVar(&in.Name, "name", "", "display name (required)")
	f.StringVar(&in.Plan, "plan", "free", "free, starter, pro, team or enterprise")
	f.StringVar(&in.Owner.Email, "owner-email", "", "the owner's sign-in email (required)")
	f.StringVar(&in.Owner.Password, "owner-password", "", "the owner's password, at least 8 characters (required)")
	f.StringVar(&in.Owner.FirstName, "owner-first-name", "", "the owner's first name")
	f.StringVar(&in.Owner.LastName, "owner-last-name", "", "the owner's last name")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.AddCommand(create)
	return cmd
}

func (e *env) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	var in account.UserInput
	var slug string
	var asJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Add a user to a tenant",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(map[string]string{"--tenant": slug, "--email": in.Email, "--password": in.Password, "--role": in.Role}); err != nil {
				return err
			}
			a, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.db.Close()
			t, err := account.TenantBySlug(cmd.Context(), a.db.Client, slug)
			if err != nil {
				return err
			}
			ctx := viewer.NewContext(cmd.Context(), viewer.System(t.ID, viewer.Live))
			u, err := account.CreateUser(ctx, a.db.Client, in)
			if err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(map[string]any{
					"id": a.codec.Encode(u.ID), "tenantId": t.Slug, "email": u.Email, "role": u.Role,
					"firstName": u.FirstName, "lastName": u.LastName,
				})
			}
			fmt.Fprintf(e.stdout, "Created %s %s (%s) in tenant %s.\n", u.Role, u.Email, a.codec.Encode(u.ID), t.Slug)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&slug, "tenant", "", "the tenant's slug (required)")
	f.StringVar(&in.Email, "email", "", "sign-in email (required)")
	f.StringVar(&in.Password, "password", "", "password, at least 8 characters (required)")
	f.StringVar(&in.Role, "role", "", "owner, admin, member or viewer (required)")
	f.StringVar(&in.FirstName, "first-name", "", "first name")
	f.StringVar(&in.LastName, "last-name", "", "last name")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.AddCommand(create)
	return cmd
}

func (e *env) apikeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage API keys"}
	var slug, email, envName, scopes, name string
	var expiresIn time.Duration
	var asJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key; its secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(map[string]string{"--tenant": slug, "--user": email, "--scopes": scopes, "--name": name}); err != nil {
				return err
			}
			env := viewer.Environment(envName)
			if !env.Valid() {
				return usageError("--env must be live or sandbox, not %q", envName)
			}
			a, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.db.Close()
			t, err := account.TenantBySlug(cmd.Context(), a.db.Client, slug)
			if err != nil {
				return err
			}
			ctx := viewer.NewContext(cmd.Context(), viewer.System(t.ID, env))
			owner, err := account.UserByEmail(ctx, a.db.Client, email)
			if err != nil {
				return err
			}
			in := account.KeyInput{Name: name, OwnerID: owner.ID, Scopes: splitList(scopes)}
			if expiresIn > 0 {
				at := time.Now().Add(expiresIn).UTC()
				in.ExpiresAt = &at
			}
			k, plain, err := account.CreateAPIKey(ctx, a.db.Client, in)
			if err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(map[string]any{"id": a.codec.Encode(k.ID), "key": plain, "scopes": k.Scopes, "environment": k.Environment, "name": k.Name})
			}
			fmt.Fprintf(e.stdout, "Created %s key %q (%s) for %s with scopes %s.\nKey (shown once, store it now): %s\n",
				k.Environment, k.Name, a.codec.Encode(k.ID), owner.Email, strings.Join(k.Scopes, ","), plain)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&slug, "tenant", "", "the tenant's slug (required)")
	f.StringVar(&email, "user", "", "email of the user the key acts as (required)")
	f.StringVar(&envName, "env", "live", "live or sandbox")
	f.StringVar(&scopes, "scopes", "", "comma-separated scopes or bundles, e.g. leads:read,leads:write or full_access (required)")
	f.StringVar(&name, "name", "", "a name to recognize the key by (required)")
	f.DurationVar(&expiresIn, "expires-in", 0, "lifetime, e.g. 720h; no expiry when unset")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.AddCommand(create)
	return cmd
}

// required reports the first missing flag, in a stable order.
func required(flags map[string]string) error {
	var missing []string
	for flag, v := range flags {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, flag)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return usageError("missing required flag(s): %s", strings.Join(missing, ", "))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
