package rest_test

// Benchmarks of the REST hot paths (issue 7). They run on SQLite so that
// `make test`'s `-bench . -benchtime 1x` pass stays fast; the database is
// not what they measure. Run them with:
//
//	go test -run xxx -bench . -benchmem ./rest/

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
	"github.com/leadron/leadron/rest"
)

// benchLead is a lead with every field set, as a list page holds them.
func benchLead(t testing.TB, db *store.DB, tn testutil.Tenant, email string) *ent.Lead {
	t.Helper()
	ctx := tn.System(viewer.Live)
	var l *ent.Lead
	err := store.InTx(ctx, db.Client, func(c *ent.Client) (err error) {
		l, err = c.Lead.Create().SetEmail(email).SetFirstName("Jane").SetLastName("Doe").
			SetPhone("+1 (415) 555-0134").SetSource("web").SetStatus("contacted").SetScore(72).
			SetAssignedTo(tn.OwnerID).
			SetCustomFields(customfields.MustFromMap(map[string]any{"company": "Acme Corp", "jobTitle": "VP Sales", "employees": 250, "newsletter": true})).
			Save(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// BenchmarkAPIKey measures authentication plus the rate-limit decision in
// front of every /v1 request (rest.Gate): a key found in the 5-second cache,
// a key that must be looked up again (cache miss), and an unknown key.
func BenchmarkAPIKey(b *testing.B) {
	db := testutil.NewDB(b, dialect.SQLite)
	env := apitest.New(b, db)
	tn := testutil.NewTenantOnPlan(b, db, "acme", "team")
	setLimit(b, db, tn)
	k, plain, err := account.CreateAPIKey(tn.System(viewer.Live), db.Client, account.KeyInput{Name: "bench", OwnerID: tn.OwnerID, Scopes: []string{"full_access"}})
	if err != nil {
		b.Fatal(err)
	}
	auth := rest.NewAuthenticator(db.Client, env.Codec, testutil.Logger(b), "")
	b.Cleanup(auth.Wait)
	huge := ratelimit.Limit{PerMinute: 1 << 30, Burst: 1 << 30}
	gate := rest.NewGate(auth, ratelimit.NewMemory(), rest.RateLimits{IP: huge, AuthFailure: huge}, testutil.Logger(b))
	var admitted atomic.Int64
	h := gate.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { admitted.Add(1) }))
	req := httptest.NewRequest("GET", "/v1/leads", nil)
	serve := func(b *testing.B, key string, want int) {
		req.Header.Set("X-API-Key", key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
		}
	}
	serve(b, plain, 200) // fill the cache and record the key's use
	auth.Wait()

	b.Run("cache hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, plain, 200)
		}
	})
	b.Run("cache miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			auth.ForgetKey(k.ID)
			serve(b, plain, 200)
		}
	})
	b.Run("unknown key", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			// A new key each time, so every one is a cache miss.
			serve(b, "ldr_live_sk_"+strings.Repeat("x", 32)+strconvI(i), 401)
		}
	})
	if admitted.Load() == 0 {
		b.Fatal("nothing was admitted")
	}
}

func strconvI(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(buf[n:])
		}
	}
}

// BenchmarkRateLimitHeaders is the part of the rate-limit decision after
// the buckets: picking the tighter result and writing X-RateLimit-*.
// (ratelimit.BenchmarkMemoryAllow measures the buckets themselves.)
func BenchmarkRateLimitHeaders(b *testing.B) {
	now := time.Now()
	ip := ratelimit.Result{Allowed: true, Limit: 6000, Remaining: 599, Reset: now.Add(time.Second)}
	tenant := ratelimit.Result{Allowed: true, Limit: 5000, Remaining: 410, Reset: now.Add(2 * time.Second)}
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		ratelimit.WriteHeaders(h, ratelimit.Tighter(ip, tenant))
	}
}

// BenchmarkEnvelope writes one lead and a page of 50 in the success
// envelope, as GET /v1/leads/{id} and GET /v1/leads?limit=50 do.
func BenchmarkEnvelope(b *testing.B) {
	db := testutil.NewDB(b, dialect.SQLite)
	env := apitest.New(b, db)
	tn := testutil.NewTenantOnPlan(b, db, "acme", "team")
	ctx := tn.System(viewer.Live)
	l := rest.LeadForBench(ctx, env.Codec, benchLead(b, db, tn, "jane@acme.test"))
	rows := make([]rest.Lead, 50)
	for i := range rows {
		rows[i] = l
	}
	next := "eyJzIjoiLWNyZWF0ZWRBdCIsInYiOiIyMDI2LTExLTI0VDEzOjUxOjAyLjk3MTEwMloiLCJpIjoiSE9PbjJldlpkY1ROZ3YwVyJ9"
	req := httptest.NewRequest("GET", "/v1/leads", nil)
	b.Run("one lead", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rest.OKForBench(httptest.NewRecorder(), req, &l)
		}
	})
	b.Run("page of 50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rest.PageForBench(httptest.NewRecorder(), req, rows, rest.Pagination{Limit: 50, HasMore: true, NextCursor: &next})
		}
	})
	b.Run("error", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rest.NotFound(httptest.NewRecorder(), req)
		}
	})
}

