package rest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// createLead posts a lead and returns its ID.
func postLead(t *testing.T, w *world, key, fields string) string {
	t.Helper()
	res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: key, Body: "{" + fields + "}"})
	if res.Status != 201 {
		t.Fatalf("creating lead %s: %d %s", fields, res.Status, res.Body)
	}
	return res.Data(t)["id"].(string)
}

// dataList returns the envelope's data as a list of objects.
func listData(t *testing.T, res apitest.Response) []map[string]any {
	t.Helper()
	raw, ok := res.JSON(t)["data"].([]any)
	if !ok {
		t.Fatalf("data is not a list: %s", res.Body)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

// matchedOn returns, per candidate lead ID, what it matched on.
func matchedOn(t *testing.T, res apitest.Response) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range listData(t, res) {
		var fields []string
		for _, f := range c["matchedOn"].([]any) {
			fields = append(fields, f.(string))
		}
		out[c["lead"].(map[string]any)["id"].(string)] = strings.Join(fields, ",")
	}
	return out
}

func TestLeadDuplicates(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		testutil.StartJobs(t, db, jobs.Config{})
		jane := postLead(t, w, w.keys.full, `"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe","phone":"+1 555 0199"`)
		spaced := postLead(t, w, w.keys.full, `"email":"  Jane.Doe@Example.COM ","firstName":"Janet","lastName":"Doe"`)
		phoned := postLead(t, w, w.keys.full, `"email":"jd@other.example","firstName":"J","lastName":"Doe","phone":"(555) 0199"`)
		both := postLead(t, w, w.keys.full, `"email":"JANE.DOE@example.com","firstName":"J","lastName":"D","phone":"555.0199"`)
		unrelated := postLead(t, w, w.keys.full, `"email":"someone@else.example","firstName":"S","lastName":"E","phone":"+44 20 7946 0958"`)
		// The same email and phone in the sandbox and in another tenant.
		sandboxTwin := postLead(t, w, w.keys.sandbox, `"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe","phone":"+1 555 0199"`)
		globexTwin := postLead(t, w, w.keys.globex, `"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe","phone":"+1 555 0199"`)
		testutil.WaitForJobs(t, db)

		get := func(key, id string) apitest.Request {
			return apitest.Request{Method: "GET", Path: "/v1/leads/" + id + "/duplicates", Key: key}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "email and phone matches, normalized", Request: get(w.keys.full, jane), Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					got := matchedOn(t, res)
					want := map[string]string{spaced: "email", phoned: "phone", both: "email,phone"}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("candidates %v, want %v", got, want)
					}
					for _, c := range listData(t, res) {
						if c["lead"].(map[string]any)["id"] == both && c["lead"].(map[string]any)["phone"] != "555.0199" {
							t.Errorf("candidate lead shown wrongly: %v", c["lead"])
						}
					}
				}},
			{Name: "the match is listed from both sides", Request: get(w.keys.readOnly, spaced), Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					if got := matchedOn(t, res); got[jane] != "email" || got[both] != "email" || len(got) != 2 {
						t.Errorf("candidates %v", got)
					}
				}},
			{Name: "no duplicates", Request: get(w.keys.full, unrelated), Status: 200, Contains: []string{`"data":[]`}},
			{Name: "the sandbox twin matches nothing live", Request: get(w.keys.sandbox, sandboxTwin), Status: 200, Contains: []string{`"data":[]`}},
			{Name: "the other tenant's twin matches nothing here", Request: get(w.keys.globex, globexTwin), Status: 200, Contains: []string{`"data":[]`}},
			{Name: "another tenant's lead", Request: get(w.keys.full, globexTwin), Status: 404, Contains: []string{`"code":"not_found"`}},
			{Name: "another environment's lead", Request: get(w.keys.full, sandboxTwin), Status: 404},
			{Name: "malformed ID", Request: get(w.keys.full, "nope"), Status: 404},
			{Name: "unknown query parameter", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + jane + "/duplicates?sort=x", Key: w.keys.full},
				Status: 422, Check: hasFields("sort")},
		})

		// An archived candidate leaves the list; a changed email stops
		// matching; a change back matches again (a new check runs).
		if res := w.Do(t, apitest.Request{Method: "DELETE", Path: "/v1/leads/" + phoned, Key: w.keys.full}); res.Status != 204 {
			t.Fatal(res.Body)
		}
		// The archived lead itself lists none: a match needs both leads active.
		if got := matchedOn(t, w.Do(t, get(w.keys.full, phoned))); len(got) != 0 {
			t.Errorf("an archived lead lists candidates: %v", got)
		}
		patch := func(id, b string) {
			t.Helper()
			if res := w.Do(t, apitest.Request{Method: "PATCH", Path: "/v1/leads/" + id, Key: w.keys.full, Body: b}); res.Status != 200 {
				t.Fatalf("PATCH: %d %s", res.Status, res.Body)
			}
		}
		patch(spaced, `{"email":"janet@example.com"}`)
		testutil.WaitForJobs(t, db)
		if got := matchedOn(t, w.Do(t, get(w.keys.full, jane))); fmt.Sprint(got) != fmt.Sprint(map[string]string{both: "email,phone"}) {
			t.Errorf("after archiving and an email change: %v", got)
		}
		patch(unrelated, `{"phone":"+1 (555) 0199"}`)
		testutil.WaitForJobs(t, db)
		if got := matchedOn(t, w.Do(t, get(w.keys.full, jane))); got[unrelated] != "phone" {
			t.Errorf("after a phone change: %v", got)
		}
	})
}

