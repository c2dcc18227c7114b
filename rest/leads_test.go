package rest_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// specLeadKeys are the fields of the spec's lead example, exactly.
var specLeadKeys = []string{"assignedTo", "createdAt", "customFields", "email", "firstName", "id", "lastName", "phone", "score", "source", "status", "tenantId", "updatedAt"}

func TestCreateLead(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		post := func(key, b string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/leads", Key: key, Body: b}
		}
		valid := `"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe"`
		w.Run(t, []apitest.Scenario{
			{Name: "the spec's example", Request: post(w.keys.full, `{"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe","phone":"+1-555-0199","source":"web","customFields":{"company":"Acme Inc","role":"VP Sales"}}`),
				Status:   201,
				Contains: []string{`"success":true`, `"status":201`, `"message":"Resource created successfully"`, `"tenantId":"acme"`, `"status":"new"`, `"score":0`, `"assignedTo":null`, `"version":"v1"`, `"company":"Acme Inc"`},
				Check: func(t *testing.T, res apitest.Response) {
					d := res.Data(t)
					keys := slices.Sorted(maps.Keys(d))
					if !slices.Equal(keys, specLeadKeys) {
						t.Errorf("lead fields %v, want the spec's %v", keys, specLeadKeys)
					}
					if id := d["id"].(string); len(id) < 16 || len(id) > 17 {
						t.Errorf("id %q is not 16-17 characters", id)
					}
					if ts := d["createdAt"].(string); len(ts) != len("2026-02-08T14:30:00.000Z") || !strings.HasSuffix(ts, "Z") {
						t.Errorf("createdAt %q is not RFC 3339 UTC with milliseconds", ts)
					}
				}},
			{Name: "empty optional fields are present", Request: post(w.keys.full, body(valid)), Status: 201,
				Contains: []string{`"phone":null`, `"source":null`, `"assignedTo":null`, `"customFields":{}`}},
			{Name: "bearer key", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Body: body(valid),
				Headers: map[string]string{"Authorization": "Bearer " + w.keys.full}}, Status: 201},
			{Name: "every required field missing", Request: post(w.keys.full, `{}`), Status: 422,
				Contains: []string{`"code":"validation_failed"`, `"message":"Validation failed"`, `"code":"required"`},
				Check:    hasFields("email", "firstName", "lastName")},
			{Name: "bad email", Request: post(w.keys.full, `{"email":"nope","firstName":"J","lastName":"D"}`), Status: 422,
				Contains: []string{`"message":"Invalid email format"`}, Check: hasFields("email")},
			{Name: "bad enums, score and custom fields at once", Request: post(w.keys.full,
				body(valid, `"source":"tv","status":"won","score":101,"customFields":{"nested":{"a":1}}`)), Status: 422,
				Contains: []string{"source must be one of: web, referral, api, import, manual", "status must be one of", "score must be between 0 and 100"},
				Check:    hasFields("source", "status", "score", "customFields")},
			{Name: "score of the wrong type", Request: post(w.keys.full, body(valid, `"score":"10"`)), Status: 422,
				Contains: []string{"score must be an integer"}, Check: hasFields("score")},
			{Name: "fractional score", Request: post(w.keys.full, body(valid, `"score":10.5`)), Status: 422, Check: hasFields("score")},
			{Name: "a whole score written as 50.0", Request: post(w.keys.full, body(valid, `"score":50.0`)), Status: 201, Contains: []string{`"score":50,`}},
			{Name: "a whole score written as 5e1", Request: post(w.keys.full, body(valid, `"score":5e1`)), Status: 201, Contains: []string{`"score":50,`}},
			{Name: "a score beyond float64's exact integers", Request: post(w.keys.full, body(valid, `"score":1e300`)), Status: 422, Check: hasFields("score")},
			{Name: "a fraction float64 would round away", Request: post(w.keys.full, body(valid, `"score":99.9999999999999999`)), Status: 422, Check: hasFields("score")},
			{Name: "too many custom fields", Request: post(w.keys.full, body(valid, `"customFields":`+manyFields(51))), Status: 422,
				Contains: []string{"at most 50 custom fields"}, Check: hasFields("customFields")},
			{Name: "custom field value too long", Request: post(w.keys.full, body(valid, `"customFields":{"k":"`+strings.Repeat("v", 501)+`"}`)), Status: 422, Check: hasFields("customFields")},
			{Name: "custom field key too long", Request: post(w.keys.full, body(valid, `"customFields":{"`+strings.Repeat("k", 41)+`":1}`)), Status: 422, Check: hasFields("customFields")},
			{Name: "NUL in a custom field value", Request: post(w.keys.full, body(valid, `"customFields":{"note":"a\u0000b"}`)), Status: 422, Check: hasFields("customFields")},
			{Name: "custom field number beyond float64", Request: post(w.keys.full, body(valid, `"customFields":{"n":1e400}`)), Status: 422, Check: hasFields("customFields")},
			{Name: "null required field", Request: post(w.keys.full, `{"email":null,"firstName":"J","lastName":"D"}`), Status: 422,
				Contains: []string{"email cannot be null"}, Check: hasFields("email")},
			{Name: "server-set fields are unknown", Request: post(w.keys.full, body(valid, `"id":"x","tenantId":"globex","createdAt":"2020-01-01T00:00:00Z","updatedAt":"x"`)), Status: 422,
				Contains: []string{`"code":"unknown_field"`, "Unknown field 'tenantId'"}, Check: hasFields("createdAt", "id", "tenantId", "updatedAt")},
			{Name: "unknown field plus a bad value, reported together", Request: post(w.keys.full, `{"email":"nope","firstName":"J","lastName":"D","nickname":"JD"}`), Status: 422,
				Check: hasFields("nickname", "email")},
			{Name: "malformed JSON", Request: post(w.keys.full, `{"email":`), Status: 400, Contains: []string{`"code":"invalid_json"`}},
			{Name: "a JSON array", Request: post(w.keys.full, `[1]`), Status: 400, Contains: []string{`"code":"invalid_json"`}},
			{Name: "null", Request: post(w.keys.full, `null`), Status: 400, Contains: []string{"must be a JSON object"}},
			{Name: "only whitespace", Request: post(w.keys.full, " \n"), Status: 400, Contains: []string{"must be a JSON object"}},
			{Name: "a member named twice", Request: post(w.keys.full, `{"email":"a@example.com","firstName":"J","lastName":"D","email":"b@example.com"}`), Status: 400,
				Contains: []string{`"code":"invalid_json"`, "names the member 'email' more than once (at byte 56)"}},
			{Name: "invalid UTF-8", Request: post(w.keys.full, "{\"email\":\"a@example.com\",\"firstName\":\"J\xff\",\"lastName\":\"D\"}"), Status: 400,
				Contains: []string{`"code":"invalid_json"`, "(at byte 39)"}},
			{Name: "an escaped lone surrogate", Request: post(w.keys.full, `{"email":"a@example.com","firstName":"\udc00","lastName":"D"}`), Status: 400,
				Contains: []string{`"code":"invalid_json"`}},
			{Name: "a body of Unicode space", Request: post(w.keys.full, "\u00a0"), Status: 400,
				Contains: []string{`"code":"invalid_json"`, "not valid JSON (at byte 0)"}},
			{Name: "data after the object", Request: post(w.keys.full, `{"email":"a@example.com","firstName":"J","lastName":"D"} {}`), Status: 400,
				Contains: []string{`"code":"invalid_json"`, "(at byte 57)"}},
			{Name: "ends early", Request: post(w.keys.full, `{"email":"a@example.com","firstName":"J"`), Status: 400,
				Contains: []string{`"code":"invalid_json"`, "it ends early"}},
			{Name: "space around the object", Request: post(w.keys.full, " {\"email\":\"space@example.com\",\"firstName\":\"J\",\"lastName\":\"D\"}\r\n"), Status: 201},
			{Name: "escaped member names and values", Request: post(w.keys.full, `{"em\u0061il":"esc@example.com","firstName":"J\u00e9r\u00f4me","lastName":"D\"Q"}`), Status: 201,
				Contains: []string{`"email":"esc@example.com"`, `"firstName":"Jérôme"`, `"lastName":"D\"Q"`}},
			{Name: "over 1 MiB", Request: post(w.keys.full, body(valid, `"customFields":{"k":"`+strings.Repeat("x", 1<<20)+`"}`)), Status: 413,
				Contains: []string{`"code":"payload_too_large"`}},
			{Name: "not JSON", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: body(valid),
				Headers: map[string]string{"Content-Type": "text/plain"}}, Status: 415, Contains: []string{`"code":"unsupported_media_type"`}},
			{Name: "JSON in another charset", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: body(valid),
				Headers: map[string]string{"Content-Type": "application/json; charset=latin1"}}, Status: 415, Contains: []string{`"code":"unsupported_media_type"`}},
			{Name: "JSON declared UTF-8", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: body(`"email":"charset@acme.test","firstName":"C","lastName":"S"`),
				Headers: map[string]string{"Content-Type": "application/json; charset=UTF-8"}}, Status: 201},
			{Name: "assigned to a user of the tenant", Request: post(w.keys.full, body(valid, `"assignedTo":"`+w.Codec.Encode(w.member.ID)+`"`)), Status: 201,
				Contains: []string{`"assignedTo":"` + w.Codec.Encode(w.member.ID) + `"`}},
			{Name: "assigned to another tenant's user", Request: post(w.keys.full, body(valid, `"assignedTo":"`+w.Codec.Encode(w.globex.OwnerID)+`"`)), Status: 422,
				Contains: []string{"must be the ID of a user in this tenant"}, Check: hasFields("assignedTo")},
			{Name: "assigned to a lead's ID", Request: post(w.keys.full, body(valid, `"assignedTo":"`+w.mine+`"`)), Status: 422,
				Contains: []string{"must be the ID of a user in this tenant"}, Check: hasFields("assignedTo")},
			{Name: "assigned to garbage", Request: post(w.keys.full, body(valid, `"assignedTo":"not-an-id"`)), Status: 422, Check: hasFields("assignedTo")},
			{Name: "read-only key", Request: post(w.keys.readOnly, body(valid)), Status: 403,
				Contains: []string{`"code":"insufficient_scope"`, "requires the 'leads:write' scope"}},
			{Name: "viewer's key with full_access cannot write", Request: post(w.keys.viewer, body(valid)), Status: 403,
				Contains: []string{"leads:write"}},
		})
		// Nothing the refused requests sent was written: 9 leads were made.
		n := db.Client.Lead.Query().CountX(w.acme.System(live))
		if n != 10 { // the fixture's lead, and the nine 201s above
			t.Errorf("acme has %d live leads, want 10", n)
		}
		if n := db.Client.Lead.Query().CountX(w.globex.System(live)); n != 1 {
			t.Errorf("globex has %d leads, want 1", n)
		}
	})
}

