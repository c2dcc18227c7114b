package graph_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

const viewerQuery = `{ viewer { user { email } tenant { slug } environment } leads(first: 10) { edges { node { email } } } }`

// Both credentials work on /graphql, through the same Gate as /v1.
func TestCredentials(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		token := w.login(t, "owner@acme.test")
		for _, tc := range []struct {
			name      string
			headers   map[string]string
			env, lead string
		}{
			{"JWT", map[string]string{"Authorization": "Bearer " + token}, "live", "mine@acme.test"},
			{"JWT in sandbox", map[string]string{"Authorization": "Bearer " + token, "X-Leadron-Environment": "sandbox"}, "sandbox", "sandbox@acme.test"},
			{"API key", map[string]string{"X-API-Key": w.keys.full}, "live", "mine@acme.test"},
			{"API key as bearer", map[string]string{"Authorization": "Bearer " + w.keys.full}, "live", "mine@acme.test"},
			{"sandbox API key", map[string]string{"X-API-Key": w.keys.sandbox}, "sandbox", "sandbox@acme.test"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.post(t, tc.headers, viewerQuery, nil)
				if res.Status != http.StatusOK || len(res.Errors) > 0 {
					t.Fatalf("%d %s", res.Status, res.Body)
				}
				if got := str(dig(res.Data, "viewer", "user", "email")); got != "owner@acme.test" {
					t.Errorf("viewer.user.email = %q", got)
				}
				if got := str(dig(res.Data, "viewer", "tenant", "slug")); got != "acme" {
					t.Errorf("viewer.tenant.slug = %q", got)
				}
				if got := str(dig(res.Data, "viewer", "environment")); got != tc.env {
					t.Errorf("viewer.environment = %q, want %q", got, tc.env)
				}
				edges, _ := dig(res.Data, "leads", "edges").([]any)
				if len(edges) != 1 || str(dig(edges, 0, "node", "email")) != tc.lead {
					t.Errorf("leads = %v, want only %s", edges, tc.lead)
				}
				if res.Header.Get("X-RateLimit-Limit") == "" {
					t.Error("no X-RateLimit-Limit: the Gate's limits must apply")
				}
			})
		}
	})
}

// Requests the endpoint never serves are refused, before authentication
// for what needs none, and always as GraphQL errors with REST's codes, the
// Gate's refusals (credentials, rate limits, the environment) included.
func TestRefusedRequests(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		key := map[string]string{"X-API-Key": w.keys.full}
		query := []byte(`{"query":"{ viewer { environment } }"}`)
		for _, tc := range []struct {
			name        string
			method, ct  string
			headers     map[string]string
			body        []byte
			status      int
			code        string
			notContains string
		}{
			{"GET with a query", http.MethodGet, "", key, nil, http.StatusMethodNotAllowed, "method_not_allowed", ""},
			{"websocket upgrade", http.MethodGet, "", map[string]string{"X-API-Key": w.keys.full, "Upgrade": "websocket", "Connection": "Upgrade"}, nil, http.StatusMethodNotAllowed, "method_not_allowed", ""},
			{"POST with an upgrade", http.MethodPost, "application/json", map[string]string{"X-API-Key": w.keys.full, "Upgrade": "websocket", "Connection": "Upgrade"}, query, http.StatusBadRequest, "bad_request", ""},
			{"multipart", http.MethodPost, "multipart/form-data; boundary=x", key, []byte("--x--"), http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
			{"form", http.MethodPost, "application/x-www-form-urlencoded", key, []byte("query=%7Bviewer%7D"), http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
			{"JSON in another charset", http.MethodPost, "application/json; charset=latin1", key, query, http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
			{"no credentials", http.MethodPost, "application/json", nil, query, http.StatusUnauthorized, "invalid_api_key", ""},
			{"bad key", http.MethodPost, "application/json", map[string]string{"X-API-Key": "ldr_live_sk_nope"}, query, http.StatusUnauthorized, "invalid_api_key", ""},
			{"malformed JWT", http.MethodPost, "application/json", map[string]string{"Authorization": "Bearer not.a.jwt"}, query, http.StatusUnauthorized, "invalid_api_key", ""},
			{"bad environment header", http.MethodPost, "application/json", map[string]string{"Authorization": "Bearer " + w.login(t, "owner@acme.test"), "X-Leadron-Environment": "prod"}, query, http.StatusUnprocessableEntity, "validation_failed", "Validation failed"},
			{"body over 1 MiB", http.MethodPost, "application/json", key,
				append([]byte(`{"query":"{ viewer { environment } }","variables":{"x":"`), append(bytes.Repeat([]byte("a"), 1<<20), `"}}`...)...),
				http.StatusRequestEntityTooLarge, "payload_too_large", ""},
			{"not JSON", http.MethodPost, "application/json", key, []byte(`{"query": "secret-body-text`), http.StatusBadRequest, "invalid_json", "secret-body-text"},
			{"a member named twice", http.MethodPost, "application/json", key,
				[]byte(`{"query":"mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }","variables":{"in":{"email":"a@acme.test","email":"twice@acme.test","firstName":"T","lastName":"W"}}}`),
				http.StatusBadRequest, "invalid_json", "twice@acme.test"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.raw(t, tc.method, tc.ct, tc.headers, tc.body)
				if res.Status != tc.status {
					t.Fatalf("status %d, want %d\n%s", res.Status, tc.status, res.Body)
				}
				// Every refusal, the Gate's included, is GraphQL's shape
				// with REST's code.
				if got := strings.Join(res.codes(), ","); got != tc.code || strings.Contains(res.Body, `"success"`) {
					t.Errorf("codes %q, want %s in GraphQL's shape\n%s", got, tc.code, res.Body)
				}
				if tc.notContains != "" && strings.Contains(res.Body, tc.notContains) {
					t.Errorf("body echoes %q\n%s", tc.notContains, res.Body)
				}
				if tc.status == http.StatusMethodNotAllowed && res.Header.Get("Allow") != "POST" {
					t.Errorf("Allow = %q", res.Header.Get("Allow"))
				}
			})
		}
		for _, ct := range []string{"application/json; charset=utf-8", "application/json; charset=UTF8"} {
			if res := w.raw(t, http.MethodPost, ct, key, query); res.Status != http.StatusOK || len(res.Errors) > 0 {
				t.Errorf("%s: %d %s", ct, res.Status, res.Body)
			}
		}
	})
}

// A tenant over its rate limit gets a GraphQL error too: 429 with
// rate_limited in extensions.code and Retry-After.
func TestRateLimitedInGraphQLShape(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		free := testutil.NewTenantOnPlan(t, db, "initech", "free") // a burst of 10
		key := w.Key(t, free, free.OwnerID, live, "leads:read")
		var res gqlResponse
		for range 11 {
			if res = w.as(t, key, `{ leads(first: 1) { totalCount } }`, nil); res.Status == http.StatusTooManyRequests {
				break
			}
		}
		if res.Status != http.StatusTooManyRequests || strings.Join(res.codes(), ",") != "rate_limited" || res.Header.Get("Retry-After") == "" {
			t.Errorf("over the burst: %d Retry-After %q %s", res.Status, res.Header.Get("Retry-After"), res.Body)
		}
	})
}
