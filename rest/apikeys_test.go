package rest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadron/leadron/ent/apikey"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
	"github.com/leadron/leadron/rest"
)

// apiKeyKeys are the fields of an API key in responses; a new or rolled key
// adds "key".
var apiKeyKeys = []string{"createdAt", "createdBy", "environment", "expiresAt", "id", "last4", "lastUsedAt", "name", "prefix", "revokedAt", "scopes"}

var liveKeyPattern = regexp.MustCompile(`^ldr_live_sk_[A-Za-z0-9]{32,}$`)

// newKey creates a key through the API and returns its ID and plaintext.
func newKey(t *testing.T, w *world, caller, b string) (id, plain string) {
	t.Helper()
	res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: caller, Body: b})
	if res.Status != 201 {
		t.Fatalf("creating a key: %d %s", res.Status, res.Body)
	}
	d := res.Data(t)
	return d["id"].(string), d["key"].(string)
}

// leadsWith is a request that any working key with leads:read passes.
func leadsWith(key string) apitest.Request {
	return apitest.Request{Method: "GET", Path: "/v1/leads", Key: key}
}

func TestAPIKeyLifecycle(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		var id, first string
		w.Run(t, []apitest.Scenario{
			{Name: "create", Request: apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: w.keys.full,
				Body: `{"name":"Zapier","environment":"live","scopes":["leads:read","leads:write"]}`}, Status: 201,
				Contains: []string{`"message":"Resource created successfully"`, `"name":"Zapier"`, `"scopes":["leads:read","leads:write"]`,
					`"createdBy":"` + w.Codec.Encode(w.acme.OwnerID) + `"`, `"lastUsedAt":null`, `"expiresAt":null`, `"revokedAt":null`},
				NotContains: secrets,
				Check: func(t *testing.T, res apitest.Response) {
					d := res.Data(t)
					if keys := slices.Sorted(maps.Keys(d)); !slices.Equal(keys, slices.Sorted(slices.Values(append(slices.Clone(apiKeyKeys), "key")))) {
						t.Errorf("key fields %v", keys)
					}
					id, first = d["id"].(string), d["key"].(string)
					if !liveKeyPattern.MatchString(first) {
						t.Errorf("key %q does not match %s", first, liveKeyPattern)
					}
					if !strings.HasPrefix(first, d["prefix"].(string)) || !strings.HasSuffix(first, d["last4"].(string)) {
						t.Errorf("prefix %v and last4 %v do not frame the key", d["prefix"], d["last4"])
					}
				}},
		})
		if first == "" {
			t.Fatal("no key to go on with")
		}
		list := apitest.Request{Method: "GET", Path: "/v1/api-keys?limit=100", Key: w.keys.full}
		w.Run(t, []apitest.Scenario{
			{Name: "the new key works", Request: leadsWith(first), Status: 200, Contains: []string{"mine@acme.test"}},
			{Name: "but only with its scopes", Request: apitest.Request{Method: "GET", Path: "/v1/api-keys", Key: first}, Status: 403,
				Contains: []string{"'api_keys:read'"}},
			{Name: "listed without its secret", Request: list, Status: 200,
				Contains: []string{`"id":"` + id + `"`, `"name":"Zapier"`}, NotContains: append([]string{first, `"key":`}, secrets...),
				Check: func(t *testing.T, res apitest.Response) {
					for _, item := range res.JSON(t)["data"].([]any) {
						if keys := slices.Sorted(maps.Keys(item.(map[string]any))); !slices.Equal(keys, apiKeyKeys) {
							t.Errorf("listed key fields %v", keys)
						}
					}
				}},
		})

		roll := func(b string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/api-keys/" + id + "/roll", Key: w.keys.full, Body: b}
		}
		var second string
		w.Run(t, []apitest.Scenario{
			{Name: "roll with a grace period", Request: roll(`{"expiresInSeconds":1}`), Status: 200,
				Contains: []string{`"id":"` + id + `"`, `"name":"Zapier"`}, NotContains: []string{first},
				Check: func(t *testing.T, res apitest.Response) {
					second = res.Data(t)["key"].(string)
					if !liveKeyPattern.MatchString(second) {
						t.Errorf("rolled key %q", second)
					}
				}},
		})
		w.Run(t, []apitest.Scenario{
			{Name: "the old secret works during the grace period", Request: leadsWith(first), Status: 200},
			{Name: "the new secret works", Request: leadsWith(second), Status: 200},
		})
		time.Sleep(1200 * time.Millisecond)
		w.Run(t, []apitest.Scenario{
			{Name: "the old secret is refused after the grace period", Request: leadsWith(first), Status: 401, Contains: []string{`"code":"invalid_api_key"`}},
			{Name: "the new secret still works", Request: leadsWith(second), Status: 200},
		})

		var third string
		w.Run(t, []apitest.Scenario{
			{Name: "roll without a body", Request: roll(""), Status: 200, NotContains: []string{second},
				Check: func(t *testing.T, res apitest.Response) { third = res.Data(t)["key"].(string) }},
		})
		w.Run(t, []apitest.Scenario{
			{Name: "the replaced secret is refused at once", Request: leadsWith(second), Status: 401},
			{Name: "the newest secret works", Request: leadsWith(third), Status: 200},
			{Name: "roll with an empty object", Request: roll(`{}`), Status: 200,
				Check: func(t *testing.T, res apitest.Response) { third = res.Data(t)["key"].(string) }},
		})
		w.Run(t, []apitest.Scenario{
			{Name: "grace period too long", Request: roll(`{"expiresInSeconds":604801}`), Status: 422,
				Contains: []string{`"code":"out_of_range"`}, Check: hasFields("expiresInSeconds")},
			{Name: "negative grace period", Request: roll(`{"expiresInSeconds":-1}`), Status: 422, Check: hasFields("expiresInSeconds")},
			{Name: "a grace period that would overflow", Request: roll(`{"expiresInSeconds":9223372037}`), Status: 422, Check: hasFields("expiresInSeconds")},
			{Name: "grace period of the wrong type", Request: roll(`{"expiresInSeconds":"60"}`), Status: 422,
				Contains: []string{"expiresInSeconds must be an integer"}, Check: hasFields("expiresInSeconds")},
			{Name: "null grace period", Request: roll(`{"expiresInSeconds":null}`), Status: 422, Check: hasFields("expiresInSeconds")},
			{Name: "unknown roll field", Request: roll(`{"expiresAt":"2030-01-01T00:00:00Z"}`), Status: 422, Check: hasFields("expiresAt")},
			{Name: "roll body that is not JSON", Request: roll(`{`), Status: 400, Contains: []string{`"code":"invalid_json"`}},
			{Name: "a refused roll changed nothing", Request: leadsWith(third), Status: 200},
			{Name: "a key without api_keys:write cannot roll", Request: apitest.Request{Method: "POST", Path: "/v1/api-keys/" + id + "/roll", Key: w.keys.readOnly},
				Status: 403, Contains: []string{"'api_keys:write'"}},
			{Name: "revoke", Request: apitest.Request{Method: "DELETE", Path: "/v1/api-keys/" + id, Key: w.keys.full}, Status: 204,
				Check: func(t *testing.T, res apitest.Response) {
					if res.Body != "" {
						t.Errorf("204 with a body: %q", res.Body)
					}
				}},
			{Name: "a revoked key is refused at once", Request: leadsWith(third), Status: 401, Contains: []string{`"code":"invalid_api_key"`}},
			{Name: "revoking again is a no-op", Request: apitest.Request{Method: "DELETE", Path: "/v1/api-keys/" + id, Key: w.keys.full}, Status: 204},
			{Name: "a revoked key cannot be rolled", Request: roll(""), Status: 409, Contains: []string{`"code":"conflict"`}},
			{Name: "a revoked key is listed as revoked", Request: list, Status: 200, Contains: []string{`"revokedAt":"`}, NotContains: []string{third}},
			{Name: "a key without api_keys:delete cannot revoke", Request: apitest.Request{Method: "DELETE", Path: "/v1/api-keys/" + id, Key: w.keys.readOnly},
				Status: 403, Contains: []string{"'api_keys:delete'"}},
		})

		// Each write is in the log, with its actor and key.
		ctx := w.acme.System(live)
		events := db.Client.AuditEvent.Query().
			Where(auditevent.ResourceType("api_key"), auditevent.ResourceID(mustDecode(t, w, id))).
			Order(auditevent.ByID()).AllX(ctx)
		var actions []string
		for _, ev := range events {
			actions = append(actions, ev.Action)
			if ev.ActorID == nil || *ev.ActorID != w.acme.OwnerID || ev.APIKeyID == nil {
				t.Errorf("%s: actor %v key %v", ev.Action, ev.ActorID, ev.APIKeyID)
			}
		}
		want := []string{"api_key.created", "api_key.rolled", "api_key.rolled", "api_key.rolled", "api_key.revoked"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit actions %v, want %v", actions, want)
		}
		w.Run(t, []apitest.Scenario{
			{Name: "the log over the API", Request: apitest.Request{Method: "GET", Path: "/v1/audit-events?resourceType=api_key&resourceId=" + id, Key: w.keys.full},
				Status: 200, NotContains: append([]string{first, second, third}, secrets...),
				Check: func(t *testing.T, res apitest.Response) {
					var got []string
					for _, ev := range res.JSON(t)["data"].([]any) {
						got = append(got, ev.(map[string]any)["action"].(string))
					}
					slices.Reverse(got) // newest first
					if !slices.Equal(got, want) {
						t.Errorf("listed actions %v, want %v", got, want)
					}
				}},
		})
	})
}

