package rest_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

func TestListFiltersAndErrors(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		member := w.Codec.Encode(w.member.ID)
		for _, b := range []string{
			`{"email":"ada@lovelace.test","firstName":"Ada","lastName":"Lovelace","status":"qualified","source":"referral","score":90,"assignedTo":"` + member + `"}`,
			`{"email":"alan@turing.test","firstName":"Alan","lastName":"Turing","status":"contacted","source":"web","score":40}`,
		} {
			if res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: b}); res.Status != 201 {
				t.Fatalf("creating: %s", res.Body)
			}
		}
		list := func(q string) apitest.Request {
			return apitest.Request{Method: "GET", Path: "/v1/leads?" + q, Key: w.keys.full}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "all, newest first", Request: list(""), Status: 200,
				Contains: []string{`"pagination":{"limit":20,"hasMore":false,"nextCursor":null,"prevCursor":null}`, "ada@", "alan@", "mine@"}},
			{Name: "status", Request: list("status=qualified"), Status: 200, Contains: []string{"ada@"}, NotContains: []string{"alan@", "mine@"}},
			{Name: "source", Request: list("source=web"), Status: 200, Contains: []string{"alan@"}, NotContains: []string{"ada@"}},
			{Name: "assignedTo", Request: list("assignedTo=" + member), Status: 200, Contains: []string{"ada@"}, NotContains: []string{"alan@"}},
			{Name: "score range", Request: list("minScore=30&maxScore=50"), Status: 200, Contains: []string{"alan@"}, NotContains: []string{"ada@", "mine@"}},
			{Name: "search on name", Request: list("q=lovelace"), Status: 200, Contains: []string{"ada@"}, NotContains: []string{"alan@"}},
			{Name: "search on two words", Request: list("q=" + url.QueryEscape("alan TURING")), Status: 200, Contains: []string{"alan@"}, NotContains: []string{"ada@"}},
			{Name: "search on email", Request: list("q=turing.test"), Status: 200, Contains: []string{"alan@"}, NotContains: []string{"ada@"}},
			{Name: "created range", Request: list("createdAfter=2000-01-01T00:00:00Z&createdBefore=2001-01-01T00:00:00Z"), Status: 200, Contains: []string{`"data":[]`}},
			{Name: "sort by score", Request: list("sort=-score&limit=1"), Status: 200, Contains: []string{"ada@", `"hasMore":true`}, NotContains: []string{"alan@"}},
			{Name: "unknown parameter", Request: list("page=2"), Status: 422, Contains: []string{"Unknown query parameter 'page'"}, Check: hasFields("page")},
			{Name: "unknown sort", Request: list("sort=email"), Status: 422, Check: hasFields("sort")},
			{Name: "bad values", Request: list("limit=101&status=won&minScore=-1&createdAfter=yesterday&includeArchived=yes&assignedTo=" + w.mine), Status: 422,
				Check: hasFields("limit", "status", "assignedTo", "minScore", "createdAfter", "includeArchived")},
			{Name: "limit 0", Request: list("limit=0"), Status: 422, Check: hasFields("limit")},
			{Name: "repeated parameter", Request: list("status=new&status=contacted"), Status: 422, Check: hasFields("status")},
			{Name: "garbage cursor", Request: list("after=xyz"), Status: 422, Check: hasFields("after")},
			{Name: "after and before", Request: list("after=a&before=b"), Status: 422, Check: hasFields("before")},
			{Name: "search too long", Request: list("q=" + string(make([]byte, 0)) + fmt.Sprintf("%0201d", 0)), Status: 422, Check: hasFields("q")},
		})
		// A cursor of one sort is refused under another.
		res := w.Do(t, list("limit=1"))
		next := res.JSON(t)["meta"].(map[string]any)["pagination"].(map[string]any)["nextCursor"].(string)
		w.Run(t, []apitest.Scenario{
			{Name: "cursor of another sort", Request: list("sort=score&after=" + next), Status: 422, Check: hasFields("after")},
		})
	})
}

