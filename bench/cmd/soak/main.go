// Command soak is Leadron's soak test (`make soak`, not in CI). It builds and
// starts the real server on a fresh database (PostgreSQL, or the embedded
// SQLite with -db sqlite), creates several enterprise tenants with their
// rate limits lifted, seeds leads for each with `leadron seed` and creates
// one live full_access API key per tenant with the CLI. It then drives a
// closed-loop mixed load from keep-alive HTTP workers (70 % REST reads, 20 %
// REST writes, 10 % GraphQL, each request as a random tenant) for -duration,
// and records every -interval the server's RSS (/proc), goroutines and open
// database connections (its /metrics), and the window's requests, req/s,
// p50, p99, 5xx and transport errors.
//
// It fails (exit status 1, one line per reason) when any request gets a
// 5xx, no response or another answer than expected, or when RSS,
// goroutines, open connections or p99 trend upward after the warm-up (the
// rule is in trend.go). It prints a table and writes everything as JSON to
// <out>/soak-<UTC timestamp>.json.
//
// Run it from the repository root: go run ./bench/cmd/soak [-duration 10m].
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/leadron/leadron/bench/internal/harness"
	"github.com/leadron/leadron/internal/store"
)

type options struct {
	duration   time.Duration
	interval   time.Duration
	conns      int
	db         string
	pgAdminURL string
	keep       bool
	outDir     string
	tenants    int
	leads      int
	logLevel   string
}

// window is one interval's figures.
type window struct {
	T               float64 `json:"t"`      // seconds since the load started, at the window's end
	Warmup          bool    `json:"warmup"` // left out of the verdict
	Requests        int     `json:"requests"`
	RPS             float64 `json:"rps"`
	P50ms           float64 `json:"p50Ms"`
	P99ms           float64 `json:"p99Ms"`
	RSSMB           float64 `json:"rssMB"`
	Goroutines      int     `json:"goroutines"`
	DBConns         int     `json:"dbOpenConnections"`
	DBMaxConns      int     `json:"dbMaxOpenConnections"`
	Status5xx       int     `json:"status5xx"`
	TransportErrors int     `json:"transportErrors"`
	Unexpected      int     `json:"unexpected"`
}

