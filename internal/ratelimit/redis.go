package ratelimit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// keyPrefix namespaces Leadron's buckets in a Redis that may be shared.
// redis_rate adds its own "rate:" in front, so a bucket lives at
// "rate:leadron:rl:<key>".
const keyPrefix = "leadron:rl:"

const (
	// logEvery caps failure logging during an outage, when every request
	// would otherwise log.
	logEvery = 10 * time.Second
	// retryRedisAfter is how long requests skip Redis after it failed, so an
	// outage that shows up as timeouts does not add a timeout to every
	// request; the first request after it probes Redis again.
	retryRedisAfter = time.Second
)

// Redis is a Limiter whose buckets live in Redis, so several server
// processes enforce one shared limit. It runs redis_rate's GCRA script,
// which reads the time from Redis itself, so the servers' clocks don't
// matter.
//
// If Redis fails it answers from the fallback limiter, which only sees this
// process's traffic: during an outage limits are per process, which beats
// refusing or failing every request.
type Redis struct {
	limiter  *redis_rate.Limiter
	fallback Limiter
	log      *slog.Logger

	skipUntil atomic.Int64 // unix nanos until which Redis is not tried
	nextLog   atomic.Int64 // unix nanos before which failures are not logged
	unlogged  atomic.Int64 // failures since the last log line
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter that keeps its buckets in client's Redis.
// fallback answers while Redis is unreachable (a new Memory if nil); log
// receives the failures (slog.Default if nil).
//
// A failing call costs its request the client's timeouts and retries, so
// give the client short ones: DialTimeout, ReadTimeout and WriteTimeout
// around 100-250ms, MaxRetries 1 and DialerRetries 1 (go-redis otherwise
// redials 5 times 100ms apart, so a refused connection takes ~400ms). After
// a failure Redis is skipped for a second, so only the requests in flight
// when it is probed again pay that cost.
func NewRedis(client *redis.Client, fallback Limiter, log *slog.Logger) *Redis {
	if fallback == nil {
		fallback = NewMemory()
	}
	if log == nil {
		log = slog.Default()
	}
	return &Redis{limiter: redis_rate.NewLimiter(client), fallback: fallback, log: log}
}

// Allow takes one request from the bucket named key. It returns an error
// only for an invalid Limit, never for a Redis failure.
func (r *Redis) Allow(ctx context.Context, key Key, l Limit) (Result, error) {
	if err := l.validate(); err != nil {
		return Result{}, err
	}
	if time.Now().UnixNano() < r.skipUntil.Load() {
		return r.fallback.Allow(ctx, key, l)
	}
	res, err := r.limiter.Allow(ctx, keyPrefix+key.String(), redis_rate.Limit{
		Rate:   l.PerMinute,
		Burst:  l.Burst,
		Period: time.Minute,
	})
	if err != nil {
		// A caller that gave up (client disconnected) says nothing about
		// Redis: answer, but neither log nor skip Redis.
		if ctx.Err() == nil {
			r.skipUntil.Store(time.Now().Add(retryRedisAfter).UnixNano())
			r.logFailure(ctx, err)
		}
		return r.fallback.Allow(ctx, key, l)
	}
	out := Result{
		Allowed:   res.Allowed > 0,
		Limit:     l.PerMinute,
		Remaining: max(res.Remaining, 0),
		Reset:     time.Now().Add(max(res.ResetAfter, 0)),
	}
	if !out.Allowed {
		out.RetryAfter = res.RetryAfter
	}
	return out, nil
}

func (r *Redis) logFailure(ctx context.Context, err error) {
	r.unlogged.Add(1)
	now := time.Now().UnixNano()
	next := r.nextLog.Load()
	if now < next || !r.nextLog.CompareAndSwap(next, now+int64(logEvery)) {
		return
	}
	r.log.LogAttrs(ctx, slog.LevelWarn, "ratelimit: redis unavailable, using in-memory limits",
		slog.String("error", err.Error()),
		slog.Int64("failures", r.unlogged.Swap(0)),
	)
}
