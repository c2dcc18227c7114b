package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const redisAddr = "127.0.0.1:6379"

// runID keeps this run's Redis keys apart from other runs' keys.
var runID = strconv.FormatInt(time.Now().UnixNano(), 10)

// testKey is a bucket name unique to this run and test.
func testKey(t *testing.T, name string) Key {
	return Key{Kind: fmt.Sprintf("test:%s:%s", runID, t.Name()), Name: name}
}

// newRedisClient connects to the test Redis. Without one the test is
// skipped, except in CI where Redis is required.
func newRedisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is required in CI: %v", redisAddr, err)
		}
		t.Skipf("Redis at %s unreachable: %v", redisAddr, err)
	}
	t.Cleanup(func() {
		// Delete every bucket this test made, subtests included.
		ctx := context.Background()
		pattern := "rate:" + keyPrefix + "test:" + runID + ":" + t.Name() + "*"
		iter := c.Scan(ctx, 0, pattern, 100).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		c.Close()
	})
	return c
}

// mustNotFallBack fails the test if Redis did not answer by itself.
type mustNotFallBack struct{ t *testing.T }

func (f mustNotFallBack) Allow(context.Context, Key, Limit) (Result, error) {
	f.t.Error("fallback used: Redis should have answered")
	return Result{}, errors.New("unexpected fallback")
}

// limiters runs the same behaviour tests against both implementations, so
// Memory and Redis stay consistent.
var limiters = []struct {
	name string
	new  func(t *testing.T) Limiter
}{
	{"memory", func(*testing.T) Limiter { return NewMemory() }},
	{"redis", func(t *testing.T) Limiter { return NewRedis(newRedisClient(t), mustNotFallBack{t}, nil) }},
}

func TestBurstThenRefused(t *testing.T) {
	free, _ := PlanLimit("free")
	for _, lc := range limiters {
		t.Run(lc.name, func(t *testing.T) {
			lim := lc.new(t)
			key := testKey(t, "tenant:42")
			start := time.Now()
			for i := range free.Burst {
				res, err := lim.Allow(t.Context(), key, free)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Allowed || res.Remaining != free.Burst-1-i || res.Limit != 60 || res.RetryAfter != 0 {
					t.Fatalf("request %d: got %+v, want allowed with %d remaining", i+1, res, free.Burst-1-i)
				}
			}
			res, err := lim.Allow(t.Context(), key, free)
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed || res.Remaining != 0 || res.Limit != 60 {
				t.Fatalf("11th request: got %+v, want refused with 0 remaining", res)
			}
			// 60/min refills one request per second.
			if res.RetryAfter <= 0 || res.RetryAfter > time.Second+50*time.Millisecond {
				t.Errorf("RetryAfter = %v, want in (0, 1s]", res.RetryAfter)
			}
			// Full again ~10s after the burst began.
			if lo, hi := start.Add(8*time.Second), time.Now().Add(10*time.Second+50*time.Millisecond); res.Reset.Before(lo) || res.Reset.After(hi) {
				t.Errorf("Reset = %v, want between %v and %v", res.Reset, lo, hi)
			}

			h := http.Header{}
			WriteHeaders(h, res)
			want := map[string]string{
				"X-RateLimit-Limit":     "60",
				"X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset":     strconv.FormatInt(res.Reset.Unix()+1, 10),
				"Retry-After":           "1",
			}
			if res.Reset.Nanosecond() == 0 {
				want["X-RateLimit-Reset"] = strconv.FormatInt(res.Reset.Unix(), 10)
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestAllowedAgainAfterRefill(t *testing.T) {
	l := Limit{PerMinute: 600, Burst: 10} // 10/s: one request back every 100ms
	for _, lc := range limiters {
		t.Run(lc.name, func(t *testing.T) {
			lim := lc.new(t)
			key := testKey(t, "ip:203.0.113.9")
			var res Result
			for range l.Burst + 1 {
				var err error
				if res, err = lim.Allow(t.Context(), key, l); err != nil {
					t.Fatal(err)
				}
			}
			if res.Allowed || res.RetryAfter <= 0 || res.RetryAfter > 100*time.Millisecond+10*time.Millisecond {
				t.Fatalf("after the burst: got %+v, want refused with RetryAfter in (0, 100ms]", res)
			}
			// Waiting as told (plus slack) is enough; refused requests
			// must not have pushed the wait further away.
			time.Sleep(res.RetryAfter + 50*time.Millisecond)
			res, err := lim.Allow(t.Context(), key, l)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Allowed {
				t.Fatalf("after waiting RetryAfter: got %+v, want allowed", res)
			}
		})
	}
}

func TestKeysHaveSeparateBuckets(t *testing.T) {
	l := Limit{PerMinute: 1, Burst: 1}
	for _, lc := range limiters {
		t.Run(lc.name, func(t *testing.T) {
			lim := lc.new(t)
			a, b := testKey(t, "tenant:1"), testKey(t, "tenant:2")
			for _, step := range []struct {
				key     Key
				allowed bool
			}{{a, true}, {a, false}, {b, true}, {b, false}, {a, false}} {
				res, err := lim.Allow(t.Context(), step.key, l)
				if err != nil {
					t.Fatal(err)
				}
				if res.Allowed != step.allowed {
					t.Fatalf("%s: allowed = %v, want %v", step.key, res.Allowed, step.allowed)
				}
			}
		})
	}
}

func TestConcurrentRequestsShareOneBucket(t *testing.T) {
	l := Limit{PerMinute: 1, Burst: 10} // refill is too slow to matter here
	for _, lc := range limiters {
		t.Run(lc.name, func(t *testing.T) {
			lim := lc.new(t)
			key := testKey(t, "tenant:7")
			var allowed atomic.Int32
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					res, err := lim.Allow(t.Context(), key, l)
					if err != nil {
						t.Error(err)
						return
					}
					if res.Allowed {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			if got := allowed.Load(); got != 10 {
				t.Errorf("allowed %d of 50, want exactly 10", got)
			}
		})
	}
}

func TestInvalidLimit(t *testing.T) {
	for _, lc := range limiters {
		for _, l := range []Limit{{}, {PerMinute: 60}, {Burst: 10}, {PerMinute: -1, Burst: 10}} {
			t.Run(fmt.Sprintf("%s/%d-%d", lc.name, l.PerMinute, l.Burst), func(t *testing.T) {
				_, err := lc.new(t).Allow(t.Context(), testKey(t, "x"), l)
				if !errors.Is(err, ErrInvalidLimit) {
					t.Errorf("err = %v, want ErrInvalidLimit", err)
				}
			})
		}
	}
}
