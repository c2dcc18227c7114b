package ratelimit

import (
	"context"
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Memory is an in-process Limiter, safe for concurrent use.
//
// Each bucket is a golang.org/x/time/rate token bucket (rate PerMinute/60 per
// second, size Burst): a well-tested implementation whose state matches the
// GCRA that Redis runs, so both limiters agree on burst and refill. Buckets
// are spread over shards so unrelated keys rarely contend for a lock.
//
// Memory stays bounded: a bucket that has refilled completely is identical
// to a new one, so it is dropped by a sweep that runs when a shard has
// doubled in size since its last sweep, or a minute after it.
type Memory struct {
	seed   maphash.Seed
	shards [numShards]shard
	now    func() time.Time // replaced in tests
}

const (
	numShards = 32
	// minSweepLen keeps small shards from sweeping on every new key.
	minSweepLen   = 256
	sweepInterval = time.Minute
)

type shard struct {
	mu        sync.Mutex
	buckets   map[Key]*bucket
	sweepAt   int // sweep when the map grows past this many buckets
	lastSweep time.Time
}

type bucket struct {
	lim   *rate.Limiter
	limit Limit
	full  time.Time // when the bucket is full again and may be dropped
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed(), now: time.Now}
	for i := range m.shards {
		m.shards[i].buckets = make(map[Key]*bucket)
		m.shards[i].sweepAt = minSweepLen
	}
	return m
}

// Allow takes one request from the bucket named key. A refused request does
// not use up anything. The context is unused: nothing here blocks.
func (m *Memory) Allow(_ context.Context, key Key, l Limit) (Result, error) {
	if err := l.validate(); err != nil {
		return Result{}, err
	}
	// The kind's hash is rotated so that "a"/"b" and "b"/"a" differ.
	h := bits.RotateLeft64(maphash.String(m.seed, key.Kind), 17) ^ maphash.String(m.seed, key.Name)
	s := &m.shards[h%numShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	// Read the clock under the lock so each bucket sees time move forward:
	// x/time/rate would otherwise count refill twice after a stale time.
	now := m.now()
	if s.lastSweep.IsZero() {
		s.lastSweep = now
	}

	b, ok := s.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.perSecond()), l.Burst), limit: l}
		s.buckets[key] = b
	} else if b.limit != l {
		// The tenant changed plan: keep its current level, change the rules.
		b.lim.SetLimitAt(now, rate.Limit(l.perSecond()))
		b.lim.SetBurstAt(now, l.Burst)
		b.limit = l
	}
	res := b.take(now)
	b.full = res.Reset

	if len(s.buckets) > s.sweepAt || now.Sub(s.lastSweep) >= sweepInterval {
		s.sweep(now)
	}
	return res, nil
}

func (b *bucket) take(now time.Time) Result {
	l := b.limit
	res := Result{Limit: l.PerMinute}
	r := b.lim.ReserveN(now, 1) // always OK: Burst >= 1
	if delay := r.DelayFrom(now); delay > 0 {
		// Refused: hand the token back, so clients that keep retrying
		// while limited do not push their own reset further away.
		r.CancelAt(now)
		res.RetryAfter = delay
	} else {
		res.Allowed = true
	}
	tokens := b.lim.TokensAt(now)
	// The epsilon absorbs float error (x-1+1 need not be x) so a bucket
	// with exactly n tokens reports n, not n-1.
	res.Remaining = max(int(math.Floor(tokens+1e-9)), 0)
	deficit := max(float64(l.Burst)-tokens, 0)
	res.Reset = now.Add(time.Duration(math.Ceil(deficit / l.perSecond() * float64(time.Second))))
	return res
}

// sweep drops full buckets. Go maps never shrink, so when most buckets go
// the survivors move to a new map and the old one is freed.
func (s *shard) sweep(now time.Time) {
	dropped := 0
	for k, b := range s.buckets {
		if !now.Before(b.full) {
			delete(s.buckets, k)
			dropped++
		}
	}
	if dropped > len(s.buckets) {
		fresh := make(map[Key]*bucket, len(s.buckets))
		for k, b := range s.buckets {
			fresh[k] = b
		}
		s.buckets = fresh
	}
	s.sweepAt = max(2*len(s.buckets), minSweepLen)
	s.lastSweep = now
}

// size reports how many buckets are held (for tests).
func (m *Memory) size() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}
