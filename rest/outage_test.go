package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/rest"
	"github.com/riverqueue/river/rivertype"
)

// While PostgreSQL is unreachable, requests fail fast with 503 in the
// envelope and readiness says so; once it is back, service resumes without
// a restart, and no write is half-applied.
func TestDatabaseOutage(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	const timeout = 2 * time.Second
	w := newWorld(t, db, func(d *server.Deps) { d.RequestTimeout = timeout })

	create := func(email string) apitest.Request {
		return apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full,
			Body: `{"email":"` + email + `","firstName":"O","lastName":"U"}`}
	}
	unavailable := []string{`"code":"service_unavailable"`}
	for _, mode := range []struct {
		name  string
		sever func()
	}{{"refused", proxy.Cut}, {"black-holed", proxy.Hang}} {
		t.Run(mode.name, func(t *testing.T) {
			// Warm the key cache, so the failure is the data's, not auth's.
			w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads", Key: w.keys.full})
			mode.sever()
			start := time.Now()
			w.Run(t, []apitest.Scenario{
				{Name: "read", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + w.mine, Key: w.keys.full}, Status: 503, Contains: unavailable},
				{Name: "write", Request: create("during-" + mode.name + "@acme.test"), Status: 503, Contains: unavailable},
			})
			if res := w.Do(t, apitest.Request{Method: "GET", Path: "/readyz", OffContract: true}); res.Status != 503 {
				t.Errorf("/readyz during the outage: %d", res.Status)
			}
			if took := time.Since(start); took > 3*timeout+2*time.Second {
				t.Errorf("the outage's answers took %v; the timeout is %v", took, timeout)
			}
			proxy.Restore()
			deadline := time.Now().Add(10 * time.Second)
			for {
				res := w.Do(t, create("after-"+mode.name+"@acme.test"))
				if res.Status == 201 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no recovery after the restore: %d %s", res.Status, res.Body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if res := w.Do(t, apitest.Request{Method: "GET", Path: "/readyz", OffContract: true}); res.Status != 200 {
				t.Errorf("/readyz after the restore: %d", res.Status)
			}
		})
	}
	// Every lead has its audit event, and none was written during the cut.
	ctx := w.acme.System(live)
	leads := db.Client.Lead.Query().AllX(ctx)
	for _, l := range leads {
		if n := db.Client.AuditEvent.Query().Where(auditevent.ResourceID(l.ID), auditevent.Action("lead.created")).CountX(ctx); n != 1 {
			t.Errorf("lead %s has %d lead.created events", l.Email, n)
		}
		if len(l.Email) > 7 && l.Email[:7] == "during-" {
			t.Errorf("a write during the outage landed: %s", l.Email)
		}
	}
}

// 32 clients create 1,000 leads, each retrying with its Idempotency-Key on
// any error, while the database connection is cut at random moments. Every
// lead is written exactly once, with exactly one audit event.
func TestNoLostOrDoubledWritesUnderCuts(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	w := newWorld(t, db, func(d *server.Deps) {
		d.RequestTimeout = 2 * time.Second
		// Every client shares one IP; retries must not run into its limit.
		d.RateLimits = rest.RateLimits{IP: ratelimit.Limit{PerMinute: 10_000_000, Burst: 1_000_000}, AuthFailure: rest.DefaultRateLimits.AuthFailure}
	})
	// Nor into the tenant's.
	ctx := w.acme.System(live)
	if err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
		return c.Tenant.UpdateOneID(w.acme.ID).SetRateLimitPerMinute(1_000_000).SetRateLimitBurst(100_000).Exec(ctx)
	}); err != nil {
		t.Fatal(err)
	}

	// The duplicate checks run beside, through the same proxied database,
	// so the cuts hit them too: a failed attempt is retried soon, and a job
	// whose worker lost track of it is rescued after 5 s.
	testutil.StartJobs(t, db, jobs.Config{RetryDelay: 100 * time.Millisecond, RescueStuckJobsAfter: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler)}) // River logs every cut
	began := time.Now()

	const clients, total = 32, 1000
	stop := make(chan struct{})
	chaos := make(chan struct{})
	go func() { // cut for 20-80 ms every 100-400 ms
		defer close(chaos)
		r := mrand.New(mrand.NewPCG(7, 11))
		for {
			select {
			case <-stop:
				proxy.Restore()
				return
			case <-time.After(time.Duration(100+r.IntN(300)) * time.Millisecond):
			}
			proxy.Cut()
			time.Sleep(time.Duration(20+r.IntN(60)) * time.Millisecond)
			proxy.Restore()
		}
	}()
	var wg sync.WaitGroup
	var retries atomic.Int64
	next := atomic.Int64{}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > total {
					return
				}
				req := apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full,
					Body:    fmt.Sprintf(`{"email":"chaos%d@acme.test","firstName":"C","lastName":"%d"}`, n, n),
					Headers: map[string]string{"Idempotency-Key": fmt.Sprintf("chaos-%d", n)}}
				for deadline := time.Now().Add(time.Minute); ; {
					res := w.Do(t, req)
					if res.Status == 201 {
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("lead %d never got through: %d %s", n, res.Status, res.Body)
						return
					}
					retries.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-chaos
	leads := db.Client.Lead.Query().Where(lead.EmailHasPrefix("chaos")).CountX(ctx)
	distinct := len(db.Client.Lead.Query().Where(lead.EmailHasPrefix("chaos")).GroupBy(lead.FieldEmail).StringsX(ctx))
	events := db.Client.AuditEvent.Query().Where(auditevent.Action("lead.created")).CountX(ctx)
	t.Logf("%d retries; the leads took %s", retries.Load(), time.Since(began).Round(time.Millisecond))
	if leads != total || distinct != total {
		t.Errorf("%d leads (%d distinct), want exactly %d", leads, distinct, total)
	}
	if events != total+1 { // and the fixture's lead
		t.Errorf("%d lead.created events, want %d", events, total+1)
	}
	// Exactly one duplicate check per lead, each completed.
	chaosLeads := map[int]bool{}
	for _, id := range db.Client.Lead.Query().Where(lead.EmailHasPrefix("chaos")).IDsX(ctx) {
		chaosLeads[id] = true
	}
	checks := map[int]int{}
	// A check whose completion a cut lost stays running until River's
	// rescuer, which looks every 30 s, finds it stuck (after 5 s here) and
	// it is retried: a minute and a half bounds that with room to spare.
	for _, j := range testutil.WaitForJobsWithin(t, db, 90*time.Second) {
		var args jobs.DuplicateCheckArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil || !chaosLeads[args.LeadID] {
			continue
		}
		if j.State != rivertype.JobStateCompleted {
			t.Errorf("the duplicate check of lead %d is %s: %+v", args.LeadID, j.State, j.Errors)
		}
		checks[args.LeadID]++
	}
	for id := range chaosLeads {
		if checks[id] != 1 {
			t.Errorf("lead %d has %d duplicate checks, want 1", id, checks[id])
		}
	}
	t.Logf("%d completed duplicate checks after %s", len(checks), time.Since(began).Round(time.Millisecond))
}

// proxiedPostgres opens a fresh PostgreSQL database through a proxy the
// test can cut.
func proxiedPostgres(t *testing.T) (*store.DB, *testutil.Proxy) {
	t.Helper()
	raw, proxy := testutil.Proxied(t, testutil.NewDatabaseURL(t, dialect.Postgres))
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("connect_timeout", "1")
	u.RawQuery = q.Encode()
	db, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, proxy
}
