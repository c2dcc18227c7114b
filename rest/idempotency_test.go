package rest_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadron/leadron/ent/idempotencykey"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

func TestIdempotencyKey(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		post := func(key, idem, b string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/leads", Key: key, Body: b,
				Headers: map[string]string{"Idempotency-Key": idem}}
		}
		const first = `{"email":"idem@acme.test","firstName":"I","lastName":"D"}`
		var patched apitest.Response
		res1 := w.Do(t, post(w.keys.full, "k-1", first))
		if res1.Status != 201 || res1.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first: %d %s", res1.Status, res1.Body)
		}
		w.Run(t, []apitest.Scenario{
			{Name: "replay", Request: post(w.keys.full, "k-1", first), Status: 201, Check: func(t *testing.T, res apitest.Response) {
				if res.Body != res1.Body || res.Header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("replay differs or is unmarked:\n%s\n%s", res1.Body, res.Body)
				}
				for _, h := range []string{"Etag", "Content-Type", "Cache-Control", "X-Content-Type-Options"} {
					if res.Header.Get(h) != res1.Header.Get(h) || res1.Header.Get(h) == "" {
						t.Errorf("%s: replay %q, first response %q", h, res.Header.Get(h), res1.Header.Get(h))
					}
				}
			}},
			{Name: "a replay needs the route's scope", Request: post(w.keys.readOnly, "k-1", first), Status: 403,
				Contains: []string{`"code":"insufficient_scope"`, "'leads:write'"}, NotContains: []string{"idem@acme.test"}},
			{Name: "another caller's reuse is not a replay", Request: post(w.keys.writer, "k-1", first), Status: 422,
				Contains: []string{`"code":"idempotency_key_reused"`}, NotContains: []string{"idem@acme.test"}},
			{Name: "same key, other body", Request: post(w.keys.full, "k-1", `{"email":"other@acme.test","firstName":"I","lastName":"D"}`), Status: 422,
				Contains: []string{`"code":"idempotency_key_reused"`}},
			{Name: "same key in the sandbox is another key", Request: post(w.keys.sandbox, "k-1", first), Status: 201},
			{Name: "same key in another tenant is another key", Request: post(w.keys.globex, "k-1", first), Status: 201},
			{Name: "errors are replayed too", Request: post(w.keys.full, "k-2", `{"email":"bad"}`), Status: 422},
			{Name: "replayed error", Request: post(w.keys.full, "k-2", `{"email":"bad"}`), Status: 422, Check: func(t *testing.T, res apitest.Response) {
				if res.Header.Get("Idempotent-Replayed") != "true" {
					t.Error("not marked as replayed")
				}
			}},
			{Name: "a PATCH", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full, Body: `{"score":3}`,
				Headers: map[string]string{"Idempotency-Key": "k-3"}}, Status: 200, Check: func(t *testing.T, res apitest.Response) { patched = res }},
			{Name: "replays its ETag", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full, Body: `{"score":3}`,
				Headers: map[string]string{"Idempotency-Key": "k-3"}}, Status: 200, Check: func(t *testing.T, res apitest.Response) {
				if res.Header.Get("Idempotent-Replayed") != "true" || res.Header.Get("Etag") == "" || res.Header.Get("Etag") != patched.Header.Get("Etag") {
					t.Errorf("replayed ETag %q, first %q", res.Header.Get("Etag"), patched.Header.Get("Etag"))
				}
			}},
			{Name: "key too long", Request: post(w.keys.full, strings.Repeat("k", 256), first), Status: 422, Check: hasFields("Idempotency-Key")},
			{Name: "GET ignores the header", Request: apitest.Request{Method: "GET", Path: "/v1/leads", Key: w.keys.full,
				Headers: map[string]string{"Idempotency-Key": "k-1"}}, Status: 200},
		})
		ctx := w.acme.System(live)
		if n := db.Client.Lead.Query().Where(lead.Email("idem@acme.test")).CountX(ctx); n != 1 {
			t.Errorf("%d leads from one key, want 1", n)
		}
		// An expired record no longer replays.
		rec := db.Client.IdempotencyKey.Create().SetKey("old").SetRequestHash([]byte("x")).SetStatus(201).
			SetResponseHeaders([]byte("application/json")).SetResponseBody([]byte("{}")).
			SetExpiresAt(time.Now().Add(-time.Minute)).SaveX(ctx)
		if res := w.Do(t, post(w.keys.full, rec.Key, `{"email":"fresh@acme.test","firstName":"F","lastName":"R"}`)); res.Status != 201 || res.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("expired key: %d replayed=%q", res.Status, res.Header.Get("Idempotent-Replayed"))
		}
	})
}