func manyFields(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"f%d":%d`, i, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Another tenant's lead, another environment's, a malformed ID and an ID of
// another type all answer the same 404, and nothing is written.
func TestLeadsAcrossTenantsAndEnvironments(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		userID := w.Codec.Encode(w.member.ID)
		var bodies []string
		collect := func(t *testing.T, res apitest.Response) { bodies = append(bodies, withoutMeta(t, res)) }
		var scenarios []apitest.Scenario
		for _, target := range []struct{ name, id string }{
			{"another tenant's lead", w.theirs},
			{"another environment's lead", w.mineSandbox},
			{"a malformed ID", "not-an-id"},
			{"a non-canonical ID", w.mine + "x"},
			{"a user's ID", userID},
		} {
			for _, req := range []apitest.Request{
				{Method: "GET", Path: "/v1/leads/" + target.id},
				{Method: "PATCH", Path: "/v1/leads/" + target.id, Body: `{"score":99}`},
				{Method: "DELETE", Path: "/v1/leads/" + target.id},
				{Method: "POST", Path: "/v1/leads/" + target.id + "/restore"},
			} {
				req.Key = w.keys.full
				scenarios = append(scenarios, apitest.Scenario{Name: req.Method + " " + target.name, Request: req, Status: 404,
					Contains: []string{`"code":"not_found"`}, NotContains: []string{"theirs@globex.test", "sandbox@acme.test"}, Check: collect})
			}
		}
		w.Run(t, scenarios)
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("404 bodies differ:\n%s\n%s", bodies[0], b)
			}
		}
		// The sandbox key reaches the sandbox lead, and only it.
		w.Run(t, []apitest.Scenario{
			{Name: "sandbox key, sandbox lead", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + w.mineSandbox, Key: w.keys.sandbox}, Status: 200},
			{Name: "sandbox key, live lead", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + w.mine, Key: w.keys.sandbox}, Status: 404},
			{Name: "sandbox list", Request: apitest.Request{Method: "GET", Path: "/v1/leads", Key: w.keys.sandbox}, Status: 200,
				Contains: []string{"sandbox@acme.test"}, NotContains: []string{"mine@acme.test", "theirs@globex.test"}},
			{Name: "live list", Request: apitest.Request{Method: "GET", Path: "/v1/leads?includeArchived=true", Key: w.keys.full}, Status: 200,
				Contains: []string{"mine@acme.test"}, NotContains: []string{"sandbox@acme.test", "theirs@globex.test"}},
		})
		for _, tn := range []testutil.Tenant{w.globex} {
			l := db.Client.Lead.Query().OnlyX(tn.System(live))
			if l.Score != 0 || l.ArchivedAt != nil || l.Version != 1 {
				t.Errorf("globex's lead was changed: score %d archived %v version %d", l.Score, l.ArchivedAt, l.Version)
			}
		}
		if n := db.Client.AuditEvent.Query().Where(auditevent.ResourceType("lead"), auditevent.ActionNEQ("lead.created")).CountX(w.globex.System(live)); n != 0 {
			t.Errorf("globex's log gained %d events", n)
		}
	})
}

func TestUpdateArchiveRestore(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		path := "/v1/leads/" + w.mine
		req := func(method, b string) apitest.Request {
			p := path
			if method == "RESTORE" {
				method, p = "POST", path+"/restore"
			}
			return apitest.Request{Method: method, Path: p, Key: w.keys.full, Body: b}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "set fields", Request: req("PATCH", `{"phone":"+49 30 1234567","score":40,"customFields":{"company":"Acme","role":"CTO"}}`), Status: 200,
				Contains: []string{`"score":40`, `"phone":"+49 30 1234567"`, `"role":"CTO"`, `"firstName":"Jane"`}},
			{Name: "a null custom field deletes the key; others stay", Request: req("PATCH", `{"customFields":{"role":null,"seats":12}}`), Status: 200,
				Contains: []string{`"customFields":{"company":"Acme","seats":12}`}},
			{Name: "null clears an optional field", Request: req("PATCH", `{"phone":null}`), Status: 200, Contains: []string{`"phone":null`}},
			{Name: "null on a required field", Request: req("PATCH", `{"firstName":null}`), Status: 422, Check: hasFields("firstName")},
			{Name: "bad values", Request: req("PATCH", `{"email":"x","score":-1,"status":"won"}`), Status: 422, Check: hasFields("email", "status", "score")},
			{Name: "unknown field", Request: req("PATCH", `{"updatedAt":"2020-01-01T00:00:00Z"}`), Status: 422, Check: hasFields("updatedAt")},
			{Name: "empty patch changes nothing", Request: req("PATCH", `{}`), Status: 200, Contains: []string{`"score":40`}},
			{Name: "writer cannot archive", Request: apitest.Request{Method: "DELETE", Path: path, Key: w.keys.writer}, Status: 403,
				Contains: []string{"requires the 'leads:delete' scope"}},
			{Name: "archive", Request: req("DELETE", ""), Status: 204, Check: func(t *testing.T, res apitest.Response) {
				if res.Body != "" {
					t.Errorf("204 with a body: %q", res.Body)
				}
			}},
			{Name: "archive again is a no-op", Request: req("DELETE", ""), Status: 204},
			{Name: "archived leads leave the list", Request: apitest.Request{Method: "GET", Path: "/v1/leads", Key: w.keys.full}, Status: 200,
				NotContains: []string{"mine@acme.test"}},
			{Name: "unless asked for", Request: apitest.Request{Method: "GET", Path: "/v1/leads?includeArchived=true", Key: w.keys.full}, Status: 200,
				Contains: []string{"mine@acme.test", `"archivedAt":"`}},
			{Name: "an archived lead is still readable", Request: req("GET", ""), Status: 200, Contains: []string{`"archivedAt":"`}},
			{Name: "restore", Request: req("RESTORE", ""), Status: 200, NotContains: []string{"archivedAt"}},
			{Name: "back in the list", Request: apitest.Request{Method: "GET", Path: "/v1/leads", Key: w.keys.full}, Status: 200,
				Contains: []string{"mine@acme.test"}},
		})
		ctx := w.acme.System(live)
		var actions []string
		for _, ev := range db.Client.AuditEvent.Query().Where(auditevent.ResourceType("lead"), auditevent.ResourceID(mustDecode(t, w, w.mine))).
			Order(auditevent.ByID()).AllX(ctx) {
			actions = append(actions, ev.Action)
		}
		want := []string{"lead.created", "lead.updated", "lead.updated", "lead.updated", "lead.archived", "lead.restored"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit actions %v, want %v", actions, want)
		}
	})
}