// report is what the JSON file holds.
type report struct {
	StartedAt     time.Time        `json:"startedAt"`
	Seconds       float64          `json:"seconds"`
	Machine       map[string]any   `json:"machine"`
	Options       map[string]any   `json:"options"`
	Seeds         []map[string]any `json:"seeds"`
	Mix           map[string]int   `json:"mixPercent"`
	WarmupSeconds float64          `json:"warmupSeconds"`
	Windows       []window         `json:"windows"`
	Requests      map[string]int   `json:"requestsByKind"`
	Problems      []string         `json:"problems"` // examples of failed requests
	Trends        []trend          `json:"trends"`
	Failures      []string         `json:"failures"`
	Pass          bool             `json:"pass"`
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long to run the load")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "how often to record a window")
	flag.IntVar(&o.conns, "c", 16, "concurrent workers (keep-alive connections)")
	flag.StringVar(&o.db, "db", "postgres", "the database: postgres or sqlite")
	flag.StringVar(&o.pgAdminURL, "pg", "", "PostgreSQL URL to create the run's database from (default $LEADRON_BENCH_POSTGRES_URL, then $LEADRON_TEST_POSTGRES_URL, then postgres://postgres@127.0.0.1:5432/postgres)")
	flag.BoolVar(&o.keep, "keep", false, "keep the database and the server log after the run")
	flag.StringVar(&o.outDir, "out", "bench/results", "where to write the JSON results")
	flag.IntVar(&o.tenants, "tenants", 3, "tenants to spread the load over")
	flag.IntVar(&o.leads, "leads", 5000, "leads to seed per tenant")
	flag.StringVar(&o.logLevel, "log-level", "info", "the server's LEADRON_LOG_LEVEL (info logs every request, as in production)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("soak: ")
	if o.pgAdminURL == "" {
		o.pgAdminURL = harness.DefaultPostgresURL()
	}
	if o.duration <= 0 || o.interval <= 0 || o.conns < 1 || o.tenants < 1 || o.leads < 1 {
		log.Fatal("-duration, -interval, -c, -tenants and -leads must be positive")
	}
	rep, err := run(o)
	if err != nil {
		log.Fatal(err)
	}
	if !rep.Pass {
		for _, f := range rep.Failures {
			fmt.Println("FAIL: " + f)
		}
		os.Exit(1)
	}
	fmt.Println("PASS: no 5xx, no transport errors, nothing trends upward")
}

// warmup is the part of the run left out of the verdict: the first minute
// or the first 10 %, whichever is longer.
func warmup(d time.Duration) time.Duration { return max(time.Minute, d/10) }

func run(o options) (*report, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	root, err := harness.RepoRoot()
	if err != nil {
		return nil, err
	}
	if err := os.Chdir(root); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "leadron-soak-")
	if err != nil {
		return nil, err
	}
	keepWork := o.keep // and when the server misbehaves, for its log
	defer func() {
		if keepWork {
			log.Printf("the server log (and the SQLite file) are kept in %s", work)
			return
		}
		os.RemoveAll(work)
	}()
	bin, err := harness.BuildLeadron()
	if err != nil {
		return nil, err
	}
	dbURL, drop, err := harness.NewDatabase(ctx, o.db, o.pgAdminURL, "leadron_soak", work)
	if err != nil {
		return nil, err
	}
	if o.keep {
		log.Printf("keeping the database %s", store.Redact(dbURL))
	} else {
		defer drop()
	}
	log.Printf("database %s", store.Redact(dbURL))
	rep := &report{
		StartedAt: start.UTC(), Machine: harness.Machine(), Mix: map[string]int{}, WarmupSeconds: warmup(o.duration).Seconds(),
		Options: map[string]any{"db": o.db, "durationSeconds": o.duration.Seconds(), "intervalSeconds": o.interval.Seconds(),
			"workers": o.conns, "tenants": o.tenants, "leadsPerTenant": o.leads, "serverLogLevel": o.logLevel},
	}
	for _, op := range mix() {
		rep.Mix[op.name] = op.percent
	}
	tenants, err := prepare(ctx, harness.CLI{Bin: bin, DBURL: dbURL}, o, rep)
	if err != nil {
		return nil, err
	}

	logf, err := os.Create(filepath.Join(work, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	addr := harness.FreeAddr()
	srv, err := harness.Start(bin, []string{"serve"}, []string{"LEADRON_DATABASE_URL=" + dbURL, "LEADRON_ADDR=" + addr,
		"LEADRON_LOG_LEVEL=" + o.logLevel, "LEADRON_IP_RATE_LIMIT=1000000000", "LEADRON_IP_RATE_BURST=1000000000"}, logf, "http://"+addr, "/readyz")
	if err != nil {
		keepWork = true
		return nil, fmt.Errorf("starting leadron: %w", err)
	}
	defer srv.Stop()
	log.Printf("server up at %s, pid %d", srv.URL, srv.PID)

	l := newLoad(srv.URL, o.conns, tenants)
	log.Printf("checking each kind of request once per tenant")
	if err := l.check(ctx); err != nil {
		keepWork = true
		return nil, err
	}
	soak(ctx, o, srv, l, rep)
	if err := srv.Stop(); err != nil {
		rep.Failures = append(rep.Failures, fmt.Sprintf("the server did not exit cleanly on SIGTERM: %v", err))
	}
	rep.Seconds = time.Since(start).Seconds()
	trends, failures := verdict(rep.Windows, rep.WarmupSeconds)
	rep.Trends, rep.Failures = trends, append(rep.Failures, failures...)
	rep.Pass = len(rep.Failures) == 0
	keepWork = keepWork || !rep.Pass
	printReport(os.Stdout, rep)
	path, err := harness.WriteJSON(o.outDir, "soak-"+rep.StartedAt.Format("20060102T150405Z")+".json", rep)
	if err != nil {
		return nil, err
	}
	fmt.Printf("\nresults: %s (%.0fs)\n", path, rep.Seconds)
	return rep, nil
}

// prepare creates the tenants (enterprise, owner, seeded leads, a live
// full_access key each), then lifts their rate limits and samples their
// lead IDs. The server must not be running yet.
func prepare(ctx context.Context, cli harness.CLI, o options, rep *report) ([]tenant, error) {
	tenants := make([]tenant, o.tenants)
	for i := range tenants {
		t := &tenants[i]
		t.slug = fmt.Sprintf("soak-%d", i+1)
		owner := "owner@" + t.slug + ".test"
		if err := cli.CreateTenant(t.slug, fmt.Sprintf("Soak %d", i+1), "enterprise", owner, "soak-password-1"); err != nil {
			return nil, err
		}
		seedStart := time.Now()
		seeded, err := cli.Seed(t.slug, o.leads)
		if err != nil {
			return nil, err
		}
		seeded["wallSeconds"] = time.Since(seedStart).Seconds()
		rep.Seeds = append(rep.Seeds, seeded)
		if t.key, err = cli.CreateLiveKey(t.slug, owner, "soak"); err != nil {
			return nil, err
		}
		log.Printf("tenant %s: %d leads seeded in %.1fs, API key created", t.slug, o.leads, time.Since(seedStart).Seconds())
	}
	db, err := store.Open(ctx, cli.DBURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for i := range tenants {
		s, err := harness.PrepareTenant(ctx, db, tenants[i].slug, 2000)
		if err != nil {
			return nil, err
		}
		tenants[i].ids = s.Sqids
	}
	return tenants, nil
}

// soak runs the load for o.duration and records a window every o.interval.
func soak(ctx context.Context, o options, srv *harness.Proc, l *load, rep *report) {
	warm := warmup(o.duration)
	log.Printf("load: %d workers over %d tenants for %s, a window every %s; the first %s are the warm-up",
		o.conns, len(l.tenants), o.duration, o.interval, warm)
	loadCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range o.conns {
		wg.Go(func() { l.work(loadCtx, i) })
	}
	t0 := time.Now()
	l.take() // start the first window now
	scraper := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
windows:
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			rep.Failures = append(rep.Failures, "interrupted")
			break windows
		case <-tick.C:
		}
		w, err := sample(l, srv, scraper, time.Since(t0))
		if err != nil {
			rep.Failures = append(rep.Failures, err.Error())
		}
		w.Warmup = time.Duration(n)*o.interval <= warm
		rep.Windows = append(rep.Windows, w)
		log.Print(progressLine(w))
		if !srv.Running() {
			rep.Failures = append(rep.Failures, fmt.Sprintf("the server exited during the run, at t=%.0fs", w.T))
			break
		}
		if time.Duration(n)*o.interval >= o.duration {
			break
		}
	}
	cancel()
	wg.Wait()
	tally(l, rep)
}

// sample ends the load's window and adds the server's RSS, goroutines and
// open database connections.
func sample(l *load, srv *harness.Proc, scraper *http.Client, at time.Duration) (window, error) {
	w := l.take()
	w.T = at.Seconds()
	w.RSSMB = harness.RSSMB(srv.PID)
	g, err := gauges(scraper, srv.URL+"/metrics", "go_goroutines", "leadron_db_open_connections", "leadron_db_max_open_connections")
	if err != nil {
		err = fmt.Errorf("t=%.0fs: reading /metrics: %w", w.T, err)
	}
	w.Goroutines, w.DBConns, w.DBMaxConns = int(g["go_goroutines"]), int(g["leadron_db_open_connections"]), int(g["leadron_db_max_open_connections"])
	return w, err
}

// tally adds the run's request counts, and a failure for each kind of
// failed request with an example.
func tally(l *load, rep *report) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rep.Requests = l.byOp
	for _, f := range []struct {
		kind outcome
		what string
	}{{serverErr, "got a 5xx"}, {transport, "got no response"}, {unexpected, "got another answer than expected"}} {
		if n := l.total[f.kind]; n > 0 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%d requests %s, e.g. %s", n, f.what, l.examples[f.kind][0]))
		}
		rep.Problems = append(rep.Problems, l.examples[f.kind]...)
	}
}

