package rest

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/viewer"
)

// RateLimits are the per-IP limits; per-tenant limits come from the plan.
type RateLimits struct {
	// IP bounds authenticated requests per client IP. It is generous by
	// default: many integrations share one egress IP.
	IP ratelimit.Limit
	// AuthFailure bounds failed authentications per client IP, so keys
	// cannot be guessed.
	AuthFailure ratelimit.Limit
}

// DefaultRateLimits are the brief's defaults.
var DefaultRateLimits = RateLimits{
	IP:          ratelimit.Limit{PerMinute: 6000, Burst: 600},
	AuthFailure: ratelimit.Limit{PerMinute: 60, Burst: 10},
}

// enterpriseDefault applies to an enterprise tenant without custom limits.
var enterpriseDefault = ratelimit.Limit{PerMinute: 10000, Burst: 1000}

// TenantLimit is a tenant's rate: its custom limits when set, else its
// plan's row of the table.
func TenantLimit(t *ent.Tenant) ratelimit.Limit {
	if t.RateLimitPerMinute != nil && t.RateLimitBurst != nil {
		return ratelimit.Limit{PerMinute: *t.RateLimitPerMinute, Burst: *t.RateLimitBurst}
	}
	if l, ok := ratelimit.PlanLimit(t.Plan.String()); ok {
		return l
	}
	return enterpriseDefault
}

// Gate authenticates requests and applies the rate limits: per client IP
// before anything else, per IP again on failed authentication, and per
// tenant once the tenant is known. Every response carries the tighter
// bucket's X-RateLimit-* headers.
type Gate struct {
	auth    *Authenticator
	limiter ratelimit.Limiter
	limits  RateLimits
	log     *slog.Logger
	// names holds each tenant's bucket name (its ID as text); one entry
	// per tenant.
	namesMu sync.RWMutex
	names   map[int]string
}

// NewGate returns a Gate.
func NewGate(auth *Authenticator, limiter ratelimit.Limiter, limits RateLimits, log *slog.Logger) *Gate {
	return &Gate{auth: auth, limiter: limiter, limits: limits, log: log, names: map[int]string{}}
}

// Middleware admits authenticated requests within their limits, with the
// viewer in the context. Refusals are in REST's envelope.
func (g *Gate) Middleware(next http.Handler) http.Handler {
	return g.MiddlewareWith(Refuse(fail))(next)
}

// Refuse writes a refusal (missing or bad credentials, a rate limit, a bad
// environment header) in an API's own error shape.
type Refuse func(http.ResponseWriter, *http.Request, error)

// MiddlewareWith is Middleware with refusals written by refuse: /graphql
// writes them as GraphQL errors (graph.Refuse).
func (g *Gate) MiddlewareWith(refuse Refuse) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return g.admit(next, refuse) }
}

func (g *Gate) admit(next http.Handler, refuse Refuse) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := g.auth.clientIP(r)
		ipRes, ok := g.takeOr(w, r, ratelimit.Key{Kind: "ip", Name: ip}, g.limits.IP, refuse)
		if !ok {
			return
		}
		v, limit, err := g.auth.authenticate(r)
		if err != nil {
			failRes, ok := g.takeOr(w, r, ratelimit.Key{Kind: "authfail", Name: ip}, g.limits.AuthFailure, refuse)
			if !ok {
				return
			}
			ratelimit.WriteHeaders(w.Header(), ratelimit.Tighter(ipRes, failRes))
			w.Header().Set("WWW-Authenticate", `Bearer realm="leadron"`)
			refuse(w, r, err)
			return
		}
		tenantRes, ok := g.takeOr(w, r, ratelimit.Key{Kind: "tenant", Name: g.tenantName(v.TenantID)}, limit, refuse)
		if !ok {
			return
		}
		ratelimit.WriteHeaders(w.Header(), ratelimit.Tighter(ipRes, tenantRes))
		next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
	})
}

// LimitIP admits a request that needs no credentials (the OpenAPI
// document, sign-in, an unknown path) within its client IP's limit, and
// writes that bucket's headers.
func (g *Gate) LimitIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, ok := g.take(w, r, ratelimit.Key{Kind: "ip", Name: g.auth.clientIP(r)}, g.limits.IP)
		if !ok {
			return
		}
		ratelimit.WriteHeaders(w.Header(), res)
		next.ServeHTTP(w, r)
	})
}

// take takes one request from a bucket. When the bucket is empty it answers
// 429 and reports false. A limiter error never blocks traffic.
func (g *Gate) take(w http.ResponseWriter, r *http.Request, key ratelimit.Key, l ratelimit.Limit) (ratelimit.Result, bool) {
	return g.takeOr(w, r, key, l, fail)
}

// takeOr is take with the refusal written by refuse.
func (g *Gate) takeOr(w http.ResponseWriter, r *http.Request, key ratelimit.Key, l ratelimit.Limit, refuse Refuse) (ratelimit.Result, bool) {
	res, err := g.limiter.Allow(r.Context(), key, l)
	if err != nil {
		g.log.Warn("rate limiter failed; admitting the request", "err", err)
		return ratelimit.Result{Allowed: true, Limit: l.PerMinute, Remaining: l.Burst}, true
	}
	if !res.Allowed {
		ratelimit.WriteHeaders(w.Header(), res)
		refuse(w, r, apperr.New(apperr.RateLimited, "Too many requests; retry after the time in Retry-After"))
		return res, false
	}
	return res, true
}

// tenantName is a tenant's ID as its bucket's name, made once per tenant
// rather than on every request.
func (g *Gate) tenantName(id int) string {
	g.namesMu.RLock()
	name, ok := g.names[id]
	g.namesMu.RUnlock()
	if ok {
		return name
	}
	name = strconv.Itoa(id)
	g.namesMu.Lock()
	g.names[id] = name
	g.namesMu.Unlock()
	return name
}
