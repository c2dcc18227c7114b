package rest

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/apikey"
	"github.com/leadron/leadron/ent/user"
	keys "github.com/leadron/leadron/internal/apikey"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/jwtauth"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/session"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/viewer"
)

// KeyCacheTTL bounds how long a key lookup is reused. It is also the bound on
// revocation: a revoked key stops working on every instance within it.
const KeyCacheTTL = 5 * time.Second

// LastUsedInterval is how often a key's lastUsedAt is written at most, per
// instance, however busy the key.
const LastUsedInterval = time.Minute

// keyEntry is what a key lookup yields; a zero id means "no such key".
type keyEntry struct {
	id, tenantID, ownerID int
	tenantSlug            string
	tenantRegion          string
	env                   viewer.Environment
	ownerRole             scope.Role
	scopes                scope.Set
	expiresAt, revokedAt  *time.Time
	// viaPrevious is set when the hash matched the key's rolled-over secret,
	// which works only until graceUntil.
	viaPrevious bool
	graceUntil  *time.Time
	// limit is the tenant's rate limit.
	limit ratelimit.Limit
}

// usable reports whether the key may authenticate at now.
func (k keyEntry) usable(now time.Time) bool {
	switch {
	case k.id == 0:
		return false
	case k.revokedAt != nil && !now.Before(*k.revokedAt):
		return false
	case k.expiresAt != nil && !now.Before(*k.expiresAt):
		return false
	case k.viaPrevious && (k.graceUntil == nil || !now.Before(*k.graceUntil)):
		return false
	}
	return true
}

// Authenticator turns the credentials on a request into a viewer.
type Authenticator struct {
	client *ent.Client
	codec  *ids.Codec
	log    *slog.Logger
	cache  *expirable.LRU[[sha256.Size]byte, keyEntry] // by the key's hash: no string to build per request
	// ipHeader, when set, is the trusted proxy's client-IP header.
	ipHeader string

	sessions *session.Service
	users    *session.UserCache

	mu      sync.Mutex
	touched map[int]time.Time
	writes  sync.WaitGroup
}

// NewAuthenticator returns an Authenticator. ipHeader names the header a
// trusted proxy puts the client IP in; empty means use the socket address.
func NewAuthenticator(client *ent.Client, codec *ids.Codec, log *slog.Logger, ipHeader string) *Authenticator {
	return &Authenticator{
		client: client, codec: codec, log: log, ipHeader: ipHeader,
		cache:   expirable.NewLRU[[sha256.Size]byte, keyEntry](10_000, nil, KeyCacheTTL),
		touched: map[int]time.Time{},
	}
}

// Wait blocks until pending lastUsedAt writes finish (for shutdown and tests).
func (a *Authenticator) Wait() { a.writes.Wait() }

// ForgetKey drops cached lookups of a key on this instance, so a revocation
// made here takes effect at once rather than within KeyCacheTTL.
func (a *Authenticator) ForgetKey(id int) {
	for _, k := range a.cache.Keys() {
		if e, ok := a.cache.Peek(k); ok && e.id == id {
			a.cache.Remove(k)
		}
	}
}

func invalidKey() *apperr.Error {
	return apperr.New(apperr.InvalidAPIKey, "Invalid or missing API key or access token")
}

func invalidOnBehalfOf() *apperr.Error {
	return apperr.New(apperr.InvalidOnBehalfOf, "X-On-Behalf-Of must be the ID of a user in your workspace, and the key's owner must be an owner or admin")
}

