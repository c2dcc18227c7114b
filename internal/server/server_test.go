package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

// /graphql sits behind the same Gate as /v1, and /playground is served only
// when configured, without credentials.
func TestGraphQLRoutes(t *testing.T) {
	for _, playground := range []bool{false, true} {
		db := testutil.NewDB(t, "sqlite3")
		env := apitest.New(t, db, func(d *server.Deps) { d.Playground = playground })
		tn := testutil.NewTenant(t, db, "acme")
		key := env.Key(t, tn, tn.OwnerID, viewer.Live, "full_access")
		query := `{"query":"{ viewer { environment } }"}`
		for _, tc := range []struct {
			name   string
			req    apitest.Request
			status int
			want   string
		}{
			{"graphql without credentials", apitest.Request{Method: "POST", Path: "/graphql", Body: query, OffContract: true}, http.StatusUnauthorized, `"code":"invalid_api_key"`},
			{"graphql with a key", apitest.Request{Method: "POST", Path: "/graphql", Key: key, Body: query, OffContract: true}, http.StatusOK, `"environment":"live"`},
			{"graphql by GET", apitest.Request{Method: "GET", Path: "/graphql?query=%7Bviewer%7Benvironment%7D%7D", Key: key, OffContract: true}, http.StatusMethodNotAllowed, `"code":"method_not_allowed"`},
			{"playground", apitest.Request{Method: "GET", Path: "/playground", OffContract: true}, map[bool]int{false: 404, true: 200}[playground], map[bool]string{false: "not_found", true: "GraphiQL"}[playground]},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := env.Do(t, tc.req)
				if res.Status != tc.status || !strings.Contains(res.Body, tc.want) {
					t.Errorf("playground=%v: %d %.300s, want %d with %s", playground, res.Status, res.Body, tc.status, tc.want)
				}
				if strings.HasPrefix(tc.req.Path, "/graphql") && tc.req.Method == "POST" && res.Header.Get("X-RateLimit-Limit") == "" {
					t.Error("the Gate's rate-limit headers are missing")
				}
				if res.Header.Get("X-Request-Id") == "" {
					t.Error("no X-Request-Id")
				}
			})
		}
	}
}