func mustDecode(t *testing.T, w *world, id string) int {
	t.Helper()
	n, err := w.Codec.Decode(id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Text with a NUL character or bytes that are not UTF-8 is a field error
// on both databases (PostgreSQL refuses such text with an error of its
// own), wherever it arrives: a body, a query parameter or a header. A
// User-Agent is recorded, not refused: it is cleaned for the audit log.
func TestTextWithNULOrBadUTF8(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		body := func(first string) string {
			return `{"email":"text@acme.test","firstName":"` + first + `","lastName":"L"}`
		}
		w.Run(t, []apitest.Scenario{
			{Name: "NUL in a lead's name", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: body(`a\u0000b`)},
				Status: 422, Check: hasFields("firstName")},
			{Name: "NUL in a PATCH", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full, Body: `{"lastName":"x\u0000"}`},
				Status: 422, Check: hasFields("lastName")},
			{Name: "NUL in a search", Request: apitest.Request{Method: "GET", Path: "/v1/leads?q=a%00b", Key: w.keys.full},
				Status: 422, Check: hasFields("q")},
			{Name: "bad UTF-8 in a search", Request: apitest.Request{Method: "GET", Path: "/v1/leads?q=caf%E9", Key: w.keys.full},
				Status: 422, Check: hasFields("q")},
			{Name: "NUL in an audit filter", Request: apitest.Request{Method: "GET", Path: "/v1/audit-events?action=a%00b", Key: w.keys.full},
				Status: 422, Check: hasFields("action")},
			{Name: "NUL in a key's name", Request: apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: w.keys.full,
				Body: `{"name":"a\u0000b","environment":"live","scopes":["leads:read"]}`}, Status: 422, Check: hasFields("name")},
			{Name: "NUL in a key's scopes", Request: apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: w.keys.full,
				Body: `{"name":"k","environment":"live","scopes":["leads:read\u0000"]}`}, Status: 422, Check: hasFields("scopes")},
			{Name: "NUL in a login", Request: apitest.Request{Method: "POST", Path: "/v1/auth/login", Body: `{"email":"a\u0000@acme.test","password":"x"}`},
				Status: 422, Check: hasFields("email")},
			{Name: "bad UTF-8 in an Idempotency-Key", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: body("I"),
				Headers: map[string]string{"Idempotency-Key": "k-\xff"}}, Status: 422, Check: hasFields("Idempotency-Key")},
			{Name: "a Latin-1 User-Agent still writes", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: body("U"),
				Headers: map[string]string{"User-Agent": "Mozilla/5.0 (caf\xe9)"}}, Status: 201},
		})
		ctx := w.acme.System(live)
		ev := db.Client.AuditEvent.Query().Where(auditevent.Action("lead.created")).Order(ent.Desc(auditevent.FieldID)).FirstX(ctx)
		if ev.UserAgent != "Mozilla/5.0 (caf\uFFFD)" {
			t.Errorf("audit user agent %q, want the cleaned one", ev.UserAgent)
		}
		if n := db.Client.Lead.Query().Where(lead.Email("text@acme.test")).CountX(ctx); n != 1 {
			t.Errorf("%d leads written, want only the Latin-1 User-Agent's", n)
		}
	})
}

