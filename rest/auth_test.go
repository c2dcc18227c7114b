package rest_test

import (
	"testing"
	"time"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/apikey"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// Missing, unknown, revoked and expired keys are indistinguishable.
func TestInvalidKeysAllLookTheSame(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		revoked := w.Key(t, w.acme, w.acme.OwnerID, live, "full_access")
		expired := w.Key(t, w.acme, w.acme.OwnerID, live, "full_access")
		ctx := w.acme.System(live)
		past := time.Now().Add(-time.Minute)
		err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
			if _, err := c.APIKey.Update().Where(apikey.Last4(revoked[len(revoked)-4:])).SetRevokedAt(past).Save(ctx); err != nil {
				return err
			}
			_, err := c.APIKey.Update().Where(apikey.Last4(expired[len(expired)-4:])).SetExpiresAt(past).Save(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		collect := func(t *testing.T, res apitest.Response) {
			bodies = append(bodies, withoutMeta(t, res))
			if res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		}
		get := func(headers map[string]string) apitest.Request {
			return apitest.Request{Method: "GET", Path: "/v1/leads", Headers: headers}
		}
		want := []string{`"status":401`, `"code":"invalid_api_key"`}
		w.Run(t, []apitest.Scenario{
			{Name: "missing", Request: get(nil), Status: 401, Contains: want, Check: collect},
			{Name: "unknown", Request: get(map[string]string{"X-API-Key": "ldr_live_sk_" + "0123456789abcdefghijABCDEFGHIJ0123456789"}), Status: 401, Contains: want, Check: collect},
			{Name: "garbage", Request: get(map[string]string{"X-API-Key": "hunter2"}), Status: 401, Contains: want, Check: collect},
			{Name: "revoked", Request: get(map[string]string{"X-API-Key": revoked}), Status: 401, Contains: want, Check: collect},
			{Name: "expired", Request: get(map[string]string{"X-API-Key": expired}), Status: 401, Contains: want, Check: collect},
			{Name: "bearer unknown", Request: get(map[string]string{"Authorization": "Bearer ldr_live_sk_nope"}), Status: 401, Contains: want, Check: collect},
			{Name: "basic auth is not a key", Request: get(map[string]string{"Authorization": "Basic " + w.keys.full}), Status: 401, Contains: want, Check: collect},
		})
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("401 bodies differ:\n%s\n%s", bodies[0], b)
			}
		}
	})
}

// Each route refuses a key without its scope, naming the scope.
func TestEveryRouteRequiresItsScope(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		usersOnly := w.Key(t, w.acme, w.acme.OwnerID, live, "users:read")
		routes := []struct {
			method, path, body, scope string
		}{
			{"GET", "/v1/leads", "", "leads:read"},
			{"POST", "/v1/leads", `{}`, "leads:write"},
			{"GET", "/v1/leads/" + w.mine, "", "leads:read"},
			{"PATCH", "/v1/leads/" + w.mine, `{}`, "leads:write"},
			{"DELETE", "/v1/leads/" + w.mine, "", "leads:delete"},
			{"POST", "/v1/leads/" + w.mine + "/restore", "", "leads:delete"},
		}
		var scenarios []apitest.Scenario
		for _, r := range routes {
			scenarios = append(scenarios, apitest.Scenario{
				Name:    r.method + " " + r.path + " without " + r.scope,
				Request: apitest.Request{Method: r.method, Path: r.path, Key: usersOnly, Body: r.body},
				Status:  403, Contains: []string{`"code":"insufficient_scope"`, "'" + r.scope + "'"},
			})
		}
		w.Run(t, scenarios)
		if l := db.Client.Lead.GetX(w.acme.System(live), mustDecode(t, w, w.mine)); l.Version != 1 || l.ArchivedAt != nil {
			t.Errorf("a refused request changed the lead: version %d", l.Version)
		}
	})
}

