// Package apitest runs Leadron's HTTP API in tests: the real server over a
// real database behind httptest, plus scenario tables in the PocketBase
// style (request, expected status, content that must and must not appear,
// side effects).
package apitest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/jwtauth"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/session"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
	"github.com/leadron/leadron/rest/openapi"
)

// TestJWTSecret signs the test servers' access tokens, so tests can forge
// tokens to attack them.
const TestJWTSecret = "test-secret-of-at-least-32-bytes-for-hs256"

// Env is a running server over one test database.
type Env struct {
	DB     *store.DB
	Codec  *ids.Codec
	URL    string
	Server *server.Server
}

// New starts the server over db; it stops when the test ends. configure, if
// given, adjusts the server's dependencies (a shared rate limiter, say).
func New(t testing.TB, db *store.DB, configure ...func(*server.Deps)) *Env {
	t.Helper()
	codec, err := store.LoadCodec(context.Background(), db.Client)
	if err != nil {
		t.Fatalf("loading the ID codec: %v", err)
	}
	issuer, err := jwtauth.New(jwtauth.Config{Secret: []byte(TestJWTSecret), Issuer: session.Issuer, Audience: session.Audience, IDs: codec})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.New(db.Client, issuer)
	if err != nil {
		t.Fatal(err)
	}
	deps := server.Deps{DB: db, Codec: codec, Logger: testutil.Logger(t), Sessions: sessions}
	for _, c := range configure {
		c(&deps)
	}
	srv := server.New(deps)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &Env{DB: db, Codec: codec, URL: ts.URL, Server: srv}
}

// Key creates an API key for the user in the tenant and environment, and
// returns its plaintext.
func (e *Env) Key(t testing.TB, tn testutil.Tenant, userID int, env viewer.Environment, scopes ...string) string {
	t.Helper()
	ctx := tn.System(env)
	_, plain, err := account.CreateAPIKey(ctx, e.DB.Client, account.KeyInput{Name: "test", OwnerID: userID, Scopes: scopes})
	if err != nil {
		t.Fatalf("creating key: %v", err)
	}
	return plain
}

// User adds a user with the role to the tenant.
func (e *Env) User(t testing.TB, tn testutil.Tenant, email, role string) *ent.User {
	t.Helper()
	u, err := account.CreateUser(tn.System(viewer.Live), e.DB.Client, account.UserInput{
		Email: email, Password: testutil.Password, Role: role, FirstName: "Test", LastName: role,
	})
	if err != nil {
		t.Fatalf("creating user %s: %v", email, err)
	}
	return u
}

// Request is one HTTP call.
type Request struct {
	Method, Path string
	Key          string // sent as X-API-Key when set
	Headers      map[string]string
	Body         string // sent as application/json when set
	// OffContract marks a request deliberately outside the documented API
	// (an unknown route or method), whose response the OpenAPI document
	// cannot describe. Every other response is checked against it.
	OffContract bool
}

// Response is what came back.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Data returns the envelope's data as an object.
func (r Response) Data(t testing.TB) map[string]any {
	t.Helper()
	d, ok := r.JSON(t)["data"].(map[string]any)
	if !ok {
		t.Fatalf("data is not an object: %s", r.Body)
	}
	return d
}

// Do sends the request.
func (e *Env) Do(t testing.TB, req Request) Response {
	t.Helper()
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	hr, err := http.NewRequest(req.Method, e.URL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Key != "" {
		hr.Header.Set("X-API-Key", req.Key)
	}
	for k, v := range req.Headers {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
	if !req.OffContract {
		v, err := contract()
		if err != nil {
			t.Fatalf("loading the OpenAPI document: %v", err)
		}
		if err := v.ValidateResponse(hr, out.Status, out.Header, b); err != nil {
			t.Errorf("%s %s → %d does not match the OpenAPI document: %v\n%s", req.Method, req.Path, out.Status, err, out.Body)
		}
	}
	return out
}

// contract is the OpenAPI document every response is checked against, so
// the document cannot drift from the server.
var contract = sync.OnceValues(openapi.NewValidator)

// Scenario is one row of an API test table.
type Scenario struct {
	Name string
	Request
	Status int
	// Contains must all appear in the body; NotContains must not.
	Contains, NotContains []string
	// Check runs extra assertions on the response, such as side effects.
	Check func(t *testing.T, res Response)
}

// Run plays the scenarios in order, each as a subtest.
func (e *Env) Run(t *testing.T, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			res := e.Do(t, sc.Request)
			if res.Status != sc.Status {
				t.Errorf("status %d, want %d\n%s", res.Status, sc.Status, res.Body)
			}
			if res.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id header")
			}
			for _, s := range sc.Contains {
				if !strings.Contains(res.Body, s) {
					t.Errorf("body lacks %q\n%s", s, res.Body)
				}
			}
			for _, s := range sc.NotContains {
				if strings.Contains(res.Body, s) {
					t.Errorf("body must not contain %q\n%s", s, res.Body)
				}
			}
			if sc.Check != nil {
				sc.Check(t, res)
			}
		})
	}
}