func TestMergeLeads(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		member := w.Codec.Encode(w.member.ID)
		survivor := postLead(t, w, w.keys.full, `"email":"jane@acme.test","firstName":"Jane","lastName":"Doe","customFields":{"a":1,"tier":"gold"}`)
		d1 := postLead(t, w, w.keys.full, `"email":"JANE@acme.test","firstName":"J","lastName":"D","phone":"+1 555 0100","source":"web","customFields":{"a":2,"b":3}`)
		d2 := postLead(t, w, w.keys.full, `"email":"jane@acme.test","firstName":"J","lastName":"D","phone":"+1 555 0999","source":"referral","assignedTo":"`+member+`","customFields":{"b":4,"c":5}`)
		archived := postLead(t, w, w.keys.full, `"email":"old@acme.test","firstName":"O","lastName":"D"`)
		if res := w.Do(t, apitest.Request{Method: "DELETE", Path: "/v1/leads/" + archived, Key: w.keys.full}); res.Status != 204 {
			t.Fatal(res.Body)
		}
		merge := func(key, id, b string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/leads/" + id + "/merge", Key: key, Body: b}
		}
		ids := func(ids ...string) string { return `{"duplicateIds":["` + strings.Join(ids, `","`) + `"]}` }
		many := make([]string, lifecycle.MaxMerge+1)
		for i := range many {
			many[i] = d1
		}
		var notFound string
		w.Run(t, []apitest.Scenario{
			{Name: "no body member", Request: merge(w.keys.full, survivor, `{}`), Status: 422, Check: hasFields("duplicateIds")},
			{Name: "empty list", Request: merge(w.keys.full, survivor, `{"duplicateIds":[]}`), Status: 422, Check: hasFields("duplicateIds")},
			{Name: "too many", Request: merge(w.keys.full, survivor, ids(many...)), Status: 422, Check: hasFields("duplicateIds")},
			{Name: "not a list", Request: merge(w.keys.full, survivor, `{"duplicateIds":"x"}`), Status: 422, Check: hasFields("duplicateIds")},
			{Name: "unknown member", Request: merge(w.keys.full, survivor, `{"duplicateIds":["`+d1+`"],"force":true}`), Status: 422, Check: hasFields("force")},
			{Name: "into itself", Request: merge(w.keys.full, survivor, ids(d1, survivor)), Status: 422,
				Contains: []string{"cannot be merged into itself"}, Check: hasFields("duplicateIds")},
			{Name: "a repeated ID", Request: merge(w.keys.full, survivor, ids(d1, d1)), Status: 422, Check: hasFields("duplicateIds")},
			{Name: "an archived duplicate", Request: merge(w.keys.full, survivor, ids(d1, archived)), Status: 422,
				Contains: []string{"duplicateIds[1] is archived"}, Check: hasFields("duplicateIds")},
			{Name: "into an archived lead", Request: merge(w.keys.full, archived, ids(d1)), Status: 422, Contains: []string{"archived"}},
			{Name: "another tenant's duplicate", Request: merge(w.keys.full, survivor, ids(d1, w.theirs)), Status: 404,
				Check: func(t *testing.T, res apitest.Response) { notFound = withoutMeta(t, res) }},
			{Name: "another environment's duplicate", Request: merge(w.keys.full, survivor, ids(w.mineSandbox)), Status: 404,
				Check: sameAsFirst(&notFound)},
			{Name: "a malformed duplicate ID", Request: merge(w.keys.full, survivor, ids("not-an-id")), Status: 404, Check: sameAsFirst(&notFound)},
			{Name: "a user's ID as duplicate", Request: merge(w.keys.full, survivor, ids(member)), Status: 404, Check: sameAsFirst(&notFound)},
			{Name: "into another tenant's lead", Request: merge(w.keys.full, w.theirs, ids(d1)), Status: 404, Check: sameAsFirst(&notFound)},
			{Name: "a viewer may not merge", Request: merge(w.keys.viewer, survivor, ids(d1)), Status: 403, Contains: []string{"leads:write"}},
			{Name: "merge with leads:write alone", Request: merge(w.keys.writer, survivor, ids(d1, d2)), Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					d := res.Data(t)
					if d["id"] != survivor || d["email"] != "jane@acme.test" || d["firstName"] != "Jane" {
						t.Errorf("the survivor's own values changed: %v", d)
					}
					if d["phone"] != "+1 555 0100" || d["source"] != "web" || d["assignedTo"] != member {
						t.Errorf("empty fields not filled from the first duplicate that has them: %v", d)
					}
					want := map[string]any{"a": 1.0, "tier": "gold", "b": 3.0, "c": 5.0}
					if fmt.Sprint(d["customFields"]) != fmt.Sprint(want) {
						t.Errorf("custom fields %v, want %v", d["customFields"], want)
					}
					if _, ok := d["mergedInto"]; ok {
						t.Error("the survivor has mergedInto")
					}
				}},
			{Name: "a merged lead still reads, pointing at the survivor", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + d1, Key: w.keys.full},
				Status: 200, Contains: []string{`"mergedInto":"` + survivor + `"`, `"archivedAt":"`}},
			{Name: "merged leads leave every list", Request: apitest.Request{Method: "GET", Path: "/v1/leads?includeArchived=true&limit=100", Key: w.keys.full},
				Status: 200, NotContains: []string{d1, d2}, Contains: []string{survivor}},
			{Name: "a merged lead cannot be restored", Request: apitest.Request{Method: "POST", Path: "/v1/leads/" + d1 + "/restore", Key: w.keys.full},
				Status: 422, Contains: []string{"A merged lead cannot be restored"}},
			{Name: "nor changed", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + d1, Key: w.keys.full, Body: `{"score":5}`},
				Status: 422, Contains: []string{"A merged lead cannot be changed"}},
			{Name: "nor changed through GraphQL", Request: apitest.Request{Method: "POST", Path: "/graphql", Key: w.keys.full, OffContract: true,
				Body: `{"query":"mutation { updateLead(id: \"` + d1 + `\", input: {score: 5}) { id } }"}`},
				Status: 200, Contains: []string{"A merged lead cannot be changed", `"code":"validation_failed"`}},
			{Name: "a merged lead cannot be merged again", Request: merge(w.keys.full, archived, ids(d2)), Status: 422},
			{Name: "nor be merged into", Request: merge(w.keys.full, d1, ids(survivor)), Status: 422},
		})

		// The audit trail: each duplicate's merge and the survivor's fill,
		// all reachable from the survivor's activities.
		res := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads/" + survivor + "/activities?limit=100", Key: w.keys.full})
		var actions []string
		for _, e := range listData(t, res) {
			actions = append(actions, e["action"].(string)+" "+e["resourceId"].(string))
			if e["action"] == "lead.merged" && e["changes"].(map[string]any)["mergedInto"].(map[string]any)["new"] != survivor {
				t.Errorf("merge event %v does not name the survivor", e)
			}
			if strings.HasPrefix(e["action"].(string), "lead.merge") && e["actorId"] != w.Codec.Encode(w.acme.OwnerID) {
				t.Errorf("merge event %v: actor is not the key's owner", e)
			}
		}
		for _, want := range []string{"lead.merged " + d1, "lead.merged " + d2, lifecycle.ActionMergeFilled + " " + survivor,
			"lead.created " + survivor, "lead.created " + d1, "lead.created " + d2} {
			if !slices.Contains(actions, want) {
				t.Errorf("the survivor's timeline lacks %q: %v", want, actions)
			}
		}
	})
}

