// Package viewer carries who is acting, in which tenant and environment, and
// with which rights, through a request's context. The ent privacy layer reads
// it on every query and mutation; a context without a viewer is denied.
package viewer

import (
	"context"

	"github.com/leadron/leadron/internal/scope"
)

// Environment separates a tenant's live data from its sandbox data.
type Environment string

// The two environments every tenant has.
const (
	Live    Environment = "live"
	Sandbox Environment = "sandbox"
)

// Valid reports whether e is a known environment.
func (e Environment) Valid() bool { return e == Live || e == Sandbox }

// Kind says what sort of principal a viewer is.
type Kind uint8

// The kinds of viewer.
const (
	// KindUser is a dashboard user signed in with a JWT.
	KindUser Kind = iota + 1
	// KindAPIKey is an integration calling with an API key.
	KindAPIKey
	// KindSystem is the CLI or a background job, acting for one tenant and
	// environment with full rights there.
	KindSystem
	// KindPlatform acts for the deployment, not for a tenant. The privacy
	// policies let it do very little: create and read tenants, read and write
	// deployment settings, and look up API keys and users to authenticate.
	KindPlatform
)

// Request describes the HTTP request (or CLI run) behind a viewer, for audit.
type Request struct {
	ID        string
	IP        string
	UserAgent string
}

// Viewer is the acting principal. It is immutable once in a context.
type Viewer struct {
	Kind     Kind
	TenantID int
	// TenantSlug is the tenant's public name, shown as tenantId in the API.
	TenantSlug string
	// TenantRegion is the tenant's default phone region, when the
	// authenticator loaded the tenant (empty otherwise: the data layer then
	// reads it).
	TenantRegion string
	Environment  Environment
	// UserID is the user the request acts as: the key's owner, or the
	// X-On-Behalf-Of target when one is given.
	UserID int
	// KeyOwnerID is the user who created the API key, when it differs from
	// UserID because of X-On-Behalf-Of; zero otherwise.
	KeyOwnerID int
	Role       scope.Role
	APIKeyID   int
	Scopes     scope.Set
	Request    Request
}

// Can reports whether the viewer holds the scope.
func (v *Viewer) Can(s scope.Scope) bool {
	return v != nil && v.Scopes.Has(s)
}

// TenantScoped reports whether the viewer is bound to one tenant and
// environment, which every tenant-scoped row requires.
func (v *Viewer) TenantScoped() bool {
	return v != nil && v.Kind != KindPlatform && v.TenantID != 0 && v.Environment.Valid()
}

type ctxKey struct{}

// NewContext returns a context carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx, or nil.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

// System returns a viewer for the CLI and background jobs, with full rights in
// exactly one tenant and environment.
func System(tenantID int, env Environment) *Viewer {
	return &Viewer{Kind: KindSystem, TenantID: tenantID, Environment: env, Role: scope.RoleOwner, Scopes: scope.All}
}

// Platform returns the deployment-level viewer (see KindPlatform).
func Platform() *Viewer { return &Viewer{Kind: KindPlatform} }
