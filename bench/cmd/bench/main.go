// Command bench is Leadron's load benchmark (`make bench`, `make
// bench-quick`). For each database (PostgreSQL, and the SQLite default) it
// builds and starts the real server on a fresh database, seeds it with
// `leadron seed`, creates an API key with the CLI, and starts beside it the
// raw baseline (bench/baseline): the same SQL for the same requests with no
// framework, auth or envelope. It drives both with wrk, alternating Leadron
// and baseline runs (A B A B) so that drift cancels, samples each server's
// CPU time and RSS from /proc, prints one table with the ratio
// Leadron/baseline and the targets, and writes the results as JSON to
// bench/results/<timestamp>.json.
//
// Run it from the repository root: go run ./bench/cmd/bench [-quick].
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadron/leadron/bench/internal/harness"
	"github.com/leadron/leadron/internal/store"
)

type options struct {
	quick      bool
	dbs        []string
	duration   time.Duration
	warmup     time.Duration
	conns      []int
	rounds     int
	pgLeads    int
	sqlLeads   int
	pgAdminURL string
	outDir     string
	only       string
	keep       bool
	logLevel   string
	threads    int
	profileDir string
}

func main() {
	var o options
	var dbs, conns string
	flag.BoolVar(&o.quick, "quick", false, "the quick run: c=64 only, one A B round, 2s runs, a small table (under 2 minutes)")
	flag.StringVar(&dbs, "db", "postgres,sqlite", "databases to run on")
	flag.DurationVar(&o.duration, "duration", 0, "length of each wrk run (default 4s, quick 2s)")
	flag.DurationVar(&o.warmup, "warmup", 0, "warm-up per scenario and server before measuring (default 1s, quick 500ms)")
	flag.StringVar(&conns, "c", "", "comma-separated wrk connection counts (default 16,64; quick 64)")
	flag.IntVar(&o.rounds, "rounds", 0, "A B rounds per scenario and concurrency (default 2, quick 1)")
	flag.IntVar(&o.pgLeads, "pg-leads", 0, "leads to seed on PostgreSQL (default 200000, quick 20000)")
	flag.IntVar(&o.sqlLeads, "sqlite-leads", 0, "leads to seed on SQLite (default 100000, quick 20000)")
	flag.StringVar(&o.pgAdminURL, "pg", "", "PostgreSQL URL to create the run's database from (default $LEADRON_BENCH_POSTGRES_URL, then $LEADRON_TEST_POSTGRES_URL, then postgres://postgres@127.0.0.1:5432/postgres)")
	flag.StringVar(&o.outDir, "out", "bench/results", "where to write the JSON results")
	flag.StringVar(&o.only, "only", "", "run only scenarios whose name contains this (or one of these, comma-separated)")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases and logs after the run")
	flag.StringVar(&o.logLevel, "log-level", "info", "the server's LEADRON_LOG_LEVEL (info logs every request, as in production)")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.StringVar(&o.profileDir, "profile", "", "also write a CPU profile of the server for each scenario into this directory (an extra, unmeasured run at the highest -c)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	o.dbs = splitList(dbs)
	defaults(&o, conns)
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench: "+err.Error())
		os.Exit(1)
	}
}

func defaults(o *options, conns string) {
	pick := func(v *int, full, quick int) {
		if *v == 0 {
			*v = full
			if o.quick {
				*v = quick
			}
		}
	}
	pickD := func(v *time.Duration, full, quick time.Duration) {
		if *v == 0 {
			*v = full
			if o.quick {
				*v = quick
			}
		}
	}
	pickD(&o.duration, 4*time.Second, 2*time.Second)
	pickD(&o.warmup, time.Second, 500*time.Millisecond)
	pick(&o.rounds, 2, 1)
	pick(&o.pgLeads, 200_000, 20_000)
	pick(&o.sqlLeads, 100_000, 20_000)
	if conns == "" {
		conns = "16,64"
		if o.quick {
			conns = "64"
		}
	}
	for _, c := range splitList(conns) {
		n, err := strconv.Atoi(c)
		if err == nil && n > 0 {
			o.conns = append(o.conns, n)
		}
	}
	if o.pgAdminURL == "" {
		o.pgAdminURL = harness.DefaultPostgresURL()
	}
}

// report is what the JSON file holds.
type report struct {
	StartedAt time.Time      `json:"startedAt"`
	Seconds   float64        `json:"seconds"`
	Machine   map[string]any `json:"machine"`
	Options   map[string]any `json:"options"`
	Seeds     map[string]any `json:"seeds"`
	Runs      []runResult    `json:"runs"`
	Summary   []summaryRow   `json:"summary"`
	Targets   []targetResult `json:"targets"`
	Skipped   []string       `json:"skipped"`
	Errors    []string       `json:"errors"`
}

