package graph_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// A key made in GraphQL is shown once, works on both APIs, and stops
// working at once when revoked or rolled here: the mutation evicts it from
// the authenticator's cache after commit.
func TestAPIKeyMutations(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		jwt := map[string]string{"Authorization": "Bearer " + w.login(t, "owner@acme.test")}
		works := func(key string) int {
			t.Helper()
			return w.as(t, key, `{ leads(first: 1) { totalCount } }`, nil).Status
		}
		newKey := func(headers map[string]string, name string) (id, plain string) {
			t.Helper()
			res := w.post(t, headers, `mutation($name: String!) { createAPIKey(input: {name: $name, scopes: ["leads:read"]}) {
				key apiKey { id name prefix last4 scopes environment revokedAt owner { email } } } }`, map[string]any{"name": name})
			id, plain = str(dig(res.Data, "createAPIKey", "apiKey", "id")), str(dig(res.Data, "createAPIKey", "key"))
			if id == "" || plain == "" {
				t.Fatalf("createAPIKey: %s", res.Body)
			}
			if got := str(dig(res.Data, "createAPIKey", "apiKey", "owner", "email")); got != "owner@acme.test" {
				t.Errorf("owner %q", got)
			}
			if !strings.HasSuffix(plain, str(dig(res.Data, "createAPIKey", "apiKey", "last4"))) {
				t.Errorf("last4 does not end the key")
			}
			return id, plain
		}

		id, plain := newKey(jwt, "dashboard key")
		if !strings.HasPrefix(plain, "ldr_live_sk_") || works(plain) != http.StatusOK {
			t.Fatalf("the new key %q does not work", plain)
		}
		res := w.post(t, jwt, `{ apiKeys(first: 50) { edges { node { id name prefix } } } }`, nil)
		if !strings.Contains(res.Body, id) || strings.Contains(res.Body, plain) {
			t.Errorf("the key list must show the key once made, never its secret: %s", res.Body)
		}
		res = w.post(t, jwt, `mutation($id: ID!) { revokeAPIKey(id: $id) { id revokedAt } }`, map[string]any{"id": id})
		if dig(res.Data, "revokeAPIKey", "revokedAt") == nil {
			t.Fatalf("revoke: %s", res.Body)
		}
		if got := works(plain); got != http.StatusUnauthorized {
			t.Errorf("a revoked key answered %d, want 401 at once", got)
		}
		res = w.post(t, jwt, `mutation($id: ID!) { rollAPIKey(id: $id) { key } }`, map[string]any{"id": id})
		if got := strings.Join(res.codes(), ","); got != "conflict" {
			t.Errorf("rolling a revoked key: %s", res.Body)
		}

		id, plain = newKey(jwt, "to roll")
		if works(plain) != http.StatusOK {
			t.Fatal("the key does not work")
		}
		res = w.post(t, jwt, `mutation($id: ID!) { rollAPIKey(id: $id, expiresInSeconds: 0) { key apiKey { id } } }`, map[string]any{"id": id})
		rolled := str(dig(res.Data, "rollAPIKey", "key"))
		if rolled == "" || rolled == plain || str(dig(res.Data, "rollAPIKey", "apiKey", "id")) != id {
			t.Fatalf("roll: %s", res.Body)
		}
		if got := works(plain); got != http.StatusUnauthorized {
			t.Errorf("the rolled-over secret answered %d, want 401 at once", got)
		}
		if got := works(rolled); got != http.StatusOK {
			t.Errorf("the new secret answered %d", got)
		}

		// A sandbox session makes sandbox keys.
		_, plain = newKey(map[string]string{"Authorization": jwt["Authorization"], "X-Leadron-Environment": "sandbox"}, "sandbox key")
		if !strings.HasPrefix(plain, "ldr_sandbox_sk_") {
			t.Errorf("sandbox session made %q", plain)
		}

		// Each write is audited, and no secret or hash is in the log.
		evs, err := db.Client.AuditEvent.Query().Where(auditevent.ResourceType("api_key"), auditevent.RequestIDNEQ("")).
			Order(ent.Asc(auditevent.FieldID)).All(w.acme.System(live))
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range evs {
			actions = append(actions, e.Action)
			for f := range e.Changes {
				if strings.Contains(f, "hash") {
					t.Errorf("%s logs %s", e.Action, f)
				}
			}
		}
		if got := strings.Join(actions, ","); got != "api_key.created,api_key.revoked,api_key.created,api_key.rolled" {
			t.Errorf("audit actions %s", got)
		}
	})
}

// A member's session cannot roll another user's key (its new secret would
// act as that user) nor revoke one (api_keys:delete): the data layer's
// rule answers the same in GraphQL as in REST.
func TestMemberCannotTakeOverKeys(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		k, _, err := account.CreateAPIKey(w.acme.System(live), db.Client, account.KeyInput{Name: "owner's", OwnerID: w.acme.OwnerID, Scopes: []string{"full_access"}})
		if err != nil {
			t.Fatal(err)
		}
		id := w.Codec.Encode(k.ID)
		member := map[string]string{"Authorization": "Bearer " + w.login(t, "member@acme.test")}
		for _, tc := range []struct{ name, query, code string }{
			{"roll", `mutation($id: ID!) { rollAPIKey(id: $id) { key } }`, "forbidden"},
			{"revoke", `mutation($id: ID!) { revokeAPIKey(id: $id) { id } }`, "insufficient_scope"},
		} {
			res := w.post(t, member, tc.query, map[string]any{"id": id})
			if got := strings.Join(res.codes(), ","); got != tc.code || strings.Contains(res.Body, "ldr_live_sk_") {
				t.Errorf("%s the owner's key as a member: %s, want %s", tc.name, res.Body, tc.code)
			}
		}
		if now := db.Client.APIKey.GetX(w.acme.System(live), k.ID); now.RevokedAt != nil || !bytes.Equal(now.KeyHash, k.KeyHash) {
			t.Error("the owner's key was revoked or rolled")
		}
		// Revoking a key already revoked changes nothing, and still needs
		// api_keys:delete.
		if _, err := account.RevokeAPIKey(w.acme.System(live), db.Client, k.ID); err != nil {
			t.Fatal(err)
		}
		res := w.post(t, member, `mutation($id: ID!) { revokeAPIKey(id: $id) { id } }`, map[string]any{"id": id})
		if got := strings.Join(res.codes(), ","); got != "insufficient_scope" {
			t.Errorf("a member revoking a revoked key: %s, want insufficient_scope", res.Body)
		}
	})
}