// A member may roll only the keys they created: a rolled key's new secret
// acts as the key's owner, so rolling the owner's key would hand the
// member the owner's rights. Revoking needs api_keys:delete, which a member
// does not have. Owners and admins manage every key of the tenant.
func TestManagingOthersKeys(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		admin, member := w.User(t, w.acme, "admin@acme.test", "admin"), w.member
		keyOf := func(userID int, scopes ...string) (id, plain string) {
			k, plain, err := account.CreateAPIKey(w.acme.System(live), db.Client, account.KeyInput{Name: "k", OwnerID: userID, Scopes: scopes})
			if err != nil {
				t.Fatal(err)
			}
			return w.Codec.Encode(k.ID), plain
		}
		// Each actor holds every api_keys scope; its role decides the rest.
		asMember := w.keys.member
		_, asAdmin := keyOf(admin.ID, "full_access")
		ownersKey, ownersSecret := keyOf(w.acme.OwnerID, "full_access")
		membersKey, _ := keyOf(member.ID, "leads:read")
		secondMembersKey, _ := keyOf(member.ID, "leads:read")
		roll := func(id, as string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/api-keys/" + id + "/roll", Key: as}
		}
		revoke := func(id, as string) apitest.Request {
			return apitest.Request{Method: "DELETE", Path: "/v1/api-keys/" + id, Key: as}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "a member cannot roll the owner's key", Request: roll(ownersKey, asMember), Status: 403,
				Contains: []string{`"code":"forbidden"`}, NotContains: []string{`"key":`}},
			{Name: "so the owner's secret still works", Request: leadsWith(ownersSecret), Status: 200},
			{Name: "a member cannot revoke the owner's key", Request: revoke(ownersKey, asMember), Status: 403,
				Contains: []string{`"code":"insufficient_scope"`, "'api_keys:delete'"}},
			{Name: "nor their own", Request: revoke(membersKey, asMember), Status: 403, Contains: []string{"'api_keys:delete'"}},
			{Name: "the owner's key survived", Request: leadsWith(ownersSecret), Status: 200},
			{Name: "a member rolls their own key", Request: roll(membersKey, asMember), Status: 200, Contains: []string{`"key":"ldr_live_sk_`}},
			{Name: "an admin rolls the owner's key", Request: roll(ownersKey, asAdmin), Status: 200, Contains: []string{`"key":"ldr_live_sk_`}},
			{Name: "an admin revokes a member's key", Request: revoke(secondMembersKey, asAdmin), Status: 204},
		})
		// The data layer holds the rule, whatever the adapter: a member's
		// viewer cannot update another user's key there either.
		v := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, TenantID: w.acme.ID, Environment: live,
			UserID: member.ID, Role: scope.RoleMember, Scopes: scope.ForRole(scope.RoleMember)})
		err := db.Client.APIKey.UpdateOneID(mustDecode(t, w, ownersKey)).SetName("mine now").Exec(v)
		if !errors.Is(err, rule.ErrNotYours) {
			t.Errorf("a member renaming the owner's key: %v, want ErrNotYours", err)
		}
		err = db.Client.APIKey.DeleteOneID(mustDecode(t, w, membersKey)).Exec(v)
		if !errors.Is(err, rule.ErrNotYours) {
			t.Errorf("a member deleting their own key: %v, want ErrNotYours", err)
		}
	})
}