// sameAs checks that a response is indistinguishable from an earlier one.
func sameAsFirst(first *string) func(*testing.T, apitest.Response) {
	return func(t *testing.T, res apitest.Response) {
		t.Helper()
		if got := withoutMeta(t, res); got != *first {
			t.Errorf("distinguishable from the first 404:\n%s\n%s", got, *first)
		}
	}
}

// The transition table, row by row, over PATCH: allowed changes pass; the
// others are a 422 on status, which an admin (or owner) may force with
// force=true (audited), and a member may not (403 forbidden).
func TestStatusTransitions(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		admin := w.Key(t, w.acme, w.User(t, w.acme, "admin@acme.test", "admin").ID, live, "leads:read", "leads:write")
		statuses := []string{"new", "contacted", "qualified", "unqualified"}
		allowed := map[string]bool{
			"new→new": true, "new→contacted": true,
			"contacted→contacted": true, "contacted→qualified": true, "contacted→unqualified": true,
			"qualified→qualified": true, "qualified→contacted": true,
			"unqualified→unqualified": true, "unqualified→contacted": true,
		}
		for _, from := range statuses {
			for _, to := range statuses {
				row := from + "→" + to
				id := postLead(t, w, w.keys.full, `"email":"l@acme.test","firstName":"L","lastName":"D","status":"`+from+`"`)
				patch := func(key, query string) apitest.Request {
					return apitest.Request{Method: "PATCH", Path: "/v1/leads/" + id + query, Key: key, Body: `{"status":"` + to + `"}`}
				}
				if allowed[row] {
					w.Run(t, []apitest.Scenario{{Name: row + " allowed", Request: patch(w.keys.member, ""), Status: 200,
						Contains: []string{`"status":"` + to + `"`}}})
					continue
				}
				w.Run(t, []apitest.Scenario{
					{Name: row + " refused", Request: patch(w.keys.member, ""), Status: 422,
						Contains: []string{"status cannot change from " + from + " to " + to, "can change to: " + strings.Join(lifecycle.Transitions[from], ", ")},
						Check:    hasFields("status")},
					{Name: row + " forced by a member", Request: patch(w.keys.member, "?force=true"), Status: 403,
						Contains: []string{`"code":"forbidden"`, "Only owners and admins may force"}},
					{Name: row + " forced by an admin", Request: patch(admin, "?force=true"), Status: 200,
						Contains: []string{`"status":"` + to + `"`}},
					{Name: row + " forced change audited", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + id + "/activities?limit=1", Key: w.keys.member},
						Status: 200, Contains: []string{`"action":"lead.status_forced"`, `"status":{"old":"` + from + `","new":"` + to + `"}`}},
				})
			}
		}
		id := postLead(t, w, w.keys.full, `"email":"l@acme.test","firstName":"L","lastName":"D"`)
		w.Run(t, []apitest.Scenario{
			{Name: "force must be a boolean", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + id + "?force=yes", Key: w.keys.full, Body: `{"score":1}`},
				Status: 422, Check: hasFields("force")},
			{Name: "unknown query parameter on PATCH", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + id + "?dryRun=true", Key: w.keys.full, Body: `{"score":1}`},
				Status: 422, Check: hasFields("dryRun")},
			{Name: "force on an allowed change is no force", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + id + "?force=true", Key: w.keys.member, Body: `{"status":"contacted"}`},
				Status: 200},
		})
	})
}

