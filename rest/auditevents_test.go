package rest_test

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/privacy"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// auditEventKeys are the fields of an audit event in responses.
var auditEventKeys = []string{"action", "actorId", "apiKeyId", "changes", "createdAt", "environment", "id", "ip", "onBehalfOfId",
	"requestId", "resourceId", "resourceType", "userAgent"}

// events returns the events of a list response.
func events(t *testing.T, res apitest.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, item := range res.JSON(t)["data"].([]any) {
		out = append(out, item.(map[string]any))
	}
	return out
}

// eachEvent checks that the list is not empty and that every event passes.
func eachEvent(check func(t *testing.T, ev map[string]any)) func(*testing.T, apitest.Response) {
	return func(t *testing.T, res apitest.Response) {
		t.Helper()
		evs := events(t, res)
		if len(evs) == 0 {
			t.Fatalf("no events\n%s", res.Body)
		}
		for _, ev := range evs {
			check(t, ev)
		}
	}
}

func TestAuditEvents(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		owner, member := w.Codec.Encode(w.acme.OwnerID), w.Codec.Encode(w.member.ID)
		start := time.Now().UTC()
		res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full,
			Body:    `{"email":"ada@lovelace.test","firstName":"Ada","lastName":"Lovelace","assignedTo":"` + member + `"}`,
			Headers: map[string]string{"X-Request-Id": "audit-test-0001", "User-Agent": "leadron-test/2"}})
		if res.Status != 201 {
			t.Fatalf("creating a lead: %s", res.Body)
		}
		lead := res.Data(t)["id"].(string)
		if res := w.Do(t, apitest.Request{Method: "PATCH", Path: "/v1/leads/" + lead, Key: w.keys.full, Body: `{"score":40,"status":"contacted"}`}); res.Status != 200 {
			t.Fatalf("updating the lead: %s", res.Body)
		}
		keyID, plain := newKey(t, w, w.keys.member, `{"name":"member's","environment":"live","scopes":["leads:read"]}`)

		list := func(q string) apitest.Request {
			return apitest.Request{Method: "GET", Path: "/v1/audit-events?" + q, Key: w.keys.full}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "the lead's creation, in full", Request: list("resourceId=" + lead + "&action=lead.created"), Status: 200,
				NotContains: append([]string{plain, "first_name", `"tenantId":` + strconv.Itoa(w.acme.ID)}, secrets...),
				Check: func(t *testing.T, res apitest.Response) {
					evs := events(t, res)
					if len(evs) != 1 {
						t.Fatalf("%d events, want 1\n%s", len(evs), res.Body)
					}
					ev := evs[0]
					if keys := slices.Sorted(maps.Keys(ev)); !slices.Equal(keys, auditEventKeys) {
						t.Errorf("event fields %v, want %v", keys, auditEventKeys)
					}
					want := map[string]any{"environment": "live", "action": "lead.created", "resourceType": "lead", "resourceId": lead,
						"actorId": owner, "onBehalfOfId": nil, "requestId": "audit-test-0001", "ip": "127.0.0.1", "userAgent": "leadron-test/2"}
					for k, v := range want {
						if ev[k] != v {
							t.Errorf("%s = %v, want %v", k, ev[k], v)
						}
					}
					if id, _ := ev["apiKeyId"].(string); len(id) < 16 {
						t.Errorf("apiKeyId %v is not an encoded ID", ev["apiKeyId"])
					}
					changes := ev["changes"].(map[string]any)
					for field, value := range map[string]any{"firstName": "Ada", "email": "ada@lovelace.test", "assignedTo": member} {
						if c, _ := changes[field].(map[string]any); c == nil || c["new"] != value || c["old"] != nil {
							t.Errorf("changes[%s] = %v, want new %v", field, changes[field], value)
						}
					}
					if c, ok := changes["tenantId"].(map[string]any); ok && c["new"] != "acme" {
						t.Errorf("changes show the tenant as %v", c["new"])
					}
				}},
			{Name: "an update shows old and new values", Request: list("resourceId=" + lead + "&action=lead.updated"), Status: 200,
				Contains: []string{`"score":{"old":0,"new":40}`, `"status":{"old":"new","new":"contacted"}`}},
			{Name: "by resource type", Request: list("resourceType=lead&limit=100"), Status: 200,
				Check: eachEvent(func(t *testing.T, ev map[string]any) {
					if ev["resourceType"] != "lead" {
						t.Errorf("event about %v", ev["resourceType"])
					}
				})},
			{Name: "by resource", Request: list("resourceId=" + lead), Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					var actions []string
					for _, ev := range events(t, res) {
						if ev["resourceId"] != lead {
							t.Errorf("event about %v", ev["resourceId"])
						}
						actions = append(actions, ev["action"].(string))
					}
					if want := []string{"lead.updated", "lead.created"}; !slices.Equal(actions, want) {
						t.Errorf("actions %v, want %v (newest first)", actions, want)
					}
				}},
			{Name: "by actor", Request: list("actorId=" + member), Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					evs := events(t, res)
					if len(evs) != 1 || evs[0]["action"] != "api_key.created" || evs[0]["resourceId"] != keyID || evs[0]["actorId"] != member {
						t.Errorf("events by the member: %v", evs)
					}
					changes := evs[0]["changes"].(map[string]any)
					if c, _ := changes["ownerId"].(map[string]any); c == nil || c["new"] != member {
						t.Errorf("ownerId change %v, want the encoded member ID", changes["ownerId"])
					}
					if _, ok := changes["keyHash"]; ok {
						t.Error("the key's hash is in the log")
					}
				}},
			{Name: "by action", Request: list("action=api_key.created&limit=100"), Status: 200, NotContains: []string{"lead.created"},
				Check: eachEvent(func(t *testing.T, ev map[string]any) {
					if ev["action"] != "api_key.created" {
						t.Errorf("action %v", ev["action"])
					}
				})},
			{Name: "created after", Request: list("createdAfter=" + url.QueryEscape(start.Format(time.RFC3339Nano)) + "&limit=100"), Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					if n := len(events(t, res)); n != 3 {
						t.Errorf("%d events after the start, want 3", n)
					}
				}},
			{Name: "created before", Request: list("createdBefore=" + url.QueryEscape(start.Format(time.RFC3339Nano)) + "&resourceType=lead"), Status: 200,
				NotContains: []string{lead}, Contains: []string{w.mine}},
			{Name: "a range with nothing in it", Request: list("createdAfter=2000-01-01T00:00:00Z&createdBefore=2001-01-01T00:00:00Z"), Status: 200,
				Contains: []string{`"data":[]`}},
			{Name: "oldest first", Request: list("sort=createdAt&limit=1"), Status: 200, Contains: []string{`"hasMore":true`,
				`"id":"` + w.Codec.Encode(db.Client.AuditEvent.Query().Order(auditevent.ByCreatedAt(), auditevent.ByID()).FirstIDX(w.acme.System(live))) + `"`}},
			{Name: "unknown parameter", Request: list("resource=lead"), Status: 422, Contains: []string{"Unknown query parameter 'resource'"}, Check: hasFields("resource")},
			{Name: "malformed resourceId", Request: list("resourceId=not-an-id"), Status: 422, Check: hasFields("resourceId")},
			{Name: "a resource type the log never holds", Request: list("resourceType=bogus"), Status: 422, Check: hasFields("resourceType"),
				Contains: []string{"resourceType must be one of: api_key, duplicate_candidate, lead, user"}},
			{Name: "actorId of another type", Request: list("actorId=" + lead), Status: 422, Check: hasFields("actorId")},
			{Name: "bad values at once", Request: list("createdAfter=yesterday&createdBefore=1&limit=101&sort=action"), Status: 422,
				Check: hasFields("limit", "sort", "createdAfter", "createdBefore")},
			{Name: "repeated parameter", Request: list("action=a&action=b"), Status: 422, Check: hasFields("action")},
			{Name: "a key without audit:read", Request: apitest.Request{Method: "GET", Path: "/v1/audit-events", Key: w.keys.writer}, Status: 403,
				Contains: []string{`"code":"insufficient_scope"`, "'audit:read'"}},
			{Name: "a member's full_access key", Request: apitest.Request{Method: "GET", Path: "/v1/audit-events", Key: w.keys.member}, Status: 403,
				Contains: []string{"'audit:read'"}},
			{Name: "globex sees none of acme's log", Request: apitest.Request{Method: "GET", Path: "/v1/audit-events?limit=100", Key: w.keys.globex}, Status: 200,
				Contains: []string{w.theirs}, NotContains: []string{lead, w.mine, keyID, owner}},
			{Name: "the sandbox log is separate", Request: apitest.Request{Method: "GET", Path: "/v1/audit-events?limit=100&resourceType=lead", Key: w.keys.sandbox}, Status: 200,
				Contains: []string{w.mineSandbox, `"environment":"sandbox"`}, NotContains: []string{lead, w.mine, `"environment":"live"`}},
		})

		// Paging one by one walks the whole log once, newest first.
		ctx := w.acme.System(live)
		total := db.Client.AuditEvent.Query().CountX(ctx)
		seen := map[string]bool{}
		var last string
		for after, pages := "", 0; ; pages++ {
			q := "limit=1"
			if after != "" {
				q += "&after=" + after
			}
			res := w.Do(t, list(q))
			if res.Status != 200 {
				t.Fatalf("page %d: %s", pages, res.Body)
			}
			for _, ev := range events(t, res) {
				id := ev["id"].(string)
				if seen[id] {
					t.Fatalf("event %s seen twice", id)
				}
				seen[id] = true
				if created := ev["createdAt"].(string); last != "" && created > last {
					t.Errorf("event %s at %s follows one at %s", id, created, last)
				}
				last = ev["createdAt"].(string)
			}
			p := res.JSON(t)["meta"].(map[string]any)["pagination"].(map[string]any)
			if p["hasMore"] != true {
				break
			}
			after = p["nextCursor"].(string)
			if pages > total {
				t.Fatal("paging does not end")
			}
		}
		if len(seen) != total {
			t.Errorf("paged through %d events, want %d", len(seen), total)
		}
	})
}