func run(o options) error {
	start := time.Now()
	wrkPath, err := ensureWrk()
	if err != nil {
		return err
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "leadron-bench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintf(os.Stderr, "bench: keeping logs and SQLite files in %s\n", work)
	}
	bins, err := build(work)
	if err != nil {
		return err
	}
	rep := &report{
		StartedAt: start.UTC(), Machine: machine(wrkPath), Seeds: map[string]any{},
		Options: map[string]any{"quick": o.quick, "durationSeconds": o.duration.Seconds(), "warmupSeconds": o.warmup.Seconds(),
			"connections": o.conns, "rounds": o.rounds, "wrkThreads": o.threads, "serverLogLevel": o.logLevel,
			"leads": map[string]int{"postgres": o.pgLeads, "sqlite": o.sqlLeads}},
	}
	for _, db := range o.dbs {
		if err := runDB(o, db, bins, work, wrkPath, rep); err != nil {
			rep.Errors = append(rep.Errors, db+": "+err.Error())
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", db, err)
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	summarize(rep)
	printTable(os.Stdout, rep)
	path, err := harness.WriteJSON(o.outDir, rep.StartedAt.Format("20060102T150405Z")+".json", rep)
	if err != nil {
		return err
	}
	fmt.Printf("\nresults: %s (%.0fs)\n", path, rep.Seconds)
	if len(rep.Errors) > 0 {
		return fmt.Errorf("%d error(s); see above", len(rep.Errors))
	}
	return nil
}

// ensureWrk finds wrk, installing it from the distribution's packages when
// running as root.
func ensureWrk() (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("apt-get"); err == nil {
			fmt.Fprintln(os.Stderr, "bench: wrk is missing; running apt-get install -y wrk")
			cmd := exec.Command("sh", "-c", "apt-get install -y wrk || (apt-get update && apt-get install -y wrk)")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			_ = cmd.Run()
			if p, err := exec.LookPath("wrk"); err == nil {
				return p, nil
			}
		}
	}
	return "", errors.New("wrk is not installed. Install it from your distribution's packages: " +
		"`sudo apt-get install wrk` (Debian/Ubuntu), `sudo dnf install wrk` (Fedora), `brew install wrk` (macOS)")
}

type binaries struct{ leadron, baseline string }

func build(work string) (binaries, error) {
	var b binaries
	var err error
	if b.leadron, err = harness.BuildLeadron(); err != nil {
		return b, err
	}
	b.baseline = filepath.Join(work, "leadron-baseline")
	return b, harness.GoBuild(b.baseline, "./bench/baseline")
}

// dbEnv is one database prepared for a run.
type dbEnv struct {
	name        string // postgres or sqlite
	url         string
	key         string
	tenantID    int
	sqids       []string // lead IDs as the API shows them
	ints        []int
	idsFile     string // sqids, one a line
	intsFile    string
	deepCursor  string // Leadron's `after` for a page deep in the table
	deepTS      time.Time
	deepID      int
	leadron     *harness.Proc
	baseline    *harness.Proc
	graphqlNote string // why GraphQL scenarios are skipped, if they are
}

func runDB(o options, name string, bins binaries, work, wrkPath string, rep *report) error {
	fmt.Fprintf(os.Stderr, "\n=== %s ===\n", name)
	ctx := context.Background()
	e := &dbEnv{name: name}
	leads := o.sqlLeads
	if name == "postgres" {
		leads = o.pgLeads
	}
	u, drop, err := harness.NewDatabase(ctx, name, o.pgAdminURL, "leadron_bench", work)
	if err != nil {
		return err
	}
	if !o.keep {
		defer drop()
	}
	e.url = u
	env := []string{"LEADRON_DATABASE_URL=" + e.url}
	cli := harness.CLI{Bin: bins.leadron, DBURL: e.url}
	if err := cli.CreateTenant("bench", "Bench", "enterprise", "owner@bench.test", "bench-password-1"); err != nil {
		return err
	}
	seedStart := time.Now()
	seeded, err := cli.Seed("bench", leads)
	if err != nil {
		return err
	}
	seeded["wallSeconds"] = time.Since(seedStart).Seconds()
	rep.Seeds[name] = seeded
	fmt.Fprintf(os.Stderr, "bench: seeded %d leads in %.1fs\n", leads, time.Since(seedStart).Seconds())
	if e.key, err = cli.CreateLiveKey("bench", "owner@bench.test", "bench"); err != nil {
		return err
	}
	if err := prepare(ctx, e, work, leads); err != nil {
		return err
	}

	logf, err := os.Create(filepath.Join(work, name+"-server.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	addr, baseAddr, pprofAddr := harness.FreeAddr(), harness.FreeAddr(), ""
	serverEnv := append(env, "LEADRON_ADDR="+addr, "LEADRON_LOG_LEVEL="+o.logLevel,
		"LEADRON_IP_RATE_LIMIT=1000000000", "LEADRON_IP_RATE_BURST=1000000000")
	if o.profileDir != "" {
		pprofAddr = harness.FreeAddr()
		serverEnv = append(serverEnv, "LEADRON_PPROF_ADDR="+pprofAddr)
	}
	e.leadron, err = harness.Start(bins.leadron, []string{"serve"}, serverEnv, logf, "http://"+addr, "/readyz")
	if err != nil {
		return fmt.Errorf("starting leadron: %w", err)
	}
	defer e.leadron.Stop()
	e.baseline, err = harness.Start(bins.baseline, []string{"-db", e.url, "-addr", baseAddr, "-tenant", strconv.Itoa(e.tenantID)},
		nil, logf, "http://"+baseAddr, "/healthz")
	if err != nil {
		return fmt.Errorf("starting the baseline: %w", err)
	}
	defer e.baseline.Stop()
	e.graphqlNote = probeGraphQL(e)

	for _, sc := range scenarios() {
		if !selected(sc.name, o.only) {
			continue
		}
		if sc.graphql && e.graphqlNote != "" {
			line := fmt.Sprintf("%s %s: skipped: %s", name, sc.name, e.graphqlNote)
			fmt.Fprintln(os.Stderr, line)
			rep.Skipped = append(rep.Skipped, line)
			continue
		}
		a, b := sc.leadron(e), sc.baseline(e)
		if err := check(e, a, e.leadron.URL); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: leadron: %v", name, sc.name, err))
			fmt.Fprintf(os.Stderr, "bench: %s %s: leadron: %v\n", name, sc.name, err)
			continue
		}
		if err := check(e, b, e.baseline.URL); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: baseline: %v", name, sc.name, err))
			fmt.Fprintf(os.Stderr, "bench: %s %s: baseline: %v\n", name, sc.name, err)
			continue
		}
		reqs := map[string]request{"leadron": a, "baseline": b}
		targets := []string{"leadron", "baseline"}
		if sc.pairWith != "" {
			paired := scenarioNamed(sc.pairWith).leadron(e)
			if err := check(e, paired, e.leadron.URL); err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: leadron %s: %v", name, sc.name, sc.pairWith, err))
				continue
			}
			reqs["leadron-paired"] = paired
			targets = []string{"leadron-paired", "leadron", "baseline"}
		}
		scripts := map[string]string{}
		for tgt, rq := range reqs {
			p := filepath.Join(work, fmt.Sprintf("%s-%s-%s.lua", name, sc.name, tgt))
			if err := os.WriteFile(p, []byte(luaScript(rq)), 0o644); err != nil {
				return err
			}
			scripts[tgt] = p
		}
		// Warm both up (caches, connection pools, statement caches).
		for _, tgt := range []*harness.Proc{e.leadron, e.baseline} {
			name := map[*harness.Proc]string{e.leadron: "leadron", e.baseline: "baseline"}[tgt]
			_, _ = runWrk(wrkPath, scripts[name], tgt, o.conns[0], o.threads, o.warmup)
		}
		if o.profileDir != "" {
			if err := profile(wrkPath, scripts["leadron"], e.leadron, pprofAddr, o, filepath.Join(o.profileDir, name+"-"+sc.name+".pprof")); err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: profile: %v", name, sc.name, err))
			}
		}
		for _, c := range o.conns {
			for round := 1; round <= o.rounds; round++ {
				for _, tgt := range targets {
					p := e.leadron
					if tgt == "baseline" {
						p = e.baseline
					}
					r, err := runWrk(wrkPath, scripts[tgt], p, c, o.threads, o.duration)
					if err != nil {
						rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s c=%d %s: %v", name, sc.name, c, tgt, err))
						continue
					}
					r.DB, r.Scenario, r.Conns, r.Target, r.Round = name, sc.name, c, tgt, round
					fmt.Fprintf(os.Stderr, "  %-8s %-14s c=%-3d %-8s round %d: %8.0f req/s  p50 %6.2fms  p99 %7.2fms  cpu %.2f cores  rss %4.0f MB%s\n",
						name, sc.name, c, tgt, round, r.RPS, r.P50ms, r.P99ms, r.CPUSeconds/r.WallSeconds, r.PeakRSSMB, errNote(r))
					rep.Runs = append(rep.Runs, r)
				}
			}
		}
	}
	return nil
}