// BenchmarkLeadJSON is a lead's trip through the API: a POST body decoded,
// and a stored lead converted (IDs encoded) and marshalled.
func BenchmarkLeadJSON(b *testing.B) {
	db := testutil.NewDB(b, dialect.SQLite)
	env := apitest.New(b, db)
	tn := testutil.NewTenantOnPlan(b, db, "acme", "team")
	stored := benchLead(b, db, tn, "jane@acme.test")
	ctx := tn.System(viewer.Live)
	body := `{"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe","phone":"+1-555-0199","source":"web","score":40,"customFields":{"company":"Acme Inc","role":"VP Sales","seats":25,"newsletter":true}}`
	b.Run("decode body", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("POST", "/v1/leads", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			if err := rest.DecodeLeadForBench(env.Codec, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("convert", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = rest.LeadForBench(ctx, env.Codec, stored)
		}
	})
	b.Run("convert and marshal", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.ReportAllocs()
		for b.Loop() {
			l := rest.LeadForBench(ctx, env.Codec, stored)
			if _, err := rest.AppendLeadForBench(buf[:0], &l); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRequest is a whole request through the real handler in process
// (no network): middleware, auth from the cache, rate limits, the query, and
// the envelope, on each database. On PostgreSQL ns/op includes the round
// trip; the server's CPU per request is the process's CPU time over a fixed
// -benchtime (docs/performance.md, change 17).
func BenchmarkRequest(b *testing.B) {
	for _, d := range testutil.Dialects {
		b.Run(d, func(b *testing.B) {
			db := testutil.NewDB(b, d)
			env := apitest.New(b, db, func(d *server.Deps) {
				d.RateLimits = rest.RateLimits{IP: ratelimit.Limit{PerMinute: 1 << 30, Burst: 1 << 30}, AuthFailure: ratelimit.Limit{PerMinute: 60, Burst: 10}}
			})
			tn := testutil.NewTenantOnPlan(b, db, "acme", "team")
			setLimit(b, db, tn)
			key := env.Key(b, tn, tn.OwnerID, viewer.Live, "full_access")
			var id string
			for i := range 60 {
				l := benchLead(b, db, tn, "lead"+strconvI(i)+"@acme.test")
				id = env.Codec.Encode(l.ID)
			}
			for _, r := range []struct{ name, path string }{{"get by id", "/v1/leads/" + id}, {"list 50", "/v1/leads?limit=50"}} {
				b.Run(r.name, func(b *testing.B) {
					req := httptest.NewRequest("GET", r.path, nil)
					req.Header.Set("X-API-Key", key)
					b.ReportAllocs()
					for b.Loop() {
						w := httptest.NewRecorder()
						env.Server.ServeHTTP(w, req)
						if w.Code != 200 {
							b.Fatalf("%s: %d %s", r.path, w.Code, w.Body)
						}
					}
				})
			}
		})
	}
}

// setLimit lifts the tenant's rate limit so a benchmark is never refused.
func setLimit(t testing.TB, db *store.DB, tn testutil.Tenant) {
	t.Helper()
	q := "UPDATE tenants SET plan = 'enterprise', rate_limit_per_minute = ?, rate_limit_burst = ? WHERE id = ?"
	if db.Dialect == dialect.Postgres {
		q = "UPDATE tenants SET plan = 'enterprise', rate_limit_per_minute = $1, rate_limit_burst = $2 WHERE id = $3"
	}
	if _, err := db.SQL.Exec(q, 1<<30, 1<<30, tn.ID); err != nil {
		t.Fatal(err)
	}
}

// TestDatabaseRoundTrips pins the target: with the API key cached,
// GET /v1/leads/{id} costs exactly one database round trip, and so does a
// page of the list.
func TestDatabaseRoundTrips(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, plain *store.DB) {
		db, sent := testutil.CountStatements(plain)
		env := apitest.New(t, db)
		tn := testutil.NewTenantOnPlan(t, db, "acme", "team")
		key := env.Key(t, tn, tn.OwnerID, viewer.Live, "leads:read")
		id := env.Codec.Encode(benchLead(t, db, tn, "jane@acme.test").ID)
		for _, path := range []string{"/v1/leads/" + id, "/v1/leads?limit=50"} {
			get := func() {
				t.Helper()
				if res := env.Do(t, apitest.Request{Method: "GET", Path: path, Key: key}); res.Status != 200 {
					t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
				}
			}
			get() // the key is now cached, and its use recorded
			env.Server.Close()
			const n = 5
			sent.Reset()
			for range n {
				get()
			}
			env.Server.Close()
			if got := sent.Count(); got != n {
				t.Errorf("GET %s: %d round trips for %d requests, want exactly 1 each", path, got, n)
			}
		}
	})
}

// TestCreateIsOneRoundTrip: on PostgreSQL a create's whole transaction
// (the lead, its audit event, its duplicate-check job and the commit)
// reaches the database in one round trip, the lead and the event numbered
// ahead (pgxdriver.PreallocateIDs), and all of it commits.
func TestCreateIsOneRoundTrip(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	env := apitest.New(t, db)
	tn := testutil.NewTenantOnPlan(t, db, "acme", "team")
	key := env.Key(t, tn, tn.OwnerID, viewer.Live, "leads:write")
	create := func(i int) int {
		t.Helper()
		res := env.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: key,
			Body: `{"email":"lead` + strconv.Itoa(i) + `@acme.test","firstName":"P","lastName":"N","phone":"+1 415 555 01` + strconv.Itoa(10+i) + `","customFields":{"plan":"pro"}}`})
		if res.Status != 201 {
			t.Fatalf("POST /v1/leads: %d %s", res.Status, res.Body)
		}
		id, err := env.Codec.Decode(res.Data(t)["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// The key is then cached and its use recorded, the statements are
	// prepared on the connection, and a block of IDs is drawn.
	for i := range 3 {
		create(i)
	}
	waitForKeyUse(t, db)
	const n = 5
	before := proxy.Flights()
	created := make([]int, 0, n)
	for i := range n {
		created = append(created, create(3+i))
	}
	if got := proxy.Flights() - before; got != n {
		t.Errorf("%d round trips for %d creates, want exactly 1 each", got, n)
	}
	ctx := tn.System(viewer.Live)
	queued, err := db.Jobs.Jobs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range created {
		if _, err := db.Client.Lead.Get(ctx, id); err != nil {
			t.Errorf("lead %d: %v", id, err)
		}
		events := db.Client.AuditEvent.Query().Where(auditevent.ResourceID(id), auditevent.Action("lead.created")).CountX(ctx)
		if events != 1 {
			t.Errorf("lead %d: %d lead.created events, want 1", id, events)
		}
		found := slices.ContainsFunc(queued, func(j *rivertype.JobRow) bool {
			var args jobs.DuplicateCheckArgs
			return j.Kind == jobs.DuplicateCheckKind && json.Unmarshal(j.EncodedArgs, &args) == nil && args.LeadID == id
		})
		if !found {
			t.Errorf("lead %d: no duplicate-check job", id)
		}
		// One transaction wrote all three: River's insert went before
		// the commit it carried, not after it.
		var leadTx, eventTx, jobTx string
		row := db.Pool.QueryRow(context.Background(), `SELECT
			(SELECT xmin::text FROM leads WHERE id = $1),
			(SELECT xmin::text FROM audit_events WHERE resource_id = $1 AND action = 'lead.created'),
			(SELECT xmin::text FROM river_job WHERE (args->>'lead_id')::bigint = $1)`, id)
		if err := row.Scan(&leadTx, &eventTx, &jobTx); err != nil {
			t.Fatal(err)
		}
		if leadTx != eventTx || leadTx != jobTx {
			t.Errorf("lead %d written by transaction %s, its event by %s, its job by %s; want one", id, leadTx, eventTx, jobTx)
		}
	}
}

// waitForKeyUse waits until the API key's first use is recorded (in the
// background), so that its write does not fall among the statements a
// test counts.
func waitForKeyUse(t *testing.T, db *store.DB) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var used bool
		if err := db.Pool.QueryRow(context.Background(), `SELECT bool_and(last_used_at IS NOT NULL) FROM api_keys`).Scan(&used); err != nil {
			t.Fatal(err)
		}
		if used {
			return
		}
	}
	t.Fatal("the API key's use was not recorded within 5s")
}

// A create with a phone costs its transaction's statements only: the
// tenant's phone region comes with the cached credential, not from a query
// of the tenants table, and the phone is still read in that region.
func TestCreateTakesTheRegionFromTheCredential(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, plain *store.DB) {
		db, sent := testutil.CountStatements(plain)
		env := apitest.New(t, db)
		tn := testutil.NewTenantOnPlan(t, db, "globex", "team")
		if err := db.Client.Tenant.UpdateOneID(tn.ID).SetDefaultRegion("GB").Exec(tn.System(viewer.Live)); err != nil {
			t.Fatal(err)
		}
		key := env.Key(t, tn, tn.OwnerID, viewer.Live, "leads:write", "leads:read")
		create := func(email string) apitest.Response {
			t.Helper()
			res := env.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: key,
				Body: `{"email":"` + email + `","firstName":"P","lastName":"N","phone":"020 7946 0958"}`})
			if res.Status != 201 {
				t.Fatalf("POST /v1/leads: %d %s", res.Status, res.Body)
			}
			return res
		}
		create("first@globex.test") // the key is now cached, and its use recorded
		env.Server.Close()
		sent.Reset()
		res := create("second@globex.test")
		for _, q := range sent.Sent() {
			if strings.Contains(q, "tenants") {
				t.Errorf("a create queried the tenants table: %s", q)
			}
		}
		id, err := env.Codec.Decode(res.Data(t)["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		l := plain.Client.Lead.GetX(tn.System(viewer.Live), id)
		if l.PhoneNormalized == nil || *l.PhoneNormalized != "+442079460958" {
			t.Errorf("phone normalized to %v, want +442079460958 (read in GB)", l.PhoneNormalized)
		}
	})
}

