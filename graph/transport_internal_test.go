package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

// systemHandler is the endpoint over tr, admitting every request as the
// tenant's system viewer in live; what it logs goes to logged.
func systemHandler(t *testing.T, db *store.DB, tn testutil.Tenant, tr graphql.Transport, logged io.Writer) http.Handler {
	t.Helper()
	codec, err := store.LoadCodec(context.Background(), db.Client)
	if err != nil {
		t.Fatal(err)
	}
	return newHandler(Deps{
		Client: db.Client, Codec: codec, Logger: slog.New(slog.NewTextHandler(logged, nil)),
		Authenticate: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), viewer.System(tn.ID, viewer.Live))))
			})
		},
	}, tr)
}

// Our transport answers every request with the status, content type and
// bytes of gqlgen's own POST transport: data with and without characters
// that encoding/json escapes for HTML, errors beside data, and requests
// refused before they run.
func TestTransportMatchesGqlgen(t *testing.T) {
	db := testutil.NewDB(t, "sqlite3")
	tn := testutil.NewTenant(t, db, "acme")
	tn.NewLead(t, db.Client, viewer.Live, "plain@acme.test")
	ctx := tn.System(viewer.Live)
	if err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
		if err := c.Lead.Create().SetEmail("html@acme.test").SetFirstName("<b>Tom & Jerry</b>").
			SetLastName("Line\u2028Separator").Exec(ctx); err != nil {
			return err
		}
		return c.Lead.Create().SetEmail("custom@acme.test").SetFirstName("C").SetLastName("F").
			SetCustomFields(customfields.MustFromMap(map[string]any{"company": "Acme <Corp>", "seats": 25, "vip": true})).Exec(ctx)
	}); err != nil {
		t.Fatal(err)
	}
	ours := systemHandler(t, db, tn, jsonPOST{}, io.Discard)
	gqlgens := systemHandler(t, db, tn, transport.POST{}, io.Discard)

	tests := []struct {
		name, accept, body string
		wantStatus         int
		cancelled          bool // the client is gone before the query runs
	}{
		{"plain data", "", `{"query":"{ leads(first: 1, where: {email: \"plain@acme.test\"}) { edges { node { id email firstName createdAt } } pageInfo { hasNextPage endCursor } } }"}`, 200, false},
		{"data escaped for HTML", "", `{"query":"{ leads(first: 5) { edges { node { email firstName lastName } } } }"}`, 200, false},
		{"errors beside data", "", `{"query":"{ node(id: \"nope\") { id } leads(first: 1) { totalCount } }"}`, 200, false},
		{"variables and operation name", "application/json", `{"query":"query Q($n: Int) { leads(first: $n) { totalCount } }","operationName":"Q","variables":{"n":1}}`, 200, false},
		{"a mutation refused by validation", "", `{"query":"mutation { createLead(input: {email: \"not an email\", firstName: \"A\", lastName: \"B\"}) { id } }"}`, 200, false},
		{"a query that does not parse", "", `{"query":"{ leads(first: 1) { "}`, 422, false},
		{"a query that does not validate", "", `{"query":"{ leads(first: 1) { nope } }"}`, 422, false},
		{"the same, asking for graphql-response+json", "application/graphql-response+json", `{"query":"{ leads(first: 1) { nope } }"}`, 400, false},
		{"an Accept we do not know", "text/html", `{"query":"{ leads(first: 1) { totalCount } }"}`, 200, false},
		{"no query", "", `{}`, 422, false},
		{"custom fields", "", `{"query":"{ leads(first: 1, where: {email: \"custom@acme.test\"}) { edges { node { customFields } } } }"}`, 200, false},
		{"a client gone before the query runs", "", `{"query":"{ leads(first: 1) { totalCount } }"}`, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serve := func(h http.Handler) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tt.body))
				if tt.cancelled {
					ctx, cancel := context.WithCancel(req.Context())
					cancel()
					req = req.WithContext(ctx)
				}
				req.Header.Set("Content-Type", "application/json")
				if tt.accept != "" {
					req.Header.Set("Accept", tt.accept)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			got, want := serve(ours), serve(gqlgens)
			if got.Code != tt.wantStatus || got.Code != want.Code {
				t.Errorf("status %d, gqlgen's %d, want %d", got.Code, want.Code, tt.wantStatus)
			}
			if g, w := got.Header().Get("Content-Type"), want.Header().Get("Content-Type"); g != w {
				t.Errorf("Content-Type %q, gqlgen's %q", g, w)
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Errorf("body differs from gqlgen's:\n got %s\nwant %s", got.Body, want.Body)
			}
		})
	}
}

// A body that is not JSON is refused with 400 and invalid_json, in
// GraphQL's error shape, and the body is not echoed back.
func TestTransportRefusesABodyThatIsNotJSON(t *testing.T) {
	db := testutil.NewDB(t, "sqlite3")
	h := systemHandler(t, db, testutil.NewTenant(t, db, "acme"), jsonPOST{}, io.Discard)
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": SECRET-ISH`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusBadRequest || !strings.Contains(body, `"code":"invalid_json"`) || strings.Contains(body, "SECRET-ISH") {
		t.Errorf("%d %s", rec.Code, body)
	}
}

// writeResponse writes json.Marshal's bytes, and writes the data as it is
// for the responses gqlgen's executor makes (which carry an empty, not a
// nil, extensions map).
func TestWriteResponseMatchesJSONMarshal(t *testing.T) {
	exec := executor.New(NewExecutableSchema(Config{Resolvers: NewResolver(nil, nil)}))
	ctx := graphql.StartOperationTrace(context.Background())
	oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: `{ __typename }`})
	if errs != nil {
		t.Fatal(errs)
	}
	handle, ctx := exec.DispatchOperation(ctx, oc)
	executed := handle(ctx)

	yes := true
	tests := []struct {
		name string
		resp *graphql.Response
		asIs bool
	}{
		{"as the executor makes it", executed, true},
		{"none, once the context has ended", nil, true},
		{"data", &graphql.Response{Data: []byte(`{"a":[1,"x"]}`)}, true},
		{"errors and data", &graphql.Response{Errors: gqlerror.List{{Message: "no", Path: ast.Path{ast.PathName("a")}}}, Data: []byte(`{"a":null}`)}, true},
		{"no data", &graphql.Response{Errors: gqlerror.List{{Message: "no"}}}, true},
		{"data escaped for HTML", &graphql.Response{Data: []byte(`{"a":"<b>&\u2028"}`)}, false},
		{"extensions", &graphql.Response{Data: []byte(`{}`), Extensions: map[string]any{"cost": 3}}, false},
		{"an incremental part", &graphql.Response{Data: []byte(`{}`), Label: "l", Path: ast.Path{ast.PathName("a")}, HasNext: &yes}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.resp == nil || writtenAsIs(tt.resp); got != tt.asIs {
				t.Errorf("writtenAsIs = %v, want %v", got, tt.asIs)
			}
			want, err := json.Marshal(tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			writeResponse(rec, tt.resp)
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("wrote %s\n want %s", rec.Body, want)
			}
		})
	}
}
