package rest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/rest"
)

// checkLimitHeaders asserts the X-RateLimit-* headers are present and sane.
func checkLimitHeaders(t *testing.T, res apitest.Response, limit int) {
	t.Helper()
	if got := res.Header.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Errorf("X-RateLimit-Limit %q, want %d", got, limit)
	}
	if _, err := strconv.Atoi(res.Header.Get("X-RateLimit-Remaining")); err != nil {
		t.Errorf("X-RateLimit-Remaining %q", res.Header.Get("X-RateLimit-Remaining"))
	}
	reset, err := strconv.ParseInt(res.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || reset < time.Now().Unix()-1 || reset > time.Now().Add(2*time.Minute).Unix() {
		t.Errorf("X-RateLimit-Reset %q is not a near Unix time", res.Header.Get("X-RateLimit-Reset"))
	}
}

// A free tenant gets its burst of 10, then 429s, then one more request per
// second as the bucket refills; another tenant is unaffected.
func TestFreePlanLimit(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		env := apitest.New(t, db)
		free := testutil.NewTenant(t, db, "tiny")
		other := testutil.NewTenant(t, db, "other")
		key := env.Key(t, free, free.OwnerID, live, "full_access")
		otherKey := env.Key(t, other, other.OwnerID, live, "full_access")
		get := func(k string) apitest.Response {
			return env.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads?limit=1", Key: k})
		}
		for i := 1; i <= 10; i++ {
			res := get(key)
			if res.Status != 200 {
				t.Fatalf("request %d: %d %s", i, res.Status, res.Body)
			}
			checkLimitHeaders(t, res, 60)
			if got := res.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(10-i) {
				t.Errorf("request %d: remaining %s, want %d", i, got, 10-i)
			}
		}
		res := get(key)
		if res.Status != 429 {
			t.Fatalf("11th request: %d, want 429", res.Status)
		}
		checkLimitHeaders(t, res, 60)
		retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil || retry < 1 || retry > 2 {
			t.Errorf("Retry-After %q, want 1-2 seconds", res.Header.Get("Retry-After"))
		}
		if body := res.JSON(t); body["code"] != "rate_limited" || body["status"] != 429.0 {
			t.Errorf("429 body: %s", res.Body)
		}
		if res := get(otherKey); res.Status != 200 {
			t.Errorf("another tenant was limited too: %d", res.Status)
		}
		time.Sleep(time.Duration(retry)*time.Second + 100*time.Millisecond)
		if res := get(key); res.Status != 200 {
			t.Errorf("after the refill: %d, want 200", res.Status)
		}
	})
}

// Failed authentication is limited per IP: guessing keys runs into 429s,
// and the 401s carry the limit headers too.
func TestFailedAuthIsLimited(t *testing.T) {
	db := testutil.NewDB(t, testutil.Dialects[0])
	env := apitest.New(t, db)
	var last apitest.Response
	for i := range 11 {
		last = env.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads", Key: fmt.Sprintf("ldr_live_sk_guess%d", i)})
		if i < 10 {
			if last.Status != 401 {
				t.Fatalf("guess %d: %d", i, last.Status)
			}
			checkLimitHeaders(t, last, 60)
		}
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" {
		t.Errorf("the 11th guess: %d, want 429 with Retry-After", last.Status)
	}
}

// Two instances sharing Redis enforce one limit between them.
func TestRedisSharesTheLimit(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { _ = client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		testutil.SkipOrFailWithout(t, "Redis at 127.0.0.1:6379", err)
	}
	db := testutil.NewDB(t, testutil.Dialects[0])
	shared := func(d *server.Deps) {
		d.Limiter = ratelimit.NewRedis(client, ratelimit.NewMemory(), testutil.Logger(t))
	}
	a, b := apitest.New(t, db, shared), apitest.New(t, db, shared)
	tn := testutil.NewTenant(t, db, "shared")
	// Buckets outlive a test run in Redis; start this tenant's afresh.
	if err := client.Del(context.Background(), fmt.Sprintf("rate:leadron:rl:tenant:%d", tn.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	key := a.Key(t, tn, tn.OwnerID, live, "full_access")
	allowed := 0
	for i := range 20 {
		env := a
		if i%2 == 1 {
			env = b
		}
		if env.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads?limit=1", Key: key}).Status == 200 {
			allowed++
		}
	}
	if allowed != 10 {
		t.Errorf("%d requests passed across two instances, want the burst of 10", allowed)
	}
}

// Every /v1 response carries the X-RateLimit-* headers, those that need no
// credentials and the refusals before any handler included: the tighter
// bucket's limit, the client IP's (6,000) or sign-in's (60).
func TestEveryResponseCarriesLimitHeaders(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		huge := strings.Repeat("x", rest.MaxBodyBytes+1)
		for _, tc := range []struct {
			name   string
			req    apitest.Request
			status int
			limit  int
		}{
			{"the OpenAPI document", apitest.Request{Method: "GET", Path: "/v1/openapi.json"}, 200, 6000},
			{"an unknown path", apitest.Request{Method: "GET", Path: "/v1/nope", OffContract: true}, 404, 6000},
			{"an unknown path with a key", apitest.Request{Method: "GET", Path: "/v1/nope", Key: w.keys.full, OffContract: true}, 404, 6000},
			{"a method the route lacks", apitest.Request{Method: "PUT", Path: "/v1/leads/" + w.mine, Key: w.keys.full, Body: "{}", OffContract: true}, 405, 6000},
			{"a sign-in with no fields", apitest.Request{Method: "POST", Path: "/v1/auth/login", Body: "{}"}, 422, 6000},
			{"a failed sign-in", apitest.Request{Method: "POST", Path: "/v1/auth/login", Body: `{"email":"owner@acme.test","password":"not-the-password"}`}, 401, 60},
			{"a body over the limit", apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: huge, OffContract: true}, 413, 5000},
			{"a missing key", apitest.Request{Method: "GET", Path: "/v1/leads"}, 401, 60},
			{"a lead", apitest.Request{Method: "GET", Path: "/v1/leads/" + w.mine, Key: w.keys.full}, 200, 5000},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.Do(t, tc.req)
				if res.Status != tc.status {
					t.Fatalf("status %d, want %d: %.300s", res.Status, tc.status, res.Body)
				}
				checkLimitHeaders(t, res, tc.limit)
			})
		}
	})
}
