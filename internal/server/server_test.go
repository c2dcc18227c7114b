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

// /metrics answers without credentials, with the Go runtime's metrics, the
// failed-job gauge, the database connections (SQLite: one), and requests
// counted by route pattern, never raw path.
func TestMetrics(t *testing.T) {
	db := testutil.NewDB(t, "sqlite3")
	env := apitest.New(t, db)
	tn := testutil.NewTenant(t, db, "acme")
	key := env.Key(t, tn, tn.OwnerID, viewer.Live, "full_access")
	lead := tn.NewLead(t, db.Client, viewer.Live, "jane@acme.test")
	id := env.Codec.Encode(lead.ID)
	if res := env.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads/" + id, Key: key}); res.Status != http.StatusOK {
		t.Fatalf("GET /v1/leads/%s: %d %.300s", id, res.Status, res.Body)
	}
	env.Do(t, apitest.Request{Method: "GET", Path: "/no/such/route", OffContract: true})

	res := env.Do(t, apitest.Request{Method: "GET", Path: "/metrics", OffContract: true})
	if res.Status != http.StatusOK {
		t.Fatalf("/metrics: %d %.300s", res.Status, res.Body)
	}
	for _, tc := range []struct {
		name    string
		want    string
		present bool
	}{
		{"request counter", "leadron_http_requests_total", true},
		{"lead by route pattern", `leadron_http_requests_total{method="GET",route="/v1/leads/{id}",status="200"} 1`, true},
		{"latency by route pattern", `leadron_http_request_duration_seconds_count{method="GET",route="/v1/leads/{id}"} 1`, true},
		{"unmatched route", `route="unmatched",status="404"`, true},
		{"no raw lead ID", id, false},
		{"no raw unmatched path", "/no/such/route", false},
		{"Go collector", "go_goroutines", true},
		{"failed jobs", "leadron_jobs_failed 0", true},
		{"open database connections", "leadron_db_open_connections 1\n", true},
		{"database connection limit", "leadron_db_max_open_connections 1\n", true},
		{"database/sql statistics", `go_sql_open_connections{db_name="leadron"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Contains(res.Body, tc.want); got != tc.present {
				t.Errorf("contains %q: %v, want %v\n%s", tc.want, got, tc.present, res.Body)
			}
		})
	}
}