func progressLine(w window) string {
	s := fmt.Sprintf("t=%4.0fs %6.0f req/s  p50 %6.2f ms  p99 %7.2f ms  rss %5.1f MB  goroutines %4d  db conns %2d/%d  5xx %d  errors %d",
		w.T, w.RPS, w.P50ms, w.P99ms, w.RSSMB, w.Goroutines, w.DBConns, w.DBMaxConns, w.Status5xx, w.TransportErrors+w.Unexpected)
	if w.Warmup {
		s += "  (warm-up)"
	}
	return s
}

// gauges reads the named unlabelled metrics from the server's /metrics.
func gauges(client *http.Client, url string, names ...string) (map[string]float64, error) {
	res, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && slices.Contains(names, f[0]) {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return out, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return out, fmt.Errorf("no %s", n)
		}
	}
	return out, nil
}

func printReport(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\nLeadron soak — %s, %v workers, %v tenants, %v cores (%v)\n\n", rep.Options["db"], rep.Options["workers"], rep.Options["tenants"], rep.Machine["cores"], rep.Machine["cpu"])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "t s\treq/s\tp50 ms\tp99 ms\tRSS MB\tgoroutines\tDB conns\t5xx\terrors\t\t")
	for _, x := range rep.Windows {
		note := ""
		if x.Warmup {
			note = "warm-up"
		}
		fmt.Fprintf(tw, "%.0f\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t%d/%d\t%d\t%d\t%s\t\n",
			x.T, x.RPS, x.P50ms, x.P99ms, x.RSSMB, x.Goroutines, x.DBConns, x.DBMaxConns, x.Status5xx, x.TransportErrors+x.Unexpected, note)
	}
	tw.Flush()
	if len(rep.Trends) > 0 {
		fmt.Fprintf(w, "\nTrends after the %.0fs warm-up (leak: Theil–Sen rise and last-third rise both above the tolerance):\n", rep.WarmupSeconds)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range rep.Trends {
			status := "ok"
			if t.Leak {
				status = "LEAK"
			}
			fmt.Fprintf(tw, "  %s\tfirst %.1f %s\trise %+.1f\tthirds %+.1f\ttolerance %.1f\t%s\n", t.Signal, t.First, t.Unit, t.Rise, t.ThirdsRise, t.Tolerance, status)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
}
