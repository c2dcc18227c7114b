// Package server assembles Leadron's HTTP surface: the REST API under /v1,
// GraphQL, the playground, health checks and metrics, behind the shared
// middleware. It holds wiring only; each surface lives in its own package.
package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/leadron/leadron/graph"
	"github.com/leadron/leadron/graph/playground"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/metrics"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/session"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/rest"
)

// Deps are what the server needs.
type Deps struct {
	DB     *store.DB
	Codec  *ids.Codec
	Logger *slog.Logger
	// ClientIPHeader is the trusted proxy's client-IP header, if any.
	ClientIPHeader string
	// Limiter holds the rate-limit buckets: in memory when nil.
	Limiter ratelimit.Limiter
	// RateLimits are the per-IP limits: rest.DefaultRateLimits when zero.
	RateLimits rest.RateLimits
	// Sessions signs dashboard users in; nil serves API keys only.
	Sessions *session.Service
	// RequestTimeout bounds each request's work (rest.DefaultRequestTimeout
	// when zero).
	RequestTimeout time.Duration
	// GraphQLIntrospection enables GraphQL introspection and field
	// suggestions (config.GraphQLIntrospectionEnabled); off when false.
	GraphQLIntrospection bool
	// Playground serves GraphiQL at /playground (config.PlaygroundEnabled).
	Playground bool
}

// Server is the root handler and the background work it owns.
type Server struct {
	http.Handler
	auth *rest.Authenticator
}

// New returns the server.
func New(d Deps) *Server {
	auth := rest.NewAuthenticator(d.DB.Client, d.Codec, d.Logger, d.ClientIPHeader)
	if d.Sessions != nil {
		auth.UseSessions(d.Sessions)
	}
	if d.Limiter == nil {
		d.Limiter = ratelimit.NewMemory()
	}
	if d.RateLimits == (rest.RateLimits{}) {
		d.RateLimits = rest.DefaultRateLimits
	}
	gate := rest.NewGate(auth, d.Limiter, d.RateLimits, d.Logger)
	m := metrics.New(d.Logger, d.DB.Jobs.FailedCount, metrics.WithDB(d.DB.SQL, d.DB.Pool))
	r := chi.NewRouter()
	// The metrics middleware sits outside Observe, so it counts the 500 that
	// Observe writes for a panic.
	r.Use(rest.RequestID, m.Middleware, rest.Observe(d.Logger))
	r.NotFound(rest.NotFound)
	r.Get("/healthz", handleHealthz())
	r.Get("/readyz", handleReadyz(d.DB))
	// /metrics is unauthenticated, like the health checks, for Prometheus to
	// scrape. It tells of traffic and failed jobs: operators should not
	// expose it publicly (block it at the proxy or load balancer, or keep
	// the scrape on the internal network).
	r.Get("/metrics", m.Handler().ServeHTTP)
	r.Mount("/v1", rest.New(rest.Deps{Client: d.DB.Client, Codec: d.Codec, Logger: d.Logger, Auth: auth, Gate: gate, Sessions: d.Sessions, RequestTimeout: d.RequestTimeout}))
	// GraphQL sits behind the same Gate as /v1: API keys and JWTs, and the
	// same rate limits. The playground page itself holds no data.
	r.Handle("/graphql", graph.NewHandler(graph.Deps{
		Client: d.DB.Client, Codec: d.Codec, Logger: d.Logger,
		Authenticate: gate.MiddlewareWith(graph.Refuse), ForgetKey: auth.ForgetKey,
		Introspection: d.GraphQLIntrospection, RequestTimeout: d.RequestTimeout,
	}))
	if d.Playground {
		pg := playground.Handler()
		r.Handle(playground.Path, pg)
		r.Handle(playground.Path+"/*", pg)
	}
	return &Server{Handler: r, auth: auth}
}

// Close waits for background writes (API keys' last use) to finish.
func (s *Server) Close() { s.auth.Wait() }

// handleHealthz says the process is up; it touches nothing else.
func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	}
}

// handleReadyz says whether the database answers within a second.
func handleReadyz(db *store.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			writeStatus(w, http.StatusServiceUnavailable, "database unavailable")
			return
		}
		writeStatus(w, http.StatusOK, "ready")
	}
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}