func TestLeadActivities(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		member := w.Codec.Encode(w.member.ID)
		owner := w.Codec.Encode(w.acme.OwnerID)
		id := postLead(t, w, w.keys.full, `"email":"tl@acme.test","firstName":"T","lastName":"L"`)
		for _, step := range []struct{ body, onBehalf string }{
			{`{"status":"contacted"}`, ""},
			{`{"score":40}`, member},
			{`{"assignedTo":"` + member + `"}`, ""},
		} {
			req := apitest.Request{Method: "PATCH", Path: "/v1/leads/" + id, Key: w.keys.full, Body: step.body}
			if step.onBehalf != "" {
				req.Headers = map[string]string{"X-On-Behalf-Of": step.onBehalf}
			}
			if res := w.Do(t, req); res.Status != 200 {
				t.Fatalf("PATCH %s: %d %s", step.body, res.Status, res.Body)
			}
		}
		path := "/v1/leads/" + id + "/activities"
		var next string
		w.Run(t, []apitest.Scenario{
			{Name: "newest first, from the audit log, without audit:read", Request: apitest.Request{Method: "GET", Path: path, Key: w.keys.member}, Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					events := listData(t, res)
					var got []string
					for _, e := range events {
						var changed []string
						for k := range e["changes"].(map[string]any) {
							changed = append(changed, k)
						}
						slices.Sort(changed)
						got = append(got, e["action"].(string)+":"+strings.Join(changed, ","))
						if e["resourceId"] != id || e["resourceType"] != "lead" {
							t.Errorf("event of another resource: %v", e)
						}
					}
					want := []string{"lead.updated:assignedTo", "lead.updated:score", "lead.updated:status", "lead.created:customFields,email,environment,firstName,lastName,score,status,tenantId"}
					if !slices.Equal(got, want) {
						t.Errorf("timeline %v, want %v", got, want)
					}
					if len(events) == 4 {
						if events[1]["actorId"] != owner || events[1]["onBehalfOfId"] != member {
							t.Errorf("on-behalf-of change: actor %v, on behalf of %v", events[1]["actorId"], events[1]["onBehalfOfId"])
						}
						if events[0]["actorId"] != owner || events[0]["onBehalfOfId"] != nil {
							t.Errorf("own change: actor %v, on behalf of %v", events[0]["actorId"], events[0]["onBehalfOfId"])
						}
						if c := events[0]["changes"].(map[string]any)["assignedTo"].(map[string]any); c["new"] != member || c["old"] != nil {
							t.Errorf("assignment change %v", c)
						}
					}
				}},
			{Name: "paged", Request: apitest.Request{Method: "GET", Path: path + "?limit=3", Key: w.keys.full}, Status: 200,
				Contains: []string{`"hasMore":true`},
				Check: func(t *testing.T, res apitest.Response) {
					next = res.JSON(t)["meta"].(map[string]any)["pagination"].(map[string]any)["nextCursor"].(string)
				}},
		})
		w.Run(t, []apitest.Scenario{
			{Name: "the next page", Request: apitest.Request{Method: "GET", Path: path + "?limit=3&after=" + next, Key: w.keys.full}, Status: 200,
				Contains: []string{`"action":"lead.created"`, `"hasMore":false`}, NotContains: []string{`"lead.updated"`}},
			{Name: "sorting is not offered", Request: apitest.Request{Method: "GET", Path: path + "?sort=createdAt", Key: w.keys.full}, Status: 422, Check: hasFields("sort")},
			{Name: "another tenant's lead", Request: apitest.Request{Method: "GET", Path: "/v1/leads/" + w.theirs + "/activities", Key: w.keys.full}, Status: 404},
			{Name: "needs leads:read", Request: apitest.Request{Method: "GET", Path: path, Key: w.Key(t, w.acme, w.acme.OwnerID, live, "audit:read")}, Status: 403},
		})
	})
}
