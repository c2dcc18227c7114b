package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/text"
)

// DefaultRequestTimeout bounds a request's work when Deps sets none.
const DefaultRequestTimeout = 10 * time.Second

// Deps are what the GraphQL endpoint needs.
type Deps struct {
	Client *ent.Client
	Codec  *ids.Codec
	Logger *slog.Logger
	// Authenticate admits a request and puts its viewer in the context, or
	// answers it (401, 429): the REST Gate's middleware, so API keys, JWTs
	// and rate limits work as on /v1.
	Authenticate func(http.Handler) http.Handler
	// ForgetKey drops an API key from the authenticator's cache; it is
	// called after a revokeAPIKey or rollAPIKey commits.
	ForgetKey func(id int)
	// Introspection enables introspection and field suggestions ("did you
	// mean…"); both describe the schema to anyone holding a credential.
	Introspection bool
	// RequestTimeout bounds each request (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration
}

// NewHandler returns the POST /graphql endpoint. Only POST with a JSON body
// of at most MaxBodyBytes is accepted: no GET (queries in URLs end up in
// logs, and GET would invite cross-site reads), no multipart, no websocket.
// Queries are bounded in tokens, depth, aliases, page sizes and cost before
// they run; mutations run in one transaction; errors show REST's codes and
// never internal text.
func NewHandler(d Deps) http.Handler { return newHandler(d, jsonPOST{}) }

// newHandler is NewHandler over the transport tr (tests compare jsonPOST
// with gqlgen's own).
func newHandler(d Deps, tr graphql.Transport) http.Handler {
	if d.RequestTimeout == 0 {
		d.RequestTimeout = DefaultRequestTimeout
	}
	es := NewExecutableSchema(Config{Resolvers: NewResolver(d.Client, d.ForgetKey)})
	srv := handler.New(newCosted(es))
	srv.AddTransport(tr)
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(MaxTokens)
	srv.SetDisableSuggestion(!d.Introspection)
	srv.SetErrorPresenter(presentError(d.Logger))
	srv.SetRecoverFunc(recoverPanic(d.Logger))
	for _, ext := range extensions(d) {
		srv.Use(ext)
	}

	var h http.Handler = srv
	h = withCodec(d.Codec, h)
	h = readBody(h)
	h = withTimeout(d.RequestTimeout, h)
	h = d.Authenticate(h)
	return precheck(h)
}

// extensions are the endpoint's gqlgen extensions. None may intercept
// fields: the plain fields that graph/generate.go marshals directly would
// skip it (TestNoExtensionInterceptsFields).
func extensions(d Deps) []graphql.HandlerExtension {
	var exts []graphql.HandlerExtension
	if d.Introspection {
		exts = append(exts, extension.Introspection{})
	}
	return append(exts, &limits{introspection: d.Introspection}, newTransactioner(d.Client, d.Logger))
}

// precheck refuses what the endpoint never serves before authenticating:
// other methods, other content types, and bodies announced as too large.
func precheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, apperr.MethodNotAllowed, "Send GraphQL requests with POST")
			return
		}
		if r.Header.Get("Upgrade") != "" {
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "Connection upgrades (websockets) are not served here")
			return
		}
		if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" || !text.UTF8Charset(params["charset"]) {
			writeError(w, http.StatusUnsupportedMediaType, apperr.UnsupportedMediaType, "Send the request as application/json in UTF-8")
			return
		}
		if r.ContentLength > MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, apperr.PayloadTooLarge, "Request body is larger than 1 MiB")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads the body whole, refusing one over MaxBodyBytes with 413
// (gqlgen would answer 200 with the reader's error).
func readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			writeError(w, http.StatusRequestEntityTooLarge, apperr.PayloadTooLarge, "Request body is larger than 1 MiB")
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "The request body could not be read")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withCodec gives the ID scalar (gqlid) the deployment's codec.
func withCodec(c *ids.Codec, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(ids.NewContext(r.Context(), c)))
	})
}

// writeError answers in GraphQL's error shape, for requests refused before
// they reach gqlgen.
func writeError(w http.ResponseWriter, status int, code apperr.Code, message string) {
	writeErrorOf(w, status, with(&gqlerror.Error{}, string(code), message))
}

// writeErrorOf writes a response of the one error out, with status.
func writeErrorOf(w http.ResponseWriter, status int, out *gqlerror.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []*gqlerror.Error{out}})
}

// Refuse writes the Gate's refusals on /graphql (missing or bad
// credentials, a rate limit, a bad X-Leadron-Environment) as the endpoint's
// own errors are written: REST's codes and statuses, in GraphQL's shape
// (rest.Gate.MiddlewareWith).
func Refuse(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errmap.Classify(err)
	if !ok {
		slog.ErrorContext(r.Context(), "graphql request refused", "request_id", requestID(r.Context()), "err", err)
		e = apperr.New(apperr.Internal, "Internal server error")
	}
	writeErrorOf(w, apperr.HTTPStatus(e.Code), fromApp(&gqlerror.Error{}, e))
}