// Twenty concurrent requests with one key write once; the others get the
// stored response or 409.
func TestConcurrentIdempotentRequests(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		req := apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full,
			Body:    `{"email":"race@acme.test","firstName":"R","lastName":"C"}`,
			Headers: map[string]string{"Idempotency-Key": "race"}}
		var mu sync.Mutex
		statuses := map[int]int{}
		var created []string
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := w.Do(t, req)
				mu.Lock()
				defer mu.Unlock()
				statuses[res.Status]++
				if res.Status == 201 {
					created = append(created, res.Body)
				}
			}()
		}
		wg.Wait()
		if statuses[201]+statuses[409] != 20 || statuses[201] == 0 {
			t.Errorf("statuses %v, want only 201s and 409s", statuses)
		}
		for _, b := range created[1:] {
			if b != created[0] {
				t.Errorf("201 bodies differ: a second write happened\n%s\n%s", created[0], b)
			}
		}
		if n := db.Client.Lead.Query().Where(lead.Email("race@acme.test")).CountX(w.acme.System(live)); n != 1 {
			t.Errorf("%d leads written, want 1", n)
		}
	})
}

// A response holding a plaintext key is never stored: a retry learns the
// first request succeeded, but gets no secret. A refusal is replayed as one.
func TestIdempotencyNeverStoresSecrets(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		req := apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: w.keys.full,
			Body:    `{"name":"ci","environment":"live","scopes":["leads:read"]}`,
			Headers: map[string]string{"Idempotency-Key": "new-key"}}
		first := w.Do(t, req)
		if first.Status != 201 {
			t.Fatalf("create: %d %s", first.Status, first.Body)
		}
		plain := first.Data(t)["key"].(string)
		// A refused creation holds no secret: its retry replays the refusal
		// rather than claiming that a secret was withheld.
		refused := apitest.Request{Method: "POST", Path: "/v1/api-keys", Key: w.keys.full,
			Body:    `{"name":"ci","environment":"sandbox","scopes":["leads:read"]}`,
			Headers: map[string]string{"Idempotency-Key": "refused-key"}}
		if res := w.Do(t, refused); res.Status != 403 {
			t.Fatalf("a live key creating a sandbox key: %d %s", res.Status, res.Body)
		}
		w.Run(t, []apitest.Scenario{
			{Name: "retry", Request: req, Status: 409, Contains: []string{"shown only once"}, NotContains: []string{plain}},
			{Name: "retry of a refusal", Request: refused, Status: 403, Contains: []string{"cannot create sandbox keys"}, Check: func(t *testing.T, res apitest.Response) {
				if res.Header.Get("Idempotent-Replayed") != "true" {
					t.Error("the refusal is not replayed")
				}
			}},
		})
		for _, rec := range db.Client.IdempotencyKey.Query().AllX(w.acme.System(live)) {
			if strings.Contains(string(rec.ResponseBody), plain) || strings.Contains(string(rec.ResponseBody), "ldr_live_sk_") {
				t.Errorf("a stored response holds a key: %s", rec.ResponseBody)
			}
		}
	})
}

