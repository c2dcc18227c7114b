package rest

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/leadron/leadron/internal/apperr"
)

type requestIDKey struct{}

// saneRequestID is what a client-supplied X-Request-Id must look like to be
// kept; anything else is replaced, so logs cannot be forged or flooded.
var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:\-]{8,128}$`)

// RequestID tags every request with an ID, the client's when it is sane,
// and echoes it in X-Request-Id.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID.MatchString(id) {
			id = "req_" + rand.Text()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestIDFrom returns the request's ID.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// statusRecorder remembers the status for the access log and for knowing
// whether a panic happened before the response started.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Observe logs each request once, structured, and turns a panic into a 500
// in the envelope. Logs carry no headers or bodies, so no secrets.
func Observe(log *slog.Logger) func(http.Handler) http.Handler {
	handler := log.Handler()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "panic", "request_id", RequestIDFrom(r.Context()),
						"method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
					if rec.status == 0 {
						fail(rec, r, apperr.New(apperr.Internal, "Internal server error"))
					}
				}
				logRequest(r.Context(), handler, r, rec.status, start)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// logRequest writes the access log's line. It hands the record to the
// handler itself, as slog's docs show for wrappers: the Logger's methods
// look up their caller's program counter on every call (a stack walk, a
// fifth of the line's cost), which only a handler with AddSource reads,
// and serve's has none (one that sets it would get no source for these
// lines). Typed attributes spare boxing each value.
func logRequest(ctx context.Context, h slog.Handler, r *http.Request, status int, start time.Time) {
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	now := time.Now()
	rec := slog.NewRecord(now, slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("request_id", RequestIDFrom(ctx)), slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Int("status", status), slog.Int64("duration_ms", now.Sub(start).Milliseconds()))
	_ = h.Handle(ctx, rec)
}

// MaxBodyBytes is the largest request body accepted (1 MiB).
const MaxBodyBytes = 1 << 20

// limitBody refuses bodies over MaxBodyBytes: at once when Content-Length
// says so, and while reading otherwise.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			fail(w, r, tooLarge())
			return
		}
		// Most requests are GETs without a body; there is nothing to bound.
		if r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge() *apperr.Error {
	return apperr.New(apperr.PayloadTooLarge, "Request body is larger than 1 MiB")
}

func isTooLarge(err error) bool {
	if err == nil {
		return false
	}
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// NotFound answers unknown routes in the envelope.
func NotFound(w http.ResponseWriter, r *http.Request) {
	fail(w, r, apperr.New(apperr.NotFound, "No route matches "+r.Method+" "+r.URL.Path))
}

// methodNotAllowed answers 405 in the envelope, with the Allow header chi
// leaves out for custom handlers.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.Routes != nil {
		// Routes is the root router, so match the full path.
		path := r.URL.Path
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
			if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
	}
	fail(w, r, apperr.New(apperr.MethodNotAllowed, "Method "+r.Method+" is not allowed on "+r.URL.Path))
}

// settleTimeout bounds work that outlives its request, such as storing an
// idempotent response.
const settleTimeout = 5 * time.Second

// contextWithoutCancel keeps the request's values (the viewer) for work
// that must finish even if the client has gone, within settleTimeout.
func contextWithoutCancel(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), settleTimeout)
}

// DefaultRequestTimeout bounds a request's work, database included.
const DefaultRequestTimeout = 10 * time.Second

// withDeadline gives every request a deadline, so a database that stops
// answering turns into a prompt 503 rather than a hung request.
func withDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