// profile drives the server as a measured run does, at the highest
// concurrency, while its CPU profile is taken from LEADRON_PPROF_ADDR, and
// writes the profile to path (read it with go tool pprof bin/leadron path).
// The run itself is not measured: profiling costs the server a little.
func profile(wrkPath, script string, p *harness.Proc, pprofAddr string, o options, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	secs := max(1, int(o.duration.Seconds())-1)
	done := make(chan error, 1)
	go func() {
		_, err := runWrk(wrkPath, script, p, slices.Max(o.conns), o.threads, o.duration)
		done <- err
	}()
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs))
	if err != nil {
		<-done
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		<-done
		return err
	}
	_, err = io.Copy(f, res.Body)
	err = errors.Join(err, f.Close(), <-done)
	if err == nil {
		fmt.Fprintf(os.Stderr, "  profile: %s\n", path)
	}
	return err
}

func errNote(r runResult) string {
	if r.Non2xx+r.SocketErrors == 0 {
		return ""
	}
	return fmt.Sprintf("  (%d non-2xx, %d socket errors)", r.Non2xx, r.SocketErrors)
}

// prepare reads what the scenarios need from the database: the tenant's
// ID, a sample of lead IDs in both spellings, and a deep cursor. It also
// lifts the tenant's rate limit, so the benchmark measures serving, not
// refusing (the limiter still runs on every request).
func prepare(ctx context.Context, e *dbEnv, work string, leads int) error {
	db, err := store.Open(ctx, e.url)
	if err != nil {
		return err
	}
	defer db.Close()
	codec, err := store.LoadCodec(ctx, db.Client)
	if err != nil {
		return err
	}
	t, err := harness.PrepareTenant(ctx, db, "bench", 10000)
	if err != nil {
		return err
	}
	e.tenantID, e.ints, e.sqids = t.ID, t.Ints, t.Sqids
	deep := leads * 9 / 10
	row := db.SQL.QueryRowContext(ctx, harness.Rebind(db, fmt.Sprintf(`SELECT created_at, id FROM leads WHERE tenant_id = $1 AND environment = 'live'
		AND archived_at IS NULL AND merged_into IS NULL ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET %d`, deep)), e.tenantID)
	if err := row.Scan(&e.deepTS, &e.deepID); err != nil {
		return fmt.Errorf("finding a deep cursor: %w", err)
	}
	e.deepTS = e.deepTS.UTC()
	// Leadron's cursor: base64url of {"s": sort, "v": value, "i": id}. The
	// runner checks that the server accepts it before measuring.
	v, _ := json.Marshal(e.deepTS)
	c, _ := json.Marshal(map[string]any{"s": "-createdAt", "v": json.RawMessage(v), "i": codec.Encode(e.deepID)})
	e.deepCursor = base64.RawURLEncoding.EncodeToString(c)
	e.idsFile = filepath.Join(work, e.name+"-ids.txt")
	e.intsFile = filepath.Join(work, e.name+"-ints.txt")
	ints := make([]string, len(e.ints))
	for i, n := range e.ints {
		ints[i] = strconv.Itoa(n)
	}
	if err := os.WriteFile(e.idsFile, []byte(strings.Join(e.sqids, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(e.intsFile, []byte(strings.Join(ints, "\n")+"\n"), 0o644)
}

// request is one scenario's request for one server, as the Lua script
// builds it: {id} in the path or body is a random ID from idsFile, {n} a
// unique number, {r} a random number 0–100 and {p} 7 random digits.
type request struct {
	method, path, body string
	headers            map[string]string
	idsFile            string
	expect             int
	// graphql: the response must carry data and no errors.
	graphql bool
}

type scenario struct {
	name, title string
	graphql     bool
	leadron     func(*dbEnv) request
	baseline    func(*dbEnv) request
	// pairWith names a scenario whose Leadron request runs before this
	// one's in every round (as target "leadron-paired"), for a target that
	// compares the two on Leadron: back to back, drift cancels as in A B.
	pairWith string
}

// graphqlLeadsQuery asks for 50 leads with 13 fields.
const graphqlLeadsQuery = `query { leads(first: 50) { edges { node { id createdAt updatedAt email firstName lastName phone source status score assignedTo version archivedAt } } pageInfo { hasNextPage endCursor } } }`

// graphqlNodeQuery fetches one lead by ID through the Relay node field.
const graphqlNodeQuery = `query($id: ID!) { node(id: $id) { ... on Lead { id createdAt updatedAt email firstName lastName phone source status score assignedTo version archivedAt } } }`

// postBody is a new lead: a unique email, and a phone of 7 random digits, so
// that the duplicate check each create enqueues finds what real traffic
// does (rarely a match), not every earlier bench lead.
const postBody = `{"email":"bench.{n}@example.com","firstName":"Bench","lastName":"Lead","phone":"+1 415 {p}","source":"api","score":{r},"customFields":{"company":"Acme Corp","seats":25}}`

func scenarios() []scenario {
	auth := func(e *dbEnv, extra ...string) map[string]string {
		h := map[string]string{"X-API-Key": e.key}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return h
	}
	js := map[string]string{"Content-Type": "application/json"}
	gql := func(query string, vars string) string {
		q, _ := json.Marshal(query)
		if vars == "" {
			return `{"query":` + string(q) + `}`
		}
		return `{"query":` + string(q) + `,"variables":` + vars + `}`
	}
	return []scenario{
		{name: "rest-get", title: "REST GET /v1/leads/{id}",
			leadron: func(e *dbEnv) request {
				return request{method: "GET", path: "/v1/leads/{id}", headers: auth(e), idsFile: e.idsFile, expect: 200}
			},
			baseline: func(e *dbEnv) request {
				return request{method: "GET", path: "/leads/{id}", idsFile: e.intsFile, expect: 200}
			}},
		{name: "rest-list", title: "REST GET /v1/leads?limit=50",
			leadron: func(e *dbEnv) request {
				return request{method: "GET", path: "/v1/leads?limit=50", headers: auth(e), expect: 200}
			},
			baseline: func(e *dbEnv) request { return request{method: "GET", path: "/leads?limit=50", expect: 200} }},
		{name: "rest-list-deep", title: "REST GET /v1/leads?limit=50&after=<deep>", pairWith: "rest-list",
			leadron: func(e *dbEnv) request {
				return request{method: "GET", path: "/v1/leads?limit=50&after=" + e.deepCursor, headers: auth(e), expect: 200}
			},
			baseline: func(e *dbEnv) request {
				return request{method: "GET", path: fmt.Sprintf("/leads?limit=50&after_ts=%s&after_id=%d", e.deepTS.Format(time.RFC3339Nano), e.deepID), expect: 200}
			}},
		{name: "gql-leads", title: "GraphQL leads(first: 50), 13 fields", graphql: true,
			leadron: func(e *dbEnv) request {
				return request{method: "POST", path: "/graphql", headers: auth(e, "Content-Type", "application/json"), body: gql(graphqlLeadsQuery, ""), expect: 200, graphql: true}
			},
			baseline: func(e *dbEnv) request { return request{method: "GET", path: "/leads?limit=50", expect: 200} }},
		{name: "gql-node", title: "GraphQL node(id:)", graphql: true,
			leadron: func(e *dbEnv) request {
				return request{method: "POST", path: "/graphql", headers: auth(e, "Content-Type", "application/json"), body: gql(graphqlNodeQuery, `{"id":"{id}"}`), idsFile: e.idsFile, expect: 200, graphql: true}
			},
			baseline: func(e *dbEnv) request {
				return request{method: "GET", path: "/leads/{id}", idsFile: e.intsFile, expect: 200}
			}},
		{name: "rest-post", title: "REST POST /v1/leads",
			leadron: func(e *dbEnv) request {
				return request{method: "POST", path: "/v1/leads", headers: auth(e, "Content-Type", "application/json"), body: postBody, expect: 201}
			},
			baseline: func(e *dbEnv) request {
				return request{method: "POST", path: "/leads", headers: js, body: postBody, expect: 201}
			}},
	}
}

// scenarioNamed is the scenario of that name; it panics on a name that
// scenarios() does not have (a pairWith typo).
func scenarioNamed(name string) scenario {
	for _, sc := range scenarios() {
		if sc.name == name {
			return sc
		}
	}
	panic("bench: no scenario " + name)
}

// probeGraphQL says why GraphQL scenarios cannot run, or "" when they can.
func probeGraphQL(e *dbEnv) string {
	req, _ := http.NewRequest("POST", e.leadron.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", e.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "/graphql not available (" + err.Error() + ")"
	}
	res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return "/graphql not available"
	}
	return ""
}

// check sends the scenario's request once, as the script would, and
// verifies the answer, so a broken scenario fails loudly instead of being
// measured as a stream of errors.
func check(e *dbEnv, r request, base string) error {
	id := ""
	if r.idsFile != "" {
		if strings.HasSuffix(r.idsFile, "ints.txt") {
			id = strconv.Itoa(e.ints[0])
		} else {
			id = e.sqids[0]
		}
	}
	fill := strings.NewReplacer("{id}", id, "{n}", "check-"+strconv.FormatInt(time.Now().UnixNano(), 36), "{r}", "42", "{p}", "5550134")
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(fill.Replace(r.body))
	}
	req, err := http.NewRequest(r.method, base+fill.Replace(r.path), body)
	if err != nil {
		return err
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != r.expect {
		return fmt.Errorf("%s %s answered %d, want %d: %.300s", r.method, r.path, res.StatusCode, r.expect, b)
	}
	if r.graphql {
		var out struct {
			Data   json.RawMessage
			Errors []struct{ Message string }
		}
		if err := json.Unmarshal(b, &out); err != nil || len(out.Errors) > 0 || len(out.Data) == 0 || string(out.Data) == "null" {
			return fmt.Errorf("GraphQL query rejected: %.300s", b)
		}
	}
	if strings.Contains(r.path, "limit=50") && !r.graphql && !bytes.Contains(b, []byte(`"id"`)) {
		return fmt.Errorf("the page is empty: %.300s", b)
	}
	return nil
}

// luaScript is the wrk script for a request.
func luaScript(r request) string {
	var hdr strings.Builder
	keys := make([]string, 0, len(r.headers))
	for k := range r.headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&hdr, "headers[%q] = %q\n", k, r.headers[k])
	}
	return fmt.Sprintf(`-- generated by bench/cmd/bench
local ids = {}
local idsFile = %q
if idsFile ~= "" then
  for line in io.lines(idsFile) do ids[#ids + 1] = line end
end
local method, pathT, bodyT = %q, %q, %q
headers = {}
%s
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
  counter = counter + 1
  local id = ""
  if #ids > 0 then id = ids[math.random(#ids)] end
  local path = (pathT:gsub("{id}", id))
  local body = nil
  if bodyT ~= "" then
    local n = tostring(tid or 0) .. "." .. tostring(counter) .. "." .. tostring(os.time()) .. "." .. tostring(math.random(1000000))
    body = (bodyT:gsub("{id}", id))
    body = (body:gsub("{n}", n))
    body = (body:gsub("{r}", tostring(math.random(0, 100))))
    body = (body:gsub("{p}", string.format("%%07d", math.random(0, 9999999))))
  end
  return wrk.format(method, path, headers, body)
end
`, r.idsFile, r.method, r.path, r.body, hdr.String())
}

