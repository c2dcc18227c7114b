package rest_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// While PostgreSQL is unreachable, requests fail fast with 503 in the
// envelope and readiness says so; once it is back, service resumes without
// a restart, and no write is half-applied.
func TestDatabaseOutage(t *testing.T) {
	raw := testutil.NewDatabaseURL(t, dialect.Postgres)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testutil.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	q := u.Query()
	q.Set("connect_timeout", "1")
	u.RawQuery = q.Encode()
	db, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