// A rolled key's old secret keeps working through its grace period, but
// cannot manage credentials: it cannot roll the key back, revoke it, or make
// keys, on REST or GraphQL. Otherwise whoever leaked the secret could lock
// the owner out, or mint a key that outlives the roll.
func TestRolledSecretCannotManageCredentials(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		k, old, err := account.CreateAPIKey(w.acme.System(live), db.Client, account.KeyInput{Name: "leaked", OwnerID: w.acme.OwnerID, Scopes: []string{"full_access"}})
		if err != nil {
			t.Fatal(err)
		}
		id := w.Codec.Encode(k.ID)
		res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/api-keys/" + id + "/roll", Key: w.keys.full, Body: `{"expiresInSeconds":3600}`})
		if res.Status != 200 {
			t.Fatalf("roll: %d %s", res.Status, res.Body)
		}
		current := res.Data(t)["key"].(string)
		gql := func(query string) apitest.Request {
			// OffContract: /graphql is not in the REST API's OpenAPI document.
			return apitest.Request{Method: "POST", Path: "/graphql", Key: old, Body: fmt.Sprintf(`{"query":%q}`, query), OffContract: true}
		}
		refused := []string{`"code":"insufficient_scope"`}
		w.Run(t, []apitest.Scenario{
			{Name: "the old secret still reads", Request: leadsWith(old), Status: 200, Contains: []string{"mine@acme.test"}},
			{Name: "and writes leads", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Key: old,
				Body: `{"email":"grace@acme.test","firstName":"G","lastName":"P"}`}, Status: 201},
			{Name: "and lists keys", Request: apitest.Request{Method: "GET", Path: "/v1/api-keys", Key: old}, Status: 200},
			{Name: "but cannot roll the key back", Request: apitest.Request{Method: "POST", Path: "/v1/api-keys/" + id + "/roll", Key: old,
				Body: `{"expiresInSeconds":0}`}, Status: 403, Contains: append(refused, "'api_keys:write'"), NotContains: []string{`"key":`}},
			{Name: "nor revoke it", Request: apitest.Request{Method: "DELETE", Path: "/v1/api-keys/" + id, Key: old}, Status: 403,
				Contains: append(refused, "'api_keys:delete'")},
			{Name: "nor make a key", Request: apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: old,
				Body: `{"name":"mine","environment":"live","scopes":["full_access"]}`}, Status: 403, Contains: refused, NotContains: []string{`"key":`}},
			{Name: "nor make one through GraphQL", Request: gql(`mutation { createAPIKey(input: {name: "mine", scopes: ["full_access"]}) { key } }`),
				Status: 200, Contains: refused, NotContains: []string{`"key":"ldr_`}},
			{Name: "nor roll through GraphQL", Request: gql(`mutation { rollAPIKey(id: "` + id + `") { key } }`),
				Status: 200, Contains: refused, NotContains: []string{`"key":"ldr_`}},
			{Name: "the current secret still works", Request: leadsWith(current), Status: 200},
			{Name: "and may still roll it", Request: apitest.Request{Method: "POST", Path: "/v1/api-keys/" + id + "/roll", Key: current}, Status: 200, Contains: []string{`"key":"ldr_live_sk_`}},
		})
		if n := db.Client.APIKey.Query().CountX(w.acme.System(live)); n != 6 {
			t.Errorf("%d live keys, want the world's 5 and the leaked one", n)
		}
	})
}

