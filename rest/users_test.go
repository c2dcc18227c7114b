package rest_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// userKeys are the fields of a user in responses.
var userKeys = []string{"createdAt", "email", "firstName", "id", "lastName", "role", "tenantId", "updatedAt"}

// userNotes are what a user response must never show.
var userNotes = append([]string{"tokenVersion", "token_version", "owner@globex.test"}, secrets...)

func TestUsers(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		owner, member := w.Codec.Encode(w.acme.OwnerID), w.Codec.Encode(w.member.ID)
		get := func(key, path string) apitest.Request {
			return apitest.Request{Method: "GET", Path: "/v1" + path, Key: key}
		}
		fields := func(t *testing.T, res apitest.Response) {
			var items []any
			switch d := res.JSON(t)["data"].(type) {
			case []any:
				items = d
			default:
				items = []any{d}
			}
			for _, item := range items {
				if keys := slices.Sorted(maps.Keys(item.(map[string]any))); !slices.Equal(keys, userKeys) {
					t.Errorf("user fields %v, want %v", keys, userKeys)
				}
			}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "list", Request: get(w.keys.full, "/users"), Status: 200,
				Contains:    []string{"owner@acme.test", "member@acme.test", "viewer@acme.test", `"tenantId":"acme"`, `"role":"owner"`, `"hasMore":false`},
				NotContains: userNotes, Check: fields},
			{Name: "oldest first", Request: get(w.keys.full, "/users?sort=createdAt&limit=1"), Status: 200,
				Contains: []string{`"id":"` + owner + `"`, `"hasMore":true`}, NotContains: []string{"member@acme.test"}},
			{Name: "one user", Request: get(w.keys.full, "/users/"+member), Status: 200,
				Contains: []string{`"email":"member@acme.test"`, `"role":"member"`, `"firstName":"Test"`}, NotContains: userNotes, Check: fields},
			{Name: "a viewer's key reads users", Request: get(w.keys.viewer, "/users"), Status: 200, Contains: []string{"member@acme.test"}},
			{Name: "a key without users:read cannot list", Request: get(w.keys.writer, "/users"), Status: 403,
				Contains: []string{`"code":"insufficient_scope"`, "'users:read'"}},
			{Name: "nor read one", Request: get(w.keys.writer, "/users/"+member), Status: 403, Contains: []string{"'users:read'"}},
			{Name: "unknown parameter", Request: get(w.keys.full, "/users?role=owner"), Status: 422, Check: hasFields("role")},
			{Name: "unknown sort", Request: get(w.keys.full, "/users?sort=email"), Status: 422, Check: hasFields("sort")},
			{Name: "bad cursor", Request: get(w.keys.full, "/users?before=xyz"), Status: 422, Check: hasFields("before")},
			{Name: "globex sees only its own", Request: get(w.keys.globex, "/users"), Status: 200,
				Contains: []string{"owner@globex.test", `"tenantId":"globex"`}, NotContains: []string{"acme.test", owner, member}},
		})

		// Paging one by one sees each user once.
		seen := map[string]bool{}
		for after, pages := "", 0; ; pages++ {
			path := "/users?limit=1"
			if after != "" {
				path += "&after=" + after
			}
			res := w.Do(t, get(w.keys.full, path))
			m := res.JSON(t)
			for _, u := range m["data"].([]any) {
				id := u.(map[string]any)["id"].(string)
				if seen[id] {
					t.Fatalf("user %s seen twice", id)
				}
				seen[id] = true
			}
			p := m["meta"].(map[string]any)["pagination"].(map[string]any)
			if p["hasMore"] != true {
				break
			}
			after = p["nextCursor"].(string)
			if pages > 5 {
				t.Fatal("paging does not end")
			}
		}
		if len(seen) != 3 {
			t.Errorf("paged through %d users, want 3", len(seen))
		}
	})
}

// Another tenant's user, a malformed ID and an ID of another type all answer
// the same 404.
func TestUsersAcrossTenants(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		var bodies []string
		collect := func(t *testing.T, res apitest.Response) { bodies = append(bodies, withoutMeta(t, res)) }
		var scenarios []apitest.Scenario
		for _, target := range []struct{ name, id string }{
			{"another tenant's owner", w.Codec.Encode(w.globex.OwnerID)},
			{"a malformed ID", "not-an-id"},
			{"a lead's ID", w.mine},
		} {
			scenarios = append(scenarios, apitest.Scenario{Name: target.name, Request: apitest.Request{Method: "GET", Path: "/v1/users/" + target.id, Key: w.keys.full},
				Status: 404, Contains: []string{`"code":"not_found"`}, NotContains: []string{"globex"}, Check: collect})
		}
		w.Run(t, scenarios)
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("404 bodies differ:\n%s\n%s", bodies[0], b)
			}
		}
	})
}

func TestCurrentUser(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		owner, member := w.Codec.Encode(w.acme.OwnerID), w.Codec.Encode(w.member.ID)
		leadsOnly := w.Key(t, w.acme, w.acme.OwnerID, live, "leads:read")
		me := func(key string, headers map[string]string) apitest.Request {
			return apitest.Request{Method: "GET", Path: "/v1/users/me", Key: key, Headers: headers}
		}
		res := login(t, w, "member@acme.test", testutil.Password)
		if res.Status != 200 {
			t.Fatalf("login: %s", res.Body)
		}
		token := res.Data(t)["accessToken"].(string)
		w.Run(t, []apitest.Scenario{
			{Name: "a key without users:read", Request: me(leadsOnly, nil), Status: 200,
				Contains: []string{`"id":"` + owner + `"`, `"email":"owner@acme.test"`, `"tenantId":"acme"`}, NotContains: userNotes},
			{Name: "a member's key", Request: me(w.keys.member, nil), Status: 200, Contains: []string{`"id":"` + member + `"`, `"role":"member"`}},
			{Name: "a sandbox key", Request: me(w.keys.sandbox, nil), Status: 200, Contains: []string{`"id":"` + owner + `"`}},
			{Name: "on behalf of a member", Request: me(w.keys.full, map[string]string{"X-On-Behalf-Of": member}), Status: 200,
				Contains: []string{`"email":"member@acme.test"`}},
			{Name: "a dashboard session", Request: me("", bearer(token)), Status: 200, Contains: []string{`"email":"member@acme.test"`}, NotContains: userNotes},
			{Name: "globex's key", Request: me(w.keys.globex, nil), Status: 200, Contains: []string{`"email":"owner@globex.test"`, `"tenantId":"globex"`}},
			{Name: "no credentials", Request: me("", nil), Status: 401, Contains: []string{`"code":"invalid_api_key"`}},
		})
	})
}