// A field error's code says what is wrong: too_long and out_of_range, as
// the guide lists them, not only invalid.
func TestFieldErrorCodes(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		post := func(fields string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: "{" + fields + "}"}
		}
		const valid = `"email":"codes@acme.test","firstName":"C","lastName":"D"`
		long := strings.Repeat("n", 101)
		w.Run(t, []apitest.Scenario{
			{Name: "score below the range", Request: post(valid + `,"score":-1`), Status: 422, Check: hasFields("score"), Contains: []string{`"code":"out_of_range"`}},
			{Name: "score above the range", Request: post(valid + `,"score":101`), Status: 422, Check: hasFields("score"), Contains: []string{`"code":"out_of_range"`}},
			{Name: "a name too long", Request: post(`"email":"codes@acme.test","firstName":"` + long + `","lastName":"D"`), Status: 422,
				Check: hasFields("firstName"), Contains: []string{`"code":"too_long"`}},
			{Name: "a malformed email is invalid", Request: post(`"email":"nope","firstName":"C","lastName":"D"`), Status: 422,
				Check: hasFields("email"), Contains: []string{`"code":"invalid"`}},
		})
	})
}

// If-Match holds on DELETE and on restore as on PATCH: a stale version is
// 412 and nothing is written; restore answers the lead's new ETag.
func TestIfMatchOnArchiveAndRestore(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		path := "/v1/leads/" + w.mine
		get := w.Do(t, apitest.Request{Method: "GET", Path: path, Key: w.keys.full})
		v1 := get.Header.Get("Etag")
		req := func(method, p, ifMatch string) apitest.Request {
			r := apitest.Request{Method: method, Path: p, Key: w.keys.full}
			if ifMatch != "" {
				r.Headers = map[string]string{"If-Match": ifMatch}
			}
			return r
		}
		stale := []string{`"code":"precondition_failed"`}
		var restored apitest.Response
		w.Run(t, []apitest.Scenario{
			{Name: "archive a stale version", Request: req("DELETE", path, `"999"`), Status: 412, Contains: stale},
			{Name: "so the lead is still listed", Request: leadsWith(w.keys.full), Status: 200, Contains: []string{"mine@acme.test"}},
			{Name: "archive the version read", Request: req("DELETE", path, v1), Status: 204},
			{Name: "restore the version from before the archive", Request: req("POST", path+"/restore", v1), Status: 412, Contains: stale},
			{Name: "so the lead is still archived", Request: leadsWith(w.keys.full), Status: 200, NotContains: []string{"mine@acme.test"}},
			{Name: "restore any version", Request: req("POST", path+"/restore", "*"), Status: 200,
				Check: func(t *testing.T, res apitest.Response) { restored = res }},
		})
		now := w.Do(t, apitest.Request{Method: "GET", Path: path, Key: w.keys.full})
		if e := restored.Header.Get("Etag"); e == "" || e == v1 || e != now.Header.Get("Etag") {
			t.Errorf("restore's ETag %q; before %q, now %q", e, v1, now.Header.Get("Etag"))
		}
	})
}