// A key revoked on one instance stops working on every other within
// KeyCacheTTL, however recently the other instance cached it.
func TestRevocationReachesOtherInstances(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		other := apitest.New(t, db)
		id, plain := newKey(t, w, w.keys.full, `{"name":"shared","environment":"live","scopes":["leads:read"]}`)
		if res := other.Do(t, leadsWith(plain)); res.Status != 200 {
			t.Fatalf("the other instance refuses a fresh key: %s", res.Body)
		}
		if res := w.Do(t, apitest.Request{Method: "DELETE", Path: "/v1/api-keys/" + id, Key: w.keys.full}); res.Status != 204 {
			t.Fatalf("revoking: %s", res.Body)
		}
		revoked := time.Now()
		deadline := revoked.Add(rest.KeyCacheTTL + time.Second)
		for {
			res := other.Do(t, leadsWith(plain))
			if res.Status == 401 {
				break
			}
			if res.Status != 200 {
				t.Fatalf("unexpected answer: %d %s", res.Status, res.Body)
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other instance still accepts the key %v after revocation", time.Since(revoked))
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("refused by the other instance %v after revocation", time.Since(revoked).Round(time.Millisecond))
	})
}

func TestCreateAPIKeyErrors(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.acme.System(live)
		before := db.Client.APIKey.Query().CountX(ctx)
		keysOnly := w.Key(t, w.acme, w.acme.OwnerID, live, "api_keys:read", "api_keys:write")
		post := func(key, b string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: key, Body: b}
		}
		valid := `"name":"CI","environment":"live"`
		future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		created := 0
		count := func(t *testing.T, res apitest.Response) { created++ }
		res := login(t, w, "owner@acme.test", testutil.Password)
		if res.Status != 200 {
			t.Fatalf("login: %s", res.Body)
		}
		session := func(env, b string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/api-keys", Body: b,
				Headers: map[string]string{"Authorization": "Bearer " + res.Data(t)["accessToken"].(string), "X-Leadron-Environment": env}}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "a sandbox key cannot create a live key", Request: post(w.keys.sandbox, body(valid, `"scopes":["leads:read"]`)), Status: 403,
				Contains: []string{`"code":"forbidden"`, "A sandbox key cannot create live keys"}, Check: hasFields("environment")},
			{Name: "a live key cannot create a sandbox key", Request: post(w.keys.full, `{"name":"CI","environment":"sandbox","scopes":["leads:read"]}`), Status: 403,
				Contains: []string{"A live key cannot create sandbox keys"}, Check: hasFields("environment")},
			{Name: "a sandbox key creates a sandbox key", Request: post(w.keys.sandbox, `{"name":"CI","environment":"sandbox","scopes":["leads:read"]}`), Status: 201,
				Contains: []string{`"environment":"sandbox"`, `"key":"ldr_sandbox_sk_`}},
			{Name: "a sandbox session cannot create a live key", Request: session("sandbox", body(valid, `"scopes":["leads:read"]`)), Status: 403,
				Contains: []string{`"code":"forbidden"`, "A sandbox session cannot create live keys"}, Check: hasFields("environment")},
			{Name: "a live session creates a live key", Request: session("live", body(valid, `"scopes":["leads:read"]`)), Status: 201,
				Contains: []string{`"createdBy":"` + w.Codec.Encode(w.acme.OwnerID) + `"`}, Check: count},
			{Name: "scopes beyond the caller's own", Request: post(keysOnly, body(valid, `"scopes":["full_access"]`)), Status: 422,
				Contains: []string{"beyond your own", "leads:write"}, Check: hasFields("scopes")},
			{Name: "scopes within the caller's own", Request: post(keysOnly, body(valid, `"scopes":["api_keys:read"]`)), Status: 201, Check: count},
			{Name: "scopes beyond the owner's role", Request: post(w.keys.member, body(valid, `"scopes":["audit:read"]`)), Status: 422,
				Contains: []string{"audit:read"}, Check: hasFields("scopes")},
			{Name: "a member creates a key within its role", Request: post(w.keys.member, body(valid, `"scopes":["crm"]`)), Status: 201,
				Contains: []string{`"createdBy":"` + w.Codec.Encode(w.member.ID) + `"`}, Check: count},
			{Name: "unknown scope", Request: post(w.keys.full, body(valid, `"scopes":["leads:fly"]`)), Status: 422,
				Contains: []string{`unknown scope \"leads:fly\"`}, Check: hasFields("scopes")},
			{Name: "no scopes", Request: post(w.keys.full, body(valid, `"scopes":[]`)), Status: 422, Check: hasFields("scopes")},
			{Name: "missing name", Request: post(w.keys.full, `{"environment":"live","scopes":["leads:read"]}`), Status: 422,
				Contains: []string{`"code":"required"`}, Check: hasFields("name")},
			{Name: "empty name", Request: post(w.keys.full, `{"name":"","environment":"live","scopes":["leads:read"]}`), Status: 422, Check: hasFields("name")},
			{Name: "name too long", Request: post(w.keys.full, `{"name":"`+strings.Repeat("n", 101)+`","environment":"live","scopes":["leads:read"]}`), Status: 422, Check: hasFields("name")},
			{Name: "every required field missing", Request: post(w.keys.full, `{}`), Status: 422, Check: hasFields("name", "environment", "scopes")},
			{Name: "wrong types", Request: post(w.keys.full, `{"name":5,"environment":"live","scopes":"leads:read","expiresAt":"tomorrow"}`), Status: 422,
				Check: hasFields("name", "scopes", "expiresAt")},
			{Name: "null name", Request: post(w.keys.full, body(`"name":null,"environment":"live","scopes":["leads:read"]`)), Status: 422,
				Contains: []string{"name cannot be null"}, Check: hasFields("name")},
			{Name: "unknown environment", Request: post(w.keys.full, `{"name":"CI","environment":"prod","scopes":["leads:read"]}`), Status: 422, Check: hasFields("environment")},
			{Name: "server-set fields are unknown", Request: post(w.keys.full, body(valid, `"scopes":["leads:read"],"key":"ldr_live_sk_x","createdBy":"x"`)), Status: 422,
				Contains: []string{`"code":"unknown_field"`}, Check: hasFields("createdBy", "key")},
			{Name: "expiresAt in the past", Request: post(w.keys.full, body(valid, `"scopes":["leads:read"],"expiresAt":"`+past+`"`)), Status: 422,
				Contains: []string{"expiresAt must be in the future"}, Check: hasFields("expiresAt")},
			{Name: "expiresAt in the future", Request: post(w.keys.full, body(valid, `"scopes":["leads:read"],"expiresAt":"`+future+`"`)), Status: 201,
				Contains: []string{`"expiresAt":"` + strings.TrimSuffix(future, "Z") + `.000Z"`}, Check: count},
			{Name: "malformed JSON", Request: post(w.keys.full, `{"name":`), Status: 400, Contains: []string{`"code":"invalid_json"`}},
			{Name: "a viewer's key cannot create keys", Request: post(w.keys.viewer, body(valid, `"scopes":["leads:read"]`)), Status: 403,
				Contains: []string{`"code":"insufficient_scope"`, "'api_keys:write'"}},
			{Name: "a read-only key cannot create keys", Request: post(w.keys.readOnly, body(valid, `"scopes":["leads:read"]`)), Status: 403,
				Contains: []string{"'api_keys:write'"}},
		})
		// keysOnly is the one key made outside the API.
		if n := db.Client.APIKey.Query().CountX(ctx); n != before+1+created {
			t.Errorf("acme has %d live keys, want %d: a refused request wrote one", n, before+1+created)
		}
		if n := db.Client.APIKey.Query().Where(apikey.Name("CI")).CountX(w.acme.System(sandbox)); n != 1 {
			t.Errorf("acme has %d sandbox keys named CI, want 1", n)
		}
	})
}