// runResult is one wrk run against one server.
type runResult struct {
	DB           string  `json:"db"`
	Scenario     string  `json:"scenario"`
	Conns        int     `json:"connections"`
	Target       string  `json:"target"`
	Round        int     `json:"round"`
	RPS          float64 `json:"rps"`
	P50ms        float64 `json:"p50Ms"`
	P99ms        float64 `json:"p99Ms"`
	Requests     int     `json:"requests"`
	Non2xx       int     `json:"non2xx"`
	SocketErrors int     `json:"socketErrors"`
	CPUSeconds   float64 `json:"cpuSeconds"`
	WallSeconds  float64 `json:"wallSeconds"`
	PeakRSSMB    float64 `json:"peakRssMB"`
}

func runWrk(wrkPath, script string, p *harness.Proc, conns, threads int, d time.Duration) (runResult, error) {
	threads = min(threads, conns)
	secs := max(1, int(math.Round(d.Seconds())))
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", strconv.Itoa(secs) + "s",
		"--latency", "--timeout", "10s", "-s", script, p.URL}
	if d < time.Second {
		args[5] = fmt.Sprintf("%dms", d.Milliseconds())
	}
	cpu0, _ := harness.CPUSeconds(p.PID)
	stopRSS := make(chan struct{})
	peak := make(chan float64, 1)
	go func() {
		mx := harness.RSSMB(p.PID)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				peak <- max(mx, harness.RSSMB(p.PID))
				return
			case <-t.C:
				mx = max(mx, harness.RSSMB(p.PID))
			}
		}
	}()
	t0 := time.Now()
	out, err := exec.Command(wrkPath, args...).CombinedOutput()
	wall := time.Since(t0).Seconds()
	cpu1, _ := harness.CPUSeconds(p.PID)
	close(stopRSS)
	r := runResult{CPUSeconds: cpu1 - cpu0, WallSeconds: wall, PeakRSSMB: <-peak}
	if err != nil {
		return r, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if err := parseWrk(string(out), &r); err != nil {
		return r, err
	}
	return r, nil
}