// Paging through 1,000 leads while others are inserted sees each lead once,
// with no gaps, in every sort order, and walking back returns the same page.
func TestPaginationUnderInserts(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.acme.System(live)
		err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
			builders := make([]*ent.LeadCreate, 1000)
			for i := range builders {
				// Few distinct scores, so paging must break ties by ID.
				builders[i] = c.Lead.Create().SetEmail(fmt.Sprintf("bulk%d@acme.test", i)).
					SetFirstName("Bulk").SetLastName(fmt.Sprint(i)).SetScore(i % 7)
			}
			return c.Lead.CreateBulk(builders...).Exec(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		before := map[string]bool{}
		for _, id := range db.Client.Lead.Query().Where(lead.ArchivedAtIsNil()).IDsX(ctx) {
			before[w.Codec.Encode(id)] = true
		}
		for _, sort := range []string{"-createdAt", "createdAt", "score", "-score", "-updatedAt"} {
			t.Run(sort, func(t *testing.T) {
				seen := map[string]bool{}
				after, pages := "", 0
				var third []string
				var thirdPrev string
				for {
					q := "limit=100&sort=" + url.QueryEscape(sort)
					if after != "" {
						q += "&after=" + after
					}
					res := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads?" + q, Key: w.keys.full})
					if res.Status != 200 {
						t.Fatalf("page %d: %s", pages, res.Body)
					}
					m := res.JSON(t)
					var ids []string
					for _, d := range m["data"].([]any) {
						id := d.(map[string]any)["id"].(string)
						if seen[id] {
							t.Fatalf("lead %s seen twice", id)
						}
						seen[id] = true
						ids = append(ids, id)
					}
					pages++
					if pages == 3 {
						third = ids
						thirdPrev, _ = m["meta"].(map[string]any)["pagination"].(map[string]any)["prevCursor"].(string)
					}
					// Insert while paging: new rows may or may not appear, but
					// must not shift old ones.
					w.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full,
						Body: fmt.Sprintf(`{"email":"new%d%s@acme.test","firstName":"New","lastName":"Lead","score":3}`, pages, sort)})
					p := m["meta"].(map[string]any)["pagination"].(map[string]any)
					if p["hasMore"] != true {
						break
					}
					after = p["nextCursor"].(string)
					if pages > 30 {
						t.Fatal("paging does not end")
					}
				}
				for id := range before {
					if !seen[id] {
						t.Fatalf("lead %s was skipped", id)
					}
				}
				// Walking back from page 3 gives page 2's last row before it.
				res := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads?limit=100&sort=" + url.QueryEscape(sort) + "&before=" + thirdPrev, Key: w.keys.full})
				data := res.JSON(t)["data"].([]any)
				if len(data) != 100 || len(third) == 0 {
					t.Fatalf("page before page 3 has %d rows", len(data))
				}
				if last := data[len(data)-1].(map[string]any)["id"].(string); seen[last] == false || last == third[0] {
					t.Errorf("walking back returned %s", last)
				}
			})
		}
	})
}

// The routes that take no query parameters refuse any, as the lists refuse
// unknown ones, and do nothing else: a parameter is never silently ignored.
func TestRoutesWithoutQueryParameters(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		keyID := w.Codec.Encode(db.Client.APIKey.Query().FirstIDX(w.acme.System(live)))
		me := w.Codec.Encode(w.acme.OwnerID)
		var scenarios []apitest.Scenario
		for _, r := range []struct{ method, path, body string }{
			{"POST", "/v1/auth/login", `{"email":"owner@acme.test","password":"` + testutil.Password + `"}`},
			{"POST", "/v1/auth/refresh", `{"refreshToken":"x"}`},
			{"POST", "/v1/leads", `{"email":"query@acme.test","firstName":"Q","lastName":"P"}`},
			{"GET", "/v1/leads/" + w.mine, ""},
			{"DELETE", "/v1/leads/" + w.mine, ""},
			{"POST", "/v1/leads/" + w.mine + "/restore", ""},
			{"GET", "/v1/leads/" + w.mine + "/duplicates", ""},
			{"POST", "/v1/leads/" + w.mine + "/merge", `{"duplicateIds":[]}`},
			{"POST", "/v1/api-keys", `{"name":"q","environment":"live","scopes":["leads:read"]}`},
			{"DELETE", "/v1/api-keys/" + keyID, ""},
			{"POST", "/v1/api-keys/" + keyID + "/roll", ""},
			{"GET", "/v1/users/me", ""},
			{"GET", "/v1/users/" + me, ""},
		} {
			scenarios = append(scenarios, apitest.Scenario{Name: r.method + " " + r.path,
				Request: apitest.Request{Method: r.method, Path: r.path + "?dryRun=true", Key: w.keys.full, Body: r.body},
				Status:  422, Contains: []string{`"code":"validation_failed"`, `"code":"unknown_field"`}, Check: hasFields("dryRun")})
		}
		w.Run(t, scenarios)
		ctx := w.acme.System(live)
		if n := db.Client.Lead.Query().CountX(ctx); n != 1 {
			t.Errorf("%d leads, want only the world's: a refused request wrote", n)
		}
		if res := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads/" + w.mine, Key: w.keys.full}); res.Status != 200 {
			t.Errorf("the lead was archived by a refused DELETE: %d", res.Status)
		}
		if res := w.Do(t, leadsWith(w.keys.full)); res.Status != 200 {
			t.Errorf("a refused DELETE or roll ended a key: %d", res.Status)
		}
	})
}
