package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tenant is one tenant the load runs as.
type tenant struct {
	slug string
	key  string   // a live full_access API key; never printed
	ids  []string // a sample of its seeded leads' IDs, as the API spells them
}

// op is one kind of request in the mix.
type op struct {
	name    string
	percent int
	expect  int
	graphql bool
	// build returns the request's method, path and body for tenant t; n is
	// unique within the run.
	build func(t *tenant, r *rand.Rand, n string) (method, path, body string)
}

const (
	gqlLeads = `{ leads(first: 20) { edges { node { id email } } pageInfo { hasNextPage } } }`
	gqlNode  = `query($id: ID!) { node(id: $id) { ... on Lead { id email } } }`
)

// mix is 70 % reads, 20 % writes, 10 % GraphQL.
func mix() []op {
	id := func(t *tenant, r *rand.Rand) string { return t.ids[r.IntN(len(t.ids))] }
	gql := func(query string, vars map[string]any) string {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return string(b)
	}
	return []op{
		{name: "GET /v1/leads/{id}", percent: 35, expect: 200, build: func(t *tenant, r *rand.Rand, _ string) (string, string, string) {
			return "GET", "/v1/leads/" + id(t, r), ""
		}},
		{name: "GET /v1/leads?limit=50", percent: 35, expect: 200, build: func(*tenant, *rand.Rand, string) (string, string, string) {
			return "GET", "/v1/leads?limit=50", ""
		}},
		{name: "POST /v1/leads", percent: 10, expect: 201, build: func(_ *tenant, r *rand.Rand, n string) (string, string, string) {
			return "POST", "/v1/leads", fmt.Sprintf(`{"email":"soak.%s@example.com","firstName":"Soak","lastName":"Lead","source":"api","score":%d,"customFields":{"company":"Acme Corp"}}`, n, r.IntN(101))
		}},
		{name: "PATCH /v1/leads/{id}", percent: 10, expect: 200, build: func(t *tenant, r *rand.Rand, _ string) (string, string, string) {
			return "PATCH", "/v1/leads/" + id(t, r), fmt.Sprintf(`{"score":%d}`, r.IntN(101))
		}},
		{name: "GraphQL leads(first: 20)", percent: 5, expect: 200, graphql: true, build: func(*tenant, *rand.Rand, string) (string, string, string) {
			return "POST", "/graphql", gql(gqlLeads, nil)
		}},
		{name: "GraphQL node(id:)", percent: 5, expect: 200, graphql: true, build: func(t *tenant, r *rand.Rand, _ string) (string, string, string) {
			return "POST", "/graphql", gql(gqlNode, map[string]any{"id": id(t, r)})
		}},
	}
}

// pick draws an op by its percentage.
func pick(ops []op, r *rand.Rand) *op {
	n := r.IntN(100)
	for i := range ops {
		if n -= ops[i].percent; n < 0 {
			return &ops[i]
		}
	}
	return &ops[len(ops)-1]
}

// outcome is how one request went.
type outcome int

const (
	ok         outcome = iota
	serverErr          // a 5xx
	transport          // no response: connection refused or reset, timeout
	unexpected         // another status than expected, or GraphQL errors
)

// load drives the server with closed-loop workers and counts what they get.
type load struct {
	base    string
	client  *http.Client
	tenants []tenant
	ops     []op
	run     string // unique per run, in the created leads' emails

	mu       sync.Mutex
	lat      []time.Duration // this window's latencies
	counts   [4]int          // this window's outcomes
	total    [4]int          // outcomes, whole run
	byOp     map[string]int  // requests per op, whole run
	examples [4][]string     // the first few problems of each outcome, whole run
	taken    time.Time       // when the window started
}