// parseWrk reads req/s, the latency percentiles and the error counts.
func parseWrk(out string, r *runResult) error {
	sc := bufio.NewScanner(strings.NewReader(out))
	found := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.RPS, _ = strconv.ParseFloat(f[1], 64)
			found = true
		case len(f) == 2 && f[0] == "50%":
			r.P50ms = parseDur(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.P99ms = parseDur(f[1])
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			r.Requests, _ = strconv.Atoi(f[0])
		case len(f) == 5 && f[0] == "Non-2xx":
			r.Non2xx, _ = strconv.Atoi(f[4])
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			for _, part := range strings.Split(strings.Join(f[2:], " "), ",") {
				kv := strings.Fields(part)
				if len(kv) == 2 {
					n, _ := strconv.Atoi(kv[1])
					r.SocketErrors += n
				}
			}
		}
	}
	if !found {
		return fmt.Errorf("cannot read wrk's output: %s", out)
	}
	return nil
}

func parseDur(s string) float64 {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 0.001}, {"ms", 1}, {"s", 1000}, {"m", 60000}} {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			if err == nil {
				return v * u.ms
			}
		}
	}
	return math.NaN()
}

// summaryRow is one scenario at one concurrency on one database, averaged
// over the rounds.
type summaryRow struct {
	DB       string     `json:"db"`
	Scenario string     `json:"scenario"`
	Title    string     `json:"title"`
	Conns    int        `json:"connections"`
	Leadron  sideResult `json:"leadron"`
	Baseline sideResult `json:"baseline"`
	Ratio    float64    `json:"ratio"`
	// LeadronPaired is Leadron on the pairWith scenario, run back to back
	// with this one's Leadron runs.
	LeadronPaired *sideResult `json:"leadronPaired,omitempty"`
}