// Every idempotent write stores its response in its own transaction, so a
// retry after a lost commit acknowledgement replays it instead of writing
// again; nothing about the key is written after that commit. A response
// holding a secret is stored as having happened, without its body.
func TestIdempotentWritesStoreTheirResponseInTheirTransaction(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, plain *store.DB) {
		db, sent := testutil.CountStatements(plain)
		w := newWorld(t, db)
		ctx := w.acme.System(live)
		archived := w.acme.NewLead(t, db.Client, live, "archived@acme.test")
		if res := w.Do(t, apitest.Request{Method: "DELETE", Path: "/v1/leads/" + w.Codec.Encode(archived.ID), Key: w.keys.full}); res.Status != 204 {
			t.Fatalf("archive: %d %s", res.Status, res.Body)
		}
		survivor := w.Codec.Encode(w.acme.NewLead(t, db.Client, live, "survivor@acme.test").ID)
		dup := w.Codec.Encode(w.acme.NewLead(t, db.Client, live, "dup@acme.test").ID)
		key := db.Client.APIKey.Query().FirstX(ctx)
		tests := []struct {
			name, path, body, table string
			status                  int
			secret                  bool
		}{
			{"create a lead", "/v1/leads", `{"email":"tx@acme.test","firstName":"T","lastName":"X"}`, "leads", 201, false},
			{"restore a lead", "/v1/leads/" + w.Codec.Encode(archived.ID) + "/restore", ``, "leads", 200, false},
			{"merge leads", "/v1/leads/" + survivor + "/merge", `{"duplicateIds":["` + dup + `"]}`, "leads", 200, false},
			{"create an API key", "/v1/api-keys", `{"name":"tx","environment":"live","scopes":["leads:read"]}`, "api_keys", 201, true},
			{"roll an API key", "/v1/api-keys/" + w.Codec.Encode(key.ID) + "/roll", `{}`, "api_keys", 200, true},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				idem := fmt.Sprintf("tx-%d", i)
				req := apitest.Request{Method: "POST", Path: tc.path, Key: w.keys.full, Body: tc.body,
					Headers: map[string]string{"Idempotency-Key": idem}}
				sent.Reset()
				if res := w.Do(t, req); res.Status != tc.status {
					t.Fatalf("%d %s", res.Status, res.Body)
				}
				// The write's transaction: the one that writes tc.table.
				stmts := sent.Sent()
				begin, commit := -1, -1
				for j, q := range stmts {
					switch {
					case q == "BEGIN":
						begin = j
					case q == "COMMIT" && begin >= 0 && commit < 0 && writes(stmts[begin:j], tc.table):
						commit = j
					}
				}
				if commit < 0 {
					t.Fatalf("no transaction writes %s: %q", tc.table, stmts)
				}
				tx := stmts[begin:commit]
				if !slices.ContainsFunc(tx, func(q string) bool { return strings.HasPrefix(q, "UPDATE") && strings.Contains(q, "idempotency_keys") }) {
					t.Errorf("the response is not stored in the write's transaction: %q", tx)
				}
				for _, q := range stmts[commit:] {
					if strings.Contains(q, "idempotency_keys") {
						t.Errorf("the key is written after the commit: %s", q)
					}
				}
				rec := db.Client.IdempotencyKey.Query().Where(idempotencykey.Key(idem)).OnlyX(ctx)
				if rec.Status != tc.status || (string(rec.ResponseHeaders) == "secret-withheld") != tc.secret || (tc.secret && len(rec.ResponseBody) > 0) {
					t.Errorf("stored %d %q with %d bytes; want %d, secret withheld %v", rec.Status, rec.ResponseHeaders, len(rec.ResponseBody), tc.status, tc.secret)
				}
			})
		}
	})
}

// writes reports whether the statements insert into or update table.
func writes(stmts []string, table string) bool {
	return slices.ContainsFunc(stmts, func(q string) bool {
		return (strings.HasPrefix(q, "INSERT INTO") || strings.HasPrefix(q, "UPDATE")) &&
			(strings.Contains(q, "`"+table+"`") || strings.Contains(q, `"`+table+`"`))
	})
}