// credential returns the API key a request carries, in X-API-Key or as an
// Authorization bearer token.
func credential(r *http.Request) string {
	if k := r.Header.Get("X-Api-Key"); k != "" { // X-API-Key, spelt canonically: no allocation
		return k
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate resolves the request's credentials to a viewer, and returns
// the tenant's rate limit with it.
func (a *Authenticator) authenticate(r *http.Request) (*viewer.Viewer, ratelimit.Limit, error) {
	plain := credential(r)
	if plain == "" {
		return nil, ratelimit.Limit{}, invalidKey()
	}
	if a.sessions != nil && !strings.HasPrefix(plain, "ldr_") && jwtauth.LooksLikeJWT(plain) {
		return a.authenticateUser(r, plain)
	}
	k, err := a.lookup(r.Context(), plain)
	if err != nil {
		return nil, ratelimit.Limit{}, err
	}
	now := time.Now()
	if !k.usable(now) {
		return nil, ratelimit.Limit{}, invalidKey()
	}
	a.touch(k, now)
	v := &viewer.Viewer{
		Kind: viewer.KindAPIKey, TenantID: k.tenantID, TenantSlug: k.tenantSlug, TenantRegion: k.tenantRegion, Environment: k.env,
		UserID: k.ownerID, Role: k.ownerRole, APIKeyID: k.id,
		Scopes:  k.scopes.Intersect(scope.ForRole(k.ownerRole)),
		Request: a.request(r),
	}
	if k.viaPrevious {
		// The old secret of a rolled key works until its grace period ends,
		// but cannot roll, revoke or make keys, or make users: otherwise
		// whoever leaked it could lock the owner out or outlast the roll.
		v.Scopes = v.Scopes.Without(scope.Credentials)
	}
	if target := r.Header.Get("X-On-Behalf-Of"); target != "" {
		if err := a.actOnBehalfOf(r.Context(), v, target); err != nil {
			return nil, ratelimit.Limit{}, err
		}
	}
	return v, k.limit, nil
}

// authenticateUser resolves a dashboard user's JWT. The token must carry
// the user's current token version, so a password or role change ends old
// sessions (within session.UserCacheTTL). The environment comes from
// X-Leadron-Environment.
func (a *Authenticator) authenticateUser(r *http.Request, token string) (*viewer.Viewer, ratelimit.Limit, error) {
	claims, err := a.sessions.Issuer().Verify(token)
	if err != nil {
		return nil, ratelimit.Limit{}, invalidKey()
	}
	u, err := a.users.Get(r.Context(), claims.UserID)
	if ent.IsNotFound(err) {
		return nil, ratelimit.Limit{}, invalidKey()
	}
	if err != nil {
		return nil, ratelimit.Limit{}, err
	}
	if u.TenantID != claims.TenantID || u.TokenVersion != claims.TokenVersion {
		return nil, ratelimit.Limit{}, invalidKey()
	}
	env := viewer.Live
	if h := r.Header.Get("X-Leadron-Environment"); h != "" {
		env = viewer.Environment(h)
		if !env.Valid() {
			return nil, ratelimit.Limit{}, apperr.Invalid("X-Leadron-Environment", apperr.FieldInvalid, "X-Leadron-Environment must be live or sandbox")
		}
	}
	role := scope.Role(u.Role)
	v := &viewer.Viewer{
		Kind: viewer.KindUser, TenantID: u.TenantID, TenantSlug: u.Edges.Tenant.Slug, TenantRegion: u.Edges.Tenant.DefaultRegion, Environment: env,
		UserID: u.ID, Role: role, Scopes: scope.ForRole(role), Request: a.request(r),
	}
	return v, TenantLimit(u.Edges.Tenant), nil
}

func (a *Authenticator) request(r *http.Request) viewer.Request {
	return viewer.Request{ID: RequestIDFrom(r.Context()), IP: a.clientIP(r), UserAgent: r.UserAgent()}
}

// UseSessions lets the authenticator accept dashboard JWTs besides keys.
func (a *Authenticator) UseSessions(s *session.Service) {
	a.sessions, a.users = s, session.NewUserCache(a.client)
}

// lookup finds a key by its hash, through the cache. Only the hash of the
// presented secret is ever looked up or kept.
func (a *Authenticator) lookup(ctx context.Context, plain string) (keyEntry, error) {
	sum := keys.Sum(plain)
	if e, ok := a.cache.Get(sum); ok {
		return e, nil
	}
	hash := keys.Hash(plain) // a copy for the query: sum stays off the heap on a hit
	pctx := viewer.NewContext(ctx, viewer.Platform())
	k, err := a.client.APIKey.Query().
		Where(apikey.Or(apikey.KeyHash(hash), apikey.PreviousKeyHash(hash))).
		WithOwner().WithTenant().
		Only(pctx)
	var e keyEntry
	switch {
	case ent.IsNotFound(err):
		// Remember misses too, so guessing keys costs no extra queries.
	case err != nil:
		return keyEntry{}, err
	default:
		e = keyEntry{
			id: k.ID, tenantID: k.TenantID, ownerID: k.OwnerID, tenantSlug: k.Edges.Tenant.Slug, tenantRegion: k.Edges.Tenant.DefaultRegion,
			env: viewer.Environment(k.Environment), ownerRole: scope.Role(k.Edges.Owner.Role),
			expiresAt: k.ExpiresAt, revokedAt: k.RevokedAt,
			viaPrevious: string(k.KeyHash) != string(hash), graceUntil: k.PreviousExpiresAt,
			limit: TenantLimit(k.Edges.Tenant),
		}
		e.scopes, err = scope.Parse(k.Scopes)
		if err != nil {
			return keyEntry{}, err
		}
	}
	a.cache.Add(sum, e)
	return e, nil
}

// actOnBehalfOf switches v to the target user. Only an owner's or admin's
// key may, only for a user of its tenant, and the answer is the same for an
// unknown user and another tenant's.
func (a *Authenticator) actOnBehalfOf(ctx context.Context, v *viewer.Viewer, target string) error {
	if v.Role != scope.RoleOwner && v.Role != scope.RoleAdmin {
		return invalidOnBehalfOf()
	}
	id, err := a.codec.DecodeAs(strings.TrimSpace(target), user.Table)
	if err != nil {
		return invalidOnBehalfOf()
	}
	sctx := viewer.NewContext(ctx, viewer.System(v.TenantID, v.Environment))
	u, err := a.client.User.Get(sctx, id)
	if ent.IsNotFound(err) {
		return invalidOnBehalfOf()
	}
	if err != nil {
		return err
	}
	role := scope.Role(u.Role)
	v.KeyOwnerID, v.UserID, v.Role = v.UserID, u.ID, role
	v.Scopes = v.Scopes.Intersect(scope.ForRole(role))
	return nil
}

// touch records the key's last use, at most once per LastUsedInterval per
// instance, in the background so the request does not wait for the write.
func (a *Authenticator) touch(k keyEntry, now time.Time) {
	a.mu.Lock()
	if now.Sub(a.touched[k.id]) < LastUsedInterval {
		a.mu.Unlock()
		return
	}
	a.touched[k.id] = now
	a.mu.Unlock()
	a.recordUse(k.id, k.tenantID, k.env, now)
}

// recordUse writes a key's lastUsedAt in the background. It is apart from
// touch so that only a write, not every request, pays for the goroutine's
// captured values.
func (a *Authenticator) recordUse(id, tenantID int, env viewer.Environment, at time.Time) {
	a.writes.Add(1)
	go func() {
		defer a.writes.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ctx = viewer.NewContext(ctx, viewer.System(tenantID, env))
		err := store.InTx(ctx, a.client, func(c *ent.Client) error {
			return c.APIKey.UpdateOneID(id).SetLastUsedAt(at.UTC()).Exec(ctx)
		})
		if err != nil {
			a.log.Warn("recording API key use", "api_key_id", id, "err", err)
		}
	}()
}

// clientIP is the socket's address, or the trusted proxy's header when one
// is configured. X-Forwarded-For is never trusted by default: any client can
// set it.
func (a *Authenticator) clientIP(r *http.Request) string {
	if a.ipHeader != "" {
		if h := r.Header.Get(a.ipHeader); h != "" {
			first, _, _ := strings.Cut(h, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requireScope refuses a request whose viewer lacks sc, naming sc.
func requireScope(sc scope.Scope) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !viewer.FromContext(r.Context()).Can(sc) {
				fail(w, r, apperr.New(apperr.InsufficientScope, "This endpoint requires the '"+sc.String()+"' scope"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
