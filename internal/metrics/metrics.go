// Package metrics is Leadron's Prometheus instrumentation: a registry of its
// own (Go runtime and process collectors, HTTP request counts and latencies
// by chi route pattern, the number of failed background jobs, the database
// connections) and the handler that serves it at /metrics.
package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// FailedJobsTimeout bounds the read of the failed-job count at each scrape.
const FailedJobsTimeout = 2 * time.Second

// Unmatched is the route label of requests no route matched.
const Unmatched = "unmatched"

// Metrics holds the registry and the HTTP instruments.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// series caches each label set's instruments: WithLabelValues hashes
	// and checks the labels on every call, and every request makes two.
	// Its size is bounded like the series themselves (methods are bounded
	// by methodLabel, routes by the router).
	seriesMu sync.RWMutex
	series   map[seriesKey]httpSeries
}

// seriesKey is a label set as the request left it: the route as chi's
// pattern parts (one per router the request passed through), which
// label joins only when the series is made. chi's RoutePattern joins and
// rewrites them into a new string; chi makes one per request for
// Request.Pattern on the innermost router's request, which the root's
// middleware does not see, and this spares a second.
type seriesKey struct {
	method string
	route  routeParts
	status int
}

// routeParts holds up to three pattern parts; the rest are empty. A route
// nested deeper is held joined, in the first.
type routeParts [3]string

// httpSeries is one label set's request counter and latency histogram.
type httpSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// Option adds instruments to New's registry.
type Option func(*Metrics)

// New returns the metrics. failedJobs counts the discarded background jobs
// (jobs.Queue.FailedCount); it is called at each scrape, with a
// FailedJobsTimeout deadline, and an error reports 0 and is logged.
func New(log *slog.Logger, failedJobs func(context.Context) (int, error), opts ...Option) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		series: map[seriesKey]httpSeries{},
		reg:    prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadron_http_requests_total",
			Help: "HTTP requests served, by method, chi route pattern and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leadron_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method and chi route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests,
		m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "leadron_jobs_failed",
			Help: "Background jobs that failed for good (discarded by River; see `leadron jobs failed`).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), FailedJobsTimeout)
			defer cancel()
			n, err := failedJobs(ctx)
			if err != nil {
				log.Error("metrics: counting failed jobs", "error", err)
				return 0
			}
			return float64(n)
		}),
	)
	for _, o := range opts {
		o(m)
	}
	return m
}

// WithDB adds the database's connections, read at each scrape:
//
//   - leadron_db_open_connections and leadron_db_max_open_connections: the
//     connections open to the database server and the most there may be.
//     On PostgreSQL (pool not nil) they come from the pgx pool, which ent,
//     the job runner and database/sql all draw from; on SQLite, from db.
//   - go_sql_*{db_name="leadron"}: database/sql's own statistics (in use,
//     waits). On SQLite that is all of the traffic; on PostgreSQL only the
//     few statements that need a *sql.DB (ent runs on pgx directly), and
//     database/sql keeps no idle connections there.
func WithDB(db *sql.DB, pool *pgxpool.Pool) Option {
	return func(m *Metrics) {
		stats := func() (open, most int) {
			if pool != nil {
				s := pool.Stat()
				return int(s.TotalConns()), int(s.MaxConns())
			}
			s := db.Stats()
			return s.OpenConnections, s.MaxOpenConnections
		}
		m.reg.MustRegister(
			collectors.NewDBStatsCollector(db, "leadron"),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "leadron_db_open_connections",
				Help: "Connections open to the database server (the pgx pool on PostgreSQL, database/sql on SQLite), in use or idle.",
			}, func() float64 { open, _ := stats(); return float64(open) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "leadron_db_max_open_connections",
				Help: "The most connections the pool opens to the database server (0: no limit).",
			}, func() float64 { _, most := stats(); return float64(most) }),
		)
	}
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Middleware counts and times each request. It labels them with the chi
// route pattern the request matched (read once the handler ran, so mounted
// sub-routers are included), never the raw path: IDs in paths would make
// one series per resource. It must sit on the root chi router.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			var route routeParts
			if rc := chi.RouteContext(r.Context()); rc != nil {
				if len(rc.RoutePatterns) <= len(route) {
					copy(route[:], rc.RoutePatterns)
				} else {
					route[0] = rc.RoutePattern()
				}
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			s := m.seriesOf(seriesKey{methodLabel(r.Method), route, status})
			s.requests.Inc()
			s.duration.Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(ww, r)
	})
}

// seriesOf returns k's instruments, made on first use.
func (m *Metrics) seriesOf(k seriesKey) httpSeries {
	m.seriesMu.RLock()
	s, ok := m.series[k]
	m.seriesMu.RUnlock()
	if ok {
		return s
	}
	route := k.route.label()
	s = httpSeries{
		requests: m.requests.WithLabelValues(k.method, route, strconv.Itoa(k.status)),
		duration: m.duration.WithLabelValues(k.method, route),
	}
	m.seriesMu.Lock()
	m.series[k] = s
	m.seriesMu.Unlock()
	return s
}

// label is the route label: the pattern chi's RoutePattern makes of the
// parts, or Unmatched when there is none.
func (p routeParts) label() string {
	if route := (&chi.Context{RoutePatterns: p[:]}).RoutePattern(); route != "" {
		return route
	}
	return Unmatched
}

// methodLabel bounds the method label: clients can send any token.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}
