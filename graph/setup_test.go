package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

const live, sandbox = viewer.Live, viewer.Sandbox

// world is two tenants, keys of several kinds, and a lead in each place,
// behind the real server.
type world struct {
	*apitest.Env
	db           *store.DB
	acme, globex testutil.Tenant
	member       *ent.User
	keys         struct{ full, sandbox, readOnly, writer, globex string }
	// Lead IDs: acme live, acme sandbox, globex live.
	mine, mineSandbox, theirs string
}

func newWorld(t testing.TB, db *store.DB, configure ...func(*server.Deps)) *world {
	t.Helper()
	w := &world{Env: apitest.New(t, db, configure...), db: db}
	w.acme = testutil.NewTenantOnPlan(t, db, "acme", "team")
	w.globex = testutil.NewTenantOnPlan(t, db, "globex", "team")
	w.member = w.User(t, w.acme, "member@acme.test", "member")
	w.keys.full = w.Key(t, w.acme, w.acme.OwnerID, live, "full_access")
	w.keys.sandbox = w.Key(t, w.acme, w.acme.OwnerID, sandbox, "full_access")
	w.keys.readOnly = w.Key(t, w.acme, w.acme.OwnerID, live, "read_only")
	w.keys.writer = w.Key(t, w.acme, w.acme.OwnerID, live, "leads:read", "leads:write")
	w.keys.globex = w.Key(t, w.globex, w.globex.OwnerID, live, "full_access")
	w.mine = w.Codec.Encode(w.acme.NewLead(t, db.Client, live, "mine@acme.test").ID)
	w.mineSandbox = w.Codec.Encode(w.acme.NewLead(t, db.Client, sandbox, "sandbox@acme.test").ID)
	w.theirs = w.Codec.Encode(w.globex.NewLead(t, db.Client, live, "theirs@globex.test").ID)
	return w
}

// gqlError is one entry of a GraphQL response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string  { s, _ := e.Extensions["code"].(string); return s }
func (e gqlError) field() string { s, _ := e.Extensions["field"].(string); return s }

// gqlResponse is a GraphQL response over HTTP.
type gqlResponse struct {
	Status int
	Header http.Header
	Body   string
	Data   map[string]any
	Errors []gqlError
}

// codes lists the errors' extensions.code.
func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.code())
	}
	return out
}

// post sends a GraphQL request with the headers (an X-API-Key or an
// Authorization bearer).
func (w *world) post(t testing.TB, headers map[string]string, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return w.raw(t, http.MethodPost, "application/json", headers, body)
}

// as sends a GraphQL request with an API key.
func (w *world) as(t testing.TB, key, query string, vars map[string]any) gqlResponse {
	t.Helper()
	return w.post(t, map[string]string{"X-API-Key": key}, query, vars)
}

func (w *world) raw(t testing.TB, method, contentType string, headers map[string]string, body []byte) gqlResponse {
	t.Helper()
	req, err := http.NewRequest(method, w.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := gqlResponse{Status: res.StatusCode, Header: res.Header, Body: string(b)}
	var parsed struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/") {
		if err := json.Unmarshal(b, &parsed); err != nil {
			t.Fatalf("%s /graphql: the body is not JSON: %v\n%s", method, err, b)
		}
	}
	out.Data, out.Errors = parsed.Data, parsed.Errors
	return out
}

// login signs a user in through REST and returns the access token.
func (w *world) login(t testing.TB, email string) string {
	t.Helper()
	res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/auth/login",
		Body: `{"email":"` + email + `","password":"` + testutil.Password + `"}`})
	if res.Status != http.StatusOK {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	tok, _ := res.Data(t)["accessToken"].(string)
	if tok == "" {
		t.Fatalf("login: no access token in %s", res.Body)
	}
	return tok
}

// dig walks a decoded JSON value along keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }
