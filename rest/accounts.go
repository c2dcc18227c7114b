package rest

import (
	"github.com/go-chi/chi/v5"

	"github.com/leadron/leadron/internal/scope"
)

// accountRoutes registers the routes that manage access to a tenant: its API
// keys, its users and its audit log.
func (a *api) accountRoutes(r chi.Router) {
	keys := a.scopes(scope.APIKeys)
	r.With(keys.read).Get("/api-keys", a.listAPIKeys)
	r.With(noQuery, keys.write).Post("/api-keys", a.createAPIKey)
	r.With(noQuery, keys.delete).Delete("/api-keys/{id}", a.revokeAPIKey)
	r.With(noQuery, keys.write).Post("/api-keys/{id}/roll", a.rollAPIKey)
	users := a.scopes(scope.Users)
	// Any caller may ask who it is, so /users/me needs no scope.
	r.With(noQuery).Get("/users/me", a.currentUser)
	r.With(users.read).Get("/users", a.listUsers)
	r.With(noQuery, users.read).Get("/users/{id}", a.getUser)
	// The log is append-only: there is no route to change or delete events.
	r.With(a.scopes(scope.Audit).read).Get("/audit-events", a.listAuditEvents)
}
