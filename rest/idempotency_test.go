package rest_test

import (
	"strings"
	"sync"
	"testing"
	"time"

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
		res1 := w.Do(t, post(w.keys.full, "k-1", first))
		if res1.Status != 201 || res1.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first: %d %s", res1.Status, res1.Body)
		}
		w.Run(t, []apitest.Scenario{
			{Name: "replay", Request: post(w.keys.full, "k-1", first), Status: 201, Check: func(t *testing.T, res apitest.Response) {
				if res.Body != res1.Body || res.Header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("replay differs or is unmarked:\n%s\n%s", res1.Body, res.Body)
				}
			}},
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
// first request succeeded, but gets no secret.
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
		w.Run(t, []apitest.Scenario{
			{Name: "retry", Request: req, Status: 409, Contains: []string{"shown only once"}, NotContains: []string{plain}},
		})
		for _, rec := range db.Client.IdempotencyKey.Query().AllX(w.acme.System(live)) {
			if strings.Contains(string(rec.ResponseBody), plain) || strings.Contains(string(rec.ResponseBody), "ldr_live_sk_") {
				t.Errorf("a stored response holds a key: %s", rec.ResponseBody)
			}
		}
	})
}