func newLoad(base string, conns int, tenants []tenant) *load {
	tr := &http.Transport{MaxIdleConns: 2 * conns, MaxIdleConnsPerHost: 2 * conns, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	return &load{
		base: base, client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		tenants: tenants, ops: mix(), run: strconv.FormatInt(time.Now().UnixNano(), 36),
		byOp: map[string]int{}, taken: time.Now(),
	}
}

// check sends every op once as every tenant and fails on the first that does
// not answer as expected, so a broken request fails before the soak starts.
func (l *load) check(ctx context.Context) error {
	r := rand.New(rand.NewPCG(0, 0))
	for i := range l.tenants {
		for j := range l.ops {
			if res, problem := l.do(ctx, &l.tenants[i], &l.ops[j], r, "check."+l.run+"."+strconv.Itoa(i*100+j)); res != ok {
				return fmt.Errorf("%s as %s: %s", l.ops[j].name, l.tenants[i].slug, problem)
			}
		}
	}
	return nil
}

// work is one worker's loop until ctx ends.
func (l *load) work(ctx context.Context, worker int) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(worker)))
	for seq := 0; ctx.Err() == nil; seq++ {
		t := &l.tenants[r.IntN(len(l.tenants))]
		o := pick(l.ops, r)
		start := time.Now()
		res, problem := l.do(ctx, t, o, r, fmt.Sprintf("%s.%d.%d", l.run, worker, seq))
		d := time.Since(start)
		if res == transport && ctx.Err() != nil {
			return // cancelled by the shutdown: not a failure
		}
		l.record(o.name, d, res, problem)
		if res == transport {
			time.Sleep(100 * time.Millisecond) // do not spin on a dead server
		}
	}
}

// do sends one request and classifies the answer.
func (l *load) do(ctx context.Context, t *tenant, o *op, r *rand.Rand, n string) (outcome, string) {
	method, path, body := o.build(t, r, n)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return transport, err.Error()
	}
	req.Header.Set("X-API-Key", t.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := l.client.Do(req)
	if err != nil {
		return transport, fmt.Sprintf("%s: %v", o.name, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	switch {
	case err != nil:
		return transport, fmt.Sprintf("%s: reading the body: %v", o.name, err)
	case res.StatusCode >= 500:
		return serverErr, fmt.Sprintf("%s: %d %.200s", o.name, res.StatusCode, b)
	case res.StatusCode != o.expect:
		return unexpected, fmt.Sprintf("%s: %d, want %d: %.200s", o.name, res.StatusCode, o.expect, b)
	case o.graphql && !graphqlOK(b):
		return unexpected, fmt.Sprintf("%s: %.200s", o.name, b)
	}
	return ok, ""
}

// graphqlOK says whether a GraphQL response has no errors and a value for
// every field asked for at the top.
func graphqlOK(b []byte) bool {
	var out struct {
		Data   map[string]json.RawMessage
		Errors []json.RawMessage
	}
	if json.Unmarshal(b, &out) != nil || len(out.Errors) > 0 || len(out.Data) == 0 {
		return false
	}
	for _, v := range out.Data {
		if string(v) == "null" {
			return false
		}
	}
	return true
}

func (l *load) record(name string, d time.Duration, res outcome, problem string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byOp[name]++
	l.counts[res]++
	l.total[res]++
	if res != transport {
		l.lat = append(l.lat, d)
	}
	if problem != "" && len(l.examples[res]) < 5 {
		l.examples[res] = append(l.examples[res], problem)
	}
}

// take ends the current window and returns its request figures.
func (l *load) take() window {
	l.mu.Lock()
	lat, counts, since := l.lat, l.counts, time.Since(l.taken)
	l.lat, l.counts, l.taken = make([]time.Duration, 0, len(lat)), [4]int{}, time.Now()
	l.mu.Unlock()
	slices.Sort(lat)
	w := window{Requests: len(lat) + counts[transport], Status5xx: counts[serverErr], TransportErrors: counts[transport], Unexpected: counts[unexpected]}
	w.RPS = float64(w.Requests) / since.Seconds()
	w.P50ms, w.P99ms = percentile(lat, 0.50), percentile(lat, 0.99)
	return w
}

// percentile of sorted latencies, in milliseconds (nearest rank).
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return float64(sorted[max(i, 0)]) / float64(time.Millisecond)
}