// Another tenant's key, another environment's, a malformed ID and an ID of
// another type all answer the same 404, and nothing changes.
func TestAPIKeysAcrossTenantsAndEnvironments(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		id, plain := newKey(t, w, w.keys.full, `{"name":"acme's","environment":"live","scopes":["leads:read"]}`)
		sandboxID, _ := newKey(t, w, w.keys.sandbox, `{"name":"acme sandbox","environment":"sandbox","scopes":["leads:read"]}`)
		var bodies []string
		collect := func(t *testing.T, res apitest.Response) { bodies = append(bodies, withoutMeta(t, res)) }
		var scenarios []apitest.Scenario
		for _, target := range []struct{ caller, name, id string }{
			{w.keys.globex, "another tenant's key", id},
			{w.keys.full, "another environment's key", sandboxID},
			{w.keys.full, "a malformed ID", "not-an-id"},
			{w.keys.full, "a lead's ID", w.mine},
		} {
			for _, req := range []apitest.Request{
				{Method: "DELETE", Path: "/v1/api-keys/" + target.id},
				{Method: "POST", Path: "/v1/api-keys/" + target.id + "/roll"},
				{Method: "POST", Path: "/v1/api-keys/" + target.id + "/roll", Body: `{"expiresInSeconds":60}`},
			} {
				req.Key = target.caller
				scenarios = append(scenarios, apitest.Scenario{Name: req.Method + " " + req.Path[len("/v1/api-keys/"):] + " " + target.name, Request: req,
					Status: 404, Contains: []string{`"code":"not_found"`}, Check: collect})
			}
		}
		scenarios = append(scenarios,
			apitest.Scenario{Name: "globex's list", Request: apitest.Request{Method: "GET", Path: "/v1/api-keys", Key: w.keys.globex}, Status: 200,
				NotContains: []string{id, sandboxID, "acme's"}},
			apitest.Scenario{Name: "acme's sandbox list", Request: apitest.Request{Method: "GET", Path: "/v1/api-keys", Key: w.keys.sandbox}, Status: 200,
				Contains: []string{sandboxID, `"environment":"sandbox"`}, NotContains: []string{id, `"environment":"live"`}},
			apitest.Scenario{Name: "the key still works", Request: leadsWith(plain), Status: 200},
		)
		w.Run(t, scenarios)
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("404 bodies differ:\n%s\n%s", bodies[0], b)
			}
		}
		k := db.Client.APIKey.GetX(w.acme.System(live), mustDecode(t, w, id))
		if k.RevokedAt != nil || k.PreviousExpiresAt != nil || !strings.HasSuffix(plain, k.Last4) {
			t.Errorf("a refused request changed the key: %+v", k)
		}
		if n := db.Client.AuditEvent.Query().Where(auditevent.ResourceType("api_key"), auditevent.ActionNEQ("api_key.created")).CountX(w.acme.System(live)); n != 0 {
			t.Errorf("acme's log gained %d key events", n)
		}
	})
}