type sideResult struct {
	RPS        float64 `json:"rps"`
	P50ms      float64 `json:"p50Ms"`
	P99ms      float64 `json:"p99Ms"`
	CPUCores   float64 `json:"cpuCores"`
	CPUusPerRq float64 `json:"cpuMicrosPerRequest"`
	PeakRSSMB  float64 `json:"peakRssMB"`
	Errors     int     `json:"errors"`
}

type targetResult struct {
	Target   string  `json:"target"`
	Want     string  `json:"want"`
	Measured float64 `json:"measured"`
	Pass     bool    `json:"pass"`
	Note     string  `json:"note,omitempty"`
}

func summarize(rep *report) {
	titles := map[string]string{}
	order := map[string]int{}
	for i, sc := range scenarios() {
		titles[sc.name], order[sc.name] = sc.title, i
	}
	type key struct {
		db, sc string
		c      int
	}
	var keys []key
	groups := map[key]map[string][]runResult{}
	for _, r := range rep.Runs {
		k := key{r.DB, r.Scenario, r.Conns}
		if groups[k] == nil {
			groups[k] = map[string][]runResult{}
			keys = append(keys, k)
		}
		groups[k][r.Target] = append(groups[k][r.Target], r)
	}
	side := func(rs []runResult) sideResult {
		var s sideResult
		var cpu, wall float64
		var reqs int
		for _, r := range rs {
			s.RPS += r.RPS / float64(len(rs))
			s.P50ms += r.P50ms / float64(len(rs))
			s.P99ms += r.P99ms / float64(len(rs))
			s.PeakRSSMB = max(s.PeakRSSMB, r.PeakRSSMB)
			s.Errors += r.Non2xx + r.SocketErrors
			cpu += r.CPUSeconds
			wall += r.WallSeconds
			reqs += r.Requests
		}
		if wall > 0 {
			s.CPUCores = cpu / wall
		}
		if reqs > 0 {
			s.CPUusPerRq = cpu / float64(reqs) * 1e6
		}
		return s
	}
	for _, k := range keys {
		g := groups[k]
		row := summaryRow{DB: k.db, Scenario: k.sc, Title: titles[k.sc], Conns: k.c, Leadron: side(g["leadron"]), Baseline: side(g["baseline"])}
		if row.Baseline.RPS > 0 {
			row.Ratio = row.Leadron.RPS / row.Baseline.RPS
		}
		if rs := g["leadron-paired"]; len(rs) > 0 {
			paired := side(rs)
			row.LeadronPaired = &paired
		}
		rep.Summary = append(rep.Summary, row)
	}
	slices.SortStableFunc(rep.Summary, func(a, b summaryRow) int {
		if a.DB != b.DB {
			return strings.Compare(b.DB, a.DB) // postgres first
		}
		if order[a.Scenario] != order[b.Scenario] {
			return order[a.Scenario] - order[b.Scenario]
		}
		return a.Conns - b.Conns
	})
	find := func(db, sc string, c int) *summaryRow {
		for i := range rep.Summary {
			if r := &rep.Summary[i]; r.DB == db && r.Scenario == sc && r.Conns == c {
				return r
			}
		}
		return nil
	}
	conns := map[int]bool{}
	for _, r := range rep.Summary {
		conns[r.Conns] = true
	}
	cs := make([]int, 0, len(conns))
	for c := range conns {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	ratio := func(label, db, sc string, want float64) {
		for _, c := range cs {
			if r := find(db, sc, c); r != nil {
				rep.Targets = append(rep.Targets, targetResult{Target: fmt.Sprintf("%s, c=%d", label, c), Want: fmt.Sprintf("≥ %.2f", want), Measured: r.Ratio, Pass: r.Ratio >= want})
			}
		}
	}
	ratio("REST GET by id, PostgreSQL", "postgres", "rest-get", 0.80)
	ratio("REST list 50 rows, PostgreSQL", "postgres", "rest-list", 0.60)
	for _, db := range []string{"postgres", "sqlite"} {
		for _, c := range cs {
			deep := find(db, "rest-list-deep", c)
			if deep == nil || deep.LeadronPaired == nil || deep.LeadronPaired.RPS == 0 {
				continue
			}
			// The first page as measured back to back with the deep one, not
			// the rest-list scenario of a minute earlier.
			m := deep.Leadron.RPS / deep.LeadronPaired.RPS
			t := targetResult{Target: fmt.Sprintf("REST list deep/first page, %s, c=%d", db, c), Want: "≥ 0.90", Measured: m, Pass: m >= 0.9}
			// The same ratio for the baseline's SQL tells the database's own
			// cost of a deep page from Leadron's.
			if first := find(db, "rest-list", c); first != nil && first.Baseline.RPS > 0 && deep.Baseline.RPS > 0 {
				t.Note = fmt.Sprintf("baseline's deep/first page %.2f", deep.Baseline.RPS/first.Baseline.RPS)
			}
			rep.Targets = append(rep.Targets, t)
		}
	}
	ratio("REST POST, PostgreSQL", "postgres", "rest-post", 0.50)
	ratio("GraphQL leads(first: 50), PostgreSQL", "postgres", "gql-leads", 0.50)
	ratio("REST GET by id, SQLite", "sqlite", "rest-get", 0.75)
	for _, db := range []string{"postgres", "sqlite"} {
		peak := 0.0
		for _, r := range rep.Summary {
			if r.DB == db && r.Conns == 64 {
				peak = max(peak, r.Leadron.PeakRSSMB)
			}
		}
		if peak > 0 {
			rep.Targets = append(rep.Targets, targetResult{Target: "server RSS at c=64, " + db, Want: "≤ 150 MB", Measured: peak, Pass: peak <= 150})
		}
	}
}

func printTable(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\nLeadron vs raw baseline — %v, %v cores, wrk %v, %s\n\n", rep.Machine["cpu"], rep.Machine["cores"], rep.Options["connections"], rep.Machine["go"])
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "db\tscenario\tc\t|\tLeadron req/s\tp50 ms\tp99 ms\tCPU cores\tCPU µs/req\tRSS MB\t|\tbaseline req/s\tp50 ms\tp99 ms\tCPU cores\tCPU µs/req\tRSS MB\t|\tratio\t")
	for _, r := range rep.Summary {
		errs := ""
		if r.Leadron.Errors+r.Baseline.Errors > 0 {
			errs = fmt.Sprintf(" (errors: %d/%d)", r.Leadron.Errors, r.Baseline.Errors)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t|\t%.0f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t|\t%.0f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t|\t%.2f%s\t\n",
			r.DB, r.Scenario, r.Conns,
			r.Leadron.RPS, r.Leadron.P50ms, r.Leadron.P99ms, r.Leadron.CPUCores, r.Leadron.CPUusPerRq, r.Leadron.PeakRSSMB,
			r.Baseline.RPS, r.Baseline.P50ms, r.Baseline.P99ms, r.Baseline.CPUCores, r.Baseline.CPUusPerRq, r.Baseline.PeakRSSMB,
			r.Ratio, errs)
	}
	tw.Flush()
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w, "\nTargets (issue 7):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range rep.Targets {
			status := "MISS"
			if t.Pass {
				status = "ok"
			}
			note := ""
			if t.Note != "" {
				note = " (" + t.Note + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\tmeasured %.2f\t%s%s\n", t.Target, t.Want, t.Measured, status, note)
		}
		tw.Flush()
	}
	for _, s := range rep.Skipped {
		fmt.Fprintln(w, s)
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "error: "+e)
	}
}

// machine is harness.Machine with wrk's version.
func machine(wrkPath string) map[string]any {
	m := harness.Machine()
	if out, _ := exec.Command(wrkPath, "-v").CombinedOutput(); len(out) > 0 {
		m["wrk"] = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	return m
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// selected reports whether -only lets the scenario run: it does when only
// is empty or the name contains one of its comma-separated parts.
func selected(name, only string) bool {
	if only == "" {
		return true
	}
	for part := range strings.SplitSeq(only, ",") {
		if part != "" && strings.Contains(name, part) {
			return true
		}
	}
	return false
}