// TestReadsSendTheBaselinesStatements pins the SQL of a GET by ID and of a
// list's first and later pages, byte for byte, to the statements
// bench/baseline sends for them (its getSQL, firstSQL and afterSQL), so
// that the load benchmark compares the same database work and the
// optimizations of ent's statement building (ent/qualified.go, the
// viewer's scope in internal/rule) change no text unnoticed.
func TestReadsSendTheBaselinesStatements(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, plain *store.DB) {
		db, sent := testutil.CountStatements(plain)
		env := apitest.New(t, db)
		tn := testutil.NewTenantOnPlan(t, db, "acme", "team")
		key := env.Key(t, tn, tn.OwnerID, viewer.Live, "leads:read")
		id := env.Codec.Encode(benchLead(t, db, tn, "jane@acme.test").ID)
		benchLead(t, db, tn, "john@acme.test")
		get := func(path string) apitest.Response {
			t.Helper()
			res := env.Do(t, apitest.Request{Method: "GET", Path: path, Key: key})
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
			}
			return res
		}
		get("/v1/leads/" + id) // the key is now cached
		pagination, _ := get("/v1/leads?limit=1").JSON(t)["meta"].(map[string]any)["pagination"].(map[string]any)
		cursor, _ := pagination["nextCursor"].(string)
		if cursor == "" {
			t.Fatal("no nextCursor after the first of two leads")
		}
		q, p := `"`, func(n int) string { return "$" + strconv.Itoa(n) }
		if db.Dialect == dialect.SQLite {
			q, p = "`", func(int) string { return "?" }
		}
		col := func(c string) string { return q + "leads" + q + "." + q + c + q }
		columns := make([]string, len(lead.Columns))
		for i, c := range lead.Columns {
			columns[i] = col(c)
		}
		from := "SELECT " + strings.Join(columns, ", ") + " FROM " + q + "leads" + q + " WHERE "
		scope := func(n int) string {
			return "(" + col("tenant_id") + " = " + p(n) + " AND " + col("environment") + " = " + p(n+1) + ")"
		}
		current := "(" + col("merged_into") + " IS NULL AND " + col("archived_at") + " IS NULL)"
		newestFirst := " ORDER BY " + col("created_at") + " DESC, " + col("id") + " DESC LIMIT 51"
		for _, tc := range []struct {
			name, path, want string
		}{
			{"GET by ID", "/v1/leads/" + id, from + col("id") + " = " + p(1) + " AND " + scope(2) + " LIMIT 2"},
			{"first page", "/v1/leads?limit=50", from + current + " AND " + scope(1) + newestFirst},
			{"page after a cursor", "/v1/leads?limit=50&after=" + cursor,
				from + "(" + current + " AND (" + col("created_at") + ", " + col("id") + ") < (" + p(1) + ", " + p(2) + ")) AND " +
					scope(3) + newestFirst},
		} {
			t.Run(tc.name, func(t *testing.T) {
				env.Server.Close()
				sent.Reset()
				get(tc.path)
				env.Server.Close()
				if got := sent.Sent(); len(got) != 1 || got[0] != tc.want {
					t.Errorf("sent %q\nwant %q", got, tc.want)
				}
			})
		}
	})
}