func TestListAPIKeys(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		all := db.Client.APIKey.Query().CountX(w.acme.System(live))
		list := func(q string) apitest.Request {
			return apitest.Request{Method: "GET", Path: "/v1/api-keys?" + q, Key: w.keys.full}
		}
		// Page by two through every key, in both orders.
		for _, sort := range []string{"-createdAt", "createdAt"} {
			seen := map[string]bool{}
			var order []string
			after := ""
			for pages := 0; ; pages++ {
				q := "limit=2&sort=" + sort
				if after != "" {
					q += "&after=" + after
				}
				res := w.Do(t, list(q))
				if res.Status != 200 {
					t.Fatalf("%s page %d: %s", sort, pages, res.Body)
				}
				m := res.JSON(t)
				for _, item := range m["data"].([]any) {
					id := item.(map[string]any)["id"].(string)
					if seen[id] {
						t.Fatalf("%s: key %s seen twice", sort, id)
					}
					seen[id] = true
					order = append(order, id)
				}
				p := m["meta"].(map[string]any)["pagination"].(map[string]any)
				if p["hasMore"] != true {
					break
				}
				after = p["nextCursor"].(string)
				if pages > all {
					t.Fatal("paging does not end")
				}
			}
			if len(seen) != all {
				t.Errorf("%s: %d keys listed, want %d", sort, len(seen), all)
			}
			if sort == "createdAt" && order[0] != w.Codec.Encode(db.Client.APIKey.Query().Order(apikey.ByID()).FirstIDX(w.acme.System(live))) {
				t.Errorf("oldest first does not start with the first key")
			}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "unknown parameter", Request: list("name=x"), Status: 422, Check: hasFields("name")},
			{Name: "unknown sort", Request: list("sort=name"), Status: 422, Check: hasFields("sort")},
			{Name: "bad limit and cursor", Request: list("limit=0&after=xyz"), Status: 422, Check: hasFields("limit", "after")},
			{Name: "a viewer's key cannot list keys", Request: apitest.Request{Method: "GET", Path: "/v1/api-keys", Key: w.keys.viewer}, Status: 403,
				Contains: []string{"'api_keys:read'"}},
			{Name: "a member's key may", Request: apitest.Request{Method: "GET", Path: "/v1/api-keys", Key: w.keys.member}, Status: 200},
		})
	})
}

// A key's name must not be blank, and its scopes are stored once each.
func TestAPIKeyNameAndScopesAreTidy(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		create := func(body string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: w.keys.full, Body: body}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "a blank name", Request: create(`{"name":"   ","environment":"live","scopes":["leads:read"]}`), Status: 422, Check: hasFields("name")},
			{Name: "a repeated scope", Request: create(`{"name":"k","environment":"live","scopes":["leads:read","crm"," leads:read"]}`), Status: 201,
				Contains: []string{`"scopes":["leads:read","crm"]`}},
		})
	})
}
