package ratelimit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/leadron/leadron/internal/testutil"
)

// Two server processes, each with its own client and limiter, draw from one
// bucket.
func TestRedisLimitIsSharedBetweenProcesses(t *testing.T) {
	l := Limit{PerMinute: 1, Burst: 10}
	key := testKey(t, "tenant:42")
	servers := []*Redis{
		NewRedis(newRedisClient(t), mustNotFallBack{t}, nil),
		NewRedis(newRedisClient(t), mustNotFallBack{t}, nil),
	}
	var allowed [2]atomic.Int32
	var wg sync.WaitGroup
	for i, srv := range servers {
		for range 15 {
			wg.Go(func() {
				res, err := srv.Allow(t.Context(), key, l)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					allowed[i].Add(1)
				}
			})
		}
	}
	wg.Wait()
	a, b := allowed[0].Load(), allowed[1].Load()
	if a+b != 10 {
		t.Errorf("allowed %d + %d = %d of 30, want 10 in total", a, b, a+b)
	}
	// Both see the shared bucket as empty now.
	for i, srv := range servers {
		res, err := srv.Allow(t.Context(), key, l)
		if err != nil || res.Allowed || res.Remaining != 0 {
			t.Errorf("server %d after the burst: %+v, %v; want refused", i, res, err)
		}
	}
}

func TestRedisKeysArePrefixed(t *testing.T) {
	c := newRedisClient(t)
	key := testKey(t, "ip:198.51.100.1")
	if _, err := NewRedis(c, mustNotFallBack{t}, nil).Allow(t.Context(), key, Limit{PerMinute: 60, Burst: 10}); err != nil {
		t.Fatal(err)
	}
	full := "rate:leadron:rl:" + key.String()
	if n, err := c.Exists(t.Context(), full).Result(); err != nil || n != 1 {
		t.Errorf("EXISTS %q = %d, %v; want 1", full, n, err)
	}
	if ttl, err := c.TTL(t.Context(), full).Result(); err != nil || ttl <= 0 {
		t.Errorf("TTL %q = %v, %v; want the key to expire by itself", full, ttl, err)
	}
}

// unreachableRedis returns a limiter whose Redis refuses connections.
func unreachableRedis(t *testing.T, logs *testutil.SyncBuffer) *Redis {
	c := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:1", // nothing listens on port 1
		DialTimeout:   100 * time.Millisecond,
		DialerRetries: 1, // the default 5, 100ms apart, would slow the test
		MaxRetries:    -1,
	})
	t.Cleanup(func() { c.Close() })
	return NewRedis(c, NewMemory(), slog.New(slog.NewTextHandler(logs, nil)))
}

func TestRedisDownFallsBackToMemory(t *testing.T) {
	free, _ := PlanLimit("free")
	var logs testutil.SyncBuffer
	lim := unreachableRedis(t, &logs)
	key := testKey(t, "tenant:42")
	for i := range free.Burst + 5 {
		res, err := lim.Allow(t.Context(), key, free)
		if err != nil {
			t.Fatalf("request %d: error %v, want the fallback's answer", i+1, err)
		}
		if wantAllowed := i < free.Burst; res.Allowed != wantAllowed {
			t.Fatalf("request %d: %+v, want allowed=%v", i+1, res, wantAllowed)
		}
	}
	// Skipping Redis after a failure must not skip the limit: once Redis
	// is tried again it still fails and memory still refuses.
	lim.skipUntil.Store(0)
	if res, err := lim.Allow(t.Context(), key, free); err != nil || res.Allowed {
		t.Errorf("after retrying Redis: %+v, %v; want refused by the fallback", res, err)
	}
	out := logs.String()
	if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, "redis unavailable") || !strings.Contains(out, "level=WARN") {
		t.Errorf("want exactly one WARN line about Redis, got %d lines:\n%s", n, out)
	}
}

func TestRedisFailureLoggingIsRateLimited(t *testing.T) {
	var logs testutil.SyncBuffer
	lim := unreachableRedis(t, &logs)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { lim.logFailure(context.Background(), context.DeadlineExceeded) })
	}
	wg.Wait()
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Fatalf("100 failures within %v logged %d lines, want 1:\n%s", logEvery, n, logs.String())
	}
	// Once the quiet period is over the next failure logs again, with the
	// count of those not logged.
	lim.nextLog.Store(time.Now().Add(-time.Second).UnixNano())
	lim.logFailure(context.Background(), context.DeadlineExceeded)
	out := logs.String()
	if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, "failures=100") {
		t.Errorf("want a second line counting 100 failures, got:\n%s", out)
	}
}

// A caller that gave up is not a Redis outage: it still gets an answer, and
// nothing is logged.
func TestRedisCanceledContextIsNotAnOutage(t *testing.T) {
	var logs testutil.SyncBuffer
	lim := unreachableRedis(t, &logs)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := lim.Allow(ctx, testKey(t, "tenant:1"), Limit{PerMinute: 60, Burst: 10})
	if err != nil || !res.Allowed {
		t.Errorf("got %+v, %v; want allowed by the fallback", res, err)
	}
	if logs.String() != "" || lim.skipUntil.Load() != 0 {
		t.Errorf("a canceled request was treated as an outage; logs:\n%s", logs.String())
	}
}