// The log is append-only: no route changes it, and neither can the data
// layer.
func TestAuditLogCannotBeChanged(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.acme.System(live)
		ev := db.Client.AuditEvent.Query().Order(auditevent.ByID()).FirstX(ctx)
		id := w.Codec.Encode(ev.ID)
		total := db.Client.AuditEvent.Query().CountX(ctx)
		req := func(method, path, b string) apitest.Request {
			// These routes are absent from the OpenAPI document on purpose.
			return apitest.Request{Method: method, Path: path, Key: w.keys.full, Body: b, OffContract: true}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "PATCH an event", Request: req("PATCH", "/v1/audit-events/"+id, `{"action":"lead.deleted"}`), Status: 404,
				Contains: []string{`"success":false`, `"code":"not_found"`}},
			{Name: "DELETE an event", Request: req("DELETE", "/v1/audit-events/"+id, ""), Status: 404, Contains: []string{`"code":"not_found"`}},
			{Name: "GET an event", Request: req("GET", "/v1/audit-events/"+id, ""), Status: 404, Contains: []string{`"code":"not_found"`}},
			{Name: "DELETE the log", Request: req("DELETE", "/v1/audit-events", ""), Status: 405,
				Contains: []string{`"success":false`, `"code":"method_not_allowed"`},
				Check: func(t *testing.T, res apitest.Response) {
					if allow := res.Header.Get("Allow"); allow != "GET" {
						t.Errorf("Allow: %q", allow)
					}
				}},
			{Name: "POST to the log", Request: req("POST", "/v1/audit-events", `{"action":"lead.created"}`), Status: 405, Contains: []string{`"code":"method_not_allowed"`}},
		})
		update := store.InTx(ctx, db.Client, func(c *ent.Client) error { return c.AuditEvent.Update().Exec(ctx) })
		if !errors.Is(update, privacy.Deny) {
			t.Errorf("update: got %v, want a denial", update)
		}
		updateOne := store.InTx(ctx, db.Client, func(c *ent.Client) error { return c.AuditEvent.UpdateOneID(ev.ID).Exec(ctx) })
		if !errors.Is(updateOne, privacy.Deny) {
			t.Errorf("update one: got %v, want a denial", updateOne)
		}
		del := store.InTx(ctx, db.Client, func(c *ent.Client) error { return c.AuditEvent.DeleteOneID(ev.ID).Exec(ctx) })
		if !errors.Is(del, privacy.Deny) {
			t.Errorf("delete: got %v, want a denial", del)
		}
		if n := db.Client.AuditEvent.Query().CountX(ctx); n != total {
			t.Errorf("the log has %d events, want %d", n, total)
		}
		if got := db.Client.AuditEvent.GetX(ctx, ev.ID); got.Action != ev.Action || !got.CreatedAt.Equal(ev.CreatedAt) {
			t.Errorf("event changed: %+v", got)
		}
	})
}
