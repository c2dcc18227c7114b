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

	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/store"
)

// Deps are what the server needs.
type Deps struct {
	DB     *store.DB
	Codec  *ids.Codec
	Logger *slog.Logger
}

// New returns the root handler.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", handleHealthz())
	r.Get("/readyz", handleReadyz(d.DB))
	return r
}

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
