package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/leadron/leadron/internal/metrics"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// router is a chi router with the middleware and a mounted sub-router (as
// the server has /v1), which serves /metrics too.
func router(m *metrics.Metrics) http.Handler {
	// Routers nested three and four deep: the middleware holds up to three
	// pattern parts apart and a deeper route joined.
	deeper := chi.NewRouter()
	deeper.Get("/{n}", func(http.ResponseWriter, *http.Request) {})
	deep := chi.NewRouter()
	deep.Get("/{n}", func(http.ResponseWriter, *http.Request) {})
	deep.Mount("/deeper", deeper)
	sub := chi.NewRouter()
	sub.Get("/leads/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	sub.Mount("/deep", deep)
	r := chi.NewRouter()
	r.Use(m.Middleware)
	r.Get("/healthz", func(http.ResponseWriter, *http.Request) {})
	r.Mount("/v1", sub)
	r.Get("/metrics", m.Handler().ServeHTTP)
	return r
}

// scrape serves the requests through router(m), then returns /metrics.
func scrape(t *testing.T, m *metrics.Metrics, paths ...string) string {
	t.Helper()
	r := router(m)
	for _, p := range paths {
		method, path, _ := strings.Cut(p, " ")
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMiddlewareLabelsByRoutePattern(t *testing.T) {
	m := metrics.New(slog.New(slog.DiscardHandler), func(context.Context) (int, error) { return 0, nil })
	body := scrape(t, m, "GET /v1/leads/abc123", "GET /v1/leads/xyz789", "GET /healthz", "GET /nope/42", "BREW /healthz",
		"GET /v1/deep/7", "GET /v1/deep/deeper/7", "GET /v1/deep/deeper/8")
	for _, tc := range []struct {
		want    string
		present bool
	}{
		{`leadron_http_requests_total{method="GET",route="/v1/leads/{id}",status="418"} 2`, true},
		{`leadron_http_request_duration_seconds_count{method="GET",route="/v1/leads/{id}"} 2`, true},
		{`leadron_http_requests_total{method="GET",route="/healthz",status="200"} 1`, true},
		{`leadron_http_requests_total{method="GET",route="unmatched",status="404"} 1`, true},
		{`leadron_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`, true},
		{`leadron_http_requests_total{method="GET",route="/v1/deep/{n}",status="200"} 1`, true},
		{`leadron_http_requests_total{method="GET",route="/v1/deep/deeper/{n}",status="200"} 2`, true},
		{"abc123", false},
		{"/nope", false},
		{"BREW", false},
		{"go_goroutines", true},
		{"process_", true},
	} {
		if got := strings.Contains(body, tc.want); got != tc.present {
			t.Errorf("contains %q: %v, want %v\n%s", tc.want, got, tc.present, body)
		}
	}
}

// TestMiddlewareCountsConcurrentRequests checks the cache of each label
// set's instruments: requests that arrive together, for series new and
// already made, are all counted (and the race detector sees the cache).
func TestMiddlewareCountsConcurrentRequests(t *testing.T) {
	m := metrics.New(slog.New(slog.DiscardHandler), func(context.Context) (int, error) { return 0, nil })
	r := router(m)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				path := "/healthz"
				if (g+i)%2 == 0 {
					path = "/v1/leads/" + strconv.Itoa(i)
				}
				r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
			}
		})
	}
	wg.Wait()
	body := scrape(t, m)
	for _, want := range []string{
		`leadron_http_requests_total{method="GET",route="/v1/leads/{id}",status="418"} 200`,
		`leadron_http_requests_total{method="GET",route="/healthz",status="200"} 200`,
		`leadron_http_request_duration_seconds_count{method="GET",route="/healthz"} 200`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}

func TestFailedJobsGauge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		count func(context.Context) (int, error)
		want  string
	}{
		{"count", func(context.Context) (int, error) { return 3, nil }, "leadron_jobs_failed 3"},
		{"error reports 0", func(context.Context) (int, error) { return 7, errors.New("database down") }, "leadron_jobs_failed 0"},
		{"bounded read", func(ctx context.Context) (int, error) {
			if _, ok := ctx.Deadline(); !ok {
				return 0, errors.New("no deadline")
			}
			return 1, nil
		}, "leadron_jobs_failed 1"},
		{"slow read times out", func(ctx context.Context) (int, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Minute):
				return 5, nil
			}
		}, "leadron_jobs_failed 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "slow read times out" && testing.Short() {
				t.Skip("waits for FailedJobsTimeout")
			}
			var logged strings.Builder
			m := metrics.New(slog.New(slog.NewTextHandler(&logged, nil)), tc.count)
			body := scrape(t, m)
			if !strings.Contains(body, tc.want) {
				t.Errorf("want %q in\n%s", tc.want, body)
			}
			if strings.HasSuffix(tc.want, " 0") && !strings.Contains(logged.String(), "counting failed jobs") {
				t.Errorf("the error was not logged: %q", logged.String())
			}
		})
	}
}

// The connection gauges count what is open to the database server: the pgx
// pool on PostgreSQL (database/sql keeps no idle connections there), the
// database/sql pool on SQLite.
func TestDBConnectionGauges(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		open, most := db.SQL.Stats().OpenConnections, db.SQL.Stats().MaxOpenConnections
		if db.Pool != nil {
			s := db.Pool.Stat()
			open, most = int(s.TotalConns()), int(s.MaxConns())
		}
		if open < 1 || most < 1 {
			t.Fatalf("open %d, max %d: want at least 1 each", open, most)
		}
		m := metrics.New(slog.New(slog.DiscardHandler), func(context.Context) (int, error) { return 0, nil }, metrics.WithDB(db.SQL, db.Pool))
		body := scrape(t, m)
		for _, want := range []string{
			fmt.Sprintf("leadron_db_open_connections %d\n", open),
			fmt.Sprintf("leadron_db_max_open_connections %d\n", most),
			`go_sql_open_connections{db_name="leadron"}`,
			`go_sql_wait_count_total{db_name="leadron"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q in\n%s", want, body)
			}
		}
	})
}

// BenchmarkMiddleware is a request's cost in the metrics middleware, for a
// route two routers deep like every /v1 route (and the handler's, which
// writes a status).
func BenchmarkMiddleware(b *testing.B) {
	m := metrics.New(slog.New(slog.DiscardHandler), func(context.Context) (int, error) { return 0, nil })
	r := router(m)
	req := httptest.NewRequest("GET", "/v1/leads/abc123", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		r.ServeHTTP(w, req)
	}
}