func TestOnBehalfOf(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		create := func(key, target string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/leads", Key: key,
				Body:    `{"email":"obo@acme.test","firstName":"O","lastName":"B"}`,
				Headers: map[string]string{"X-On-Behalf-Of": target, "X-Request-Id": "test-request-0001", "User-Agent": "leadron-test/1"}}
		}
		var denied []string
		collect := func(t *testing.T, res apitest.Response) { denied = append(denied, withoutMeta(t, res)) }
		want := []string{`"code":"invalid_on_behalf_of"`}
		member := w.Codec.Encode(w.member.ID)
		w.Run(t, []apitest.Scenario{
			{Name: "owner's key acts as a member", Request: create(w.keys.full, member), Status: 201,
				Check: func(t *testing.T, res apitest.Response) {
					if got := res.Header.Get("X-Request-Id"); got != "test-request-0001" {
						t.Errorf("client request ID not kept: %q", got)
					}
					id := mustDecode(t, w, res.Data(t)["id"].(string))
					ev := db.Client.AuditEvent.Query().Where(auditevent.ResourceID(id)).OnlyX(w.acme.System(live))
					if ev.ActorID == nil || *ev.ActorID != w.acme.OwnerID || ev.OnBehalfOfID == nil || *ev.OnBehalfOfID != w.member.ID {
						t.Errorf("audit actor %v on behalf of %v; want owner %d for member %d", ev.ActorID, ev.OnBehalfOfID, w.acme.OwnerID, w.member.ID)
					}
					if ev.APIKeyID == nil || ev.RequestID != "test-request-0001" || ev.UserAgent != "leadron-test/1" || ev.IP != "127.0.0.1" {
						t.Errorf("audit request data: key %v, request %q, agent %q, ip %q", ev.APIKeyID, ev.RequestID, ev.UserAgent, ev.IP)
					}
					if ev.Changes["email"].New != "obo@acme.test" {
						t.Errorf("audit changes: %+v", ev.Changes)
					}
				}},
			{Name: "acting as a viewer takes the viewer's rights", Request: create(w.keys.full, w.Codec.Encode(w.view.ID)), Status: 403,
				Contains: []string{`"code":"insufficient_scope"`}},
			{Name: "a member's key may not", Request: create(w.keys.member, w.Codec.Encode(w.acme.OwnerID)), Status: 403, Contains: want, Check: collect},
			{Name: "another tenant's user", Request: create(w.keys.full, w.Codec.Encode(w.globex.OwnerID)), Status: 403, Contains: want, Check: collect},
			{Name: "an unknown user", Request: create(w.keys.full, w.Codec.Encode(w.member.ID+1000)), Status: 403, Contains: want, Check: collect},
			{Name: "a lead's ID", Request: create(w.keys.full, w.mine), Status: 403, Contains: want, Check: collect},
			{Name: "garbage", Request: create(w.keys.full, "x"), Status: 403, Contains: want, Check: collect},
		})
		for _, b := range denied[1:] {
			if b != denied[0] {
				t.Errorf("denials differ:\n%s\n%s", denied[0], b)
			}
		}
		if n := db.Client.Lead.Query().CountX(w.acme.System(live)); n != 2 {
			t.Errorf("acme has %d live leads, want 2", n)
		}
	})
}

// A key used many times a second records its last use once, not per request.
func TestLastUseIsWrittenRarely(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		get := apitest.Request{Method: "GET", Path: "/v1/leads?limit=1", Key: w.keys.full}
		w.Do(t, get)
		firstDone := time.Now()
		time.Sleep(20 * time.Millisecond)
		for range 50 {
			w.Do(t, get)
		}
		w.Server.Close()
		k := db.Client.APIKey.Query().Where(apikey.Last4(w.keys.full[len(w.keys.full)-4:])).OnlyX(w.acme.System(live))
		if k.LastUsedAt == nil {
			t.Fatal("lastUsedAt was not recorded")
		}
		// Had later requests written too, the last use would be theirs.
		if k.LastUsedAt.After(firstDone) {
			t.Errorf("lastUsedAt %v is later than the first request (%v): it was written again", *k.LastUsedAt, firstDone)
		}
		// Bookkeeping stays out of the audit log.
		if n := db.Client.AuditEvent.Query().Where(auditevent.Action("api_key.updated")).CountX(w.acme.System(live)); n != 0 {
			t.Errorf("recording key use logged %d audit events", n)
		}
	})
}
