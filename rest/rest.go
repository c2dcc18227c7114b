// Package rest is the /v1 REST API for integrations: a thin chi adapter over
// the ent client. It authenticates, decodes, and shapes responses into the
// documented envelope; validation, tenancy and audit happen in the data
// layer, which the GraphQL API shares.
package rest

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/session"
	"github.com/leadron/leadron/rest/openapi"
)

// Deps are what the API needs.
type Deps struct {
	Client *ent.Client
	Codec  *ids.Codec
	Logger *slog.Logger
	Auth   *Authenticator
	Gate   *Gate
	// Sessions signs dashboard users in; nil disables /auth.
	Sessions *session.Service
	// RequestTimeout bounds each request (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration
}

// api holds the dependencies the handlers share.
type api struct {
	client   *ent.Client
	codec    *ids.Codec
	log      *slog.Logger
	auth     *Authenticator
	gate     *Gate
	sessions *session.Service
	// requestTimeout is every request's deadline.
	requestTimeout time.Duration
}

// New returns the /v1 handler, to be mounted at /v1.
func New(d Deps) http.Handler {
	return newRouter(d, nil)
}

// newRouter builds the routes; extra lets tests add routes (a panicking one)
// behind the same middleware.
func newRouter(d Deps, extra func(chi.Router)) http.Handler {
	a := &api{client: d.Client, codec: d.Codec, log: d.Logger, auth: d.Auth, gate: d.Gate, sessions: d.Sessions}
	r := chi.NewRouter()
	// HEAD is answered wherever GET is, without the body (RFC 9110 §9.3.2).
	r.Use(middleware.GetHead)
	// Every response carries X-RateLimit-* headers: the routes that need
	// no credentials, and unknown paths and methods, are counted against
	// the client IP's bucket (Gate.LimitIP); the rest by Gate.Middleware.
	// The body limit runs after either, so a 413 carries them too.
	r.NotFound(d.Gate.LimitIP(http.HandlerFunc(NotFound)).ServeHTTP)
	r.MethodNotAllowed(d.Gate.LimitIP(http.HandlerFunc(methodNotAllowed)).ServeHTTP)
	if d.RequestTimeout == 0 {
		d.RequestTimeout = DefaultRequestTimeout
	}
	a.requestTimeout = d.RequestTimeout
	r.Use(withDeadline(d.RequestTimeout))
	r.Group(func(r chi.Router) {
		r.Use(d.Gate.LimitIP, limitBody)
		r.Method(http.MethodGet, "/openapi.json", openapi.Handler())
		if a.sessions != nil {
			r.With(noQuery).Post("/auth/login", a.login)
			r.With(noQuery).Post("/auth/refresh", a.refresh)
		}
	})

	r.Group(func(r chi.Router) {
		r.Use(d.Gate.Middleware, limitBody)
		if a.sessions != nil {
			r.With(noQuery, a.idempotent).Post("/auth/logout", a.logout)
		}
		leads := a.scopes(scope.Leads)
		r.With(leads.read).Get("/leads", a.listLeads)
		r.With(noQuery, leads.write).Post("/leads", a.createLead)
		r.With(noQuery, leads.read).Get("/leads/{id}", a.getLead)
		r.With(leads.write).Patch("/leads/{id}", a.updateLead)
		r.With(noQuery, leads.delete).Delete("/leads/{id}", a.archiveLead)
		r.With(noQuery, leads.delete).Post("/leads/{id}/restore", a.restoreLead)
		a.accountRoutes(r)
		a.lifecycleRoutes(r)
		if extra != nil {
			extra(r)
		}
	})
	return r
}

// routeScopes are the three scope checks of a resource, each followed by
// idempotency: a replay answers only a caller that may make the request.
type routeScopes struct {
	read, write, delete func(http.Handler) http.Handler
}

func (a *api) scopes(res scope.Resource) routeScopes {
	guard := func(action scope.Action) func(http.Handler) http.Handler {
		check := requireScope(scope.Scope{Resource: res, Action: action})
		return func(next http.Handler) http.Handler { return check(a.idempotent(next)) }
	}
	return routeScopes{read: guard(scope.Read), write: guard(scope.Write), delete: guard(scope.Delete)}
}

// pathID decodes the {id} in the path as an ID of table. A malformed ID, an
// ID of another type and another tenant's ID all end as the same 404.
func (a *api) pathID(r *http.Request, table string) (int, error) {
	id, err := a.codec.DecodeAs(chi.URLParam(r, "id"), table)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "Resource not found")
	}
	return id, nil
}
