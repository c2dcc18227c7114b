package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock drives Memory deterministically.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFakeMemory() (*Memory, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := NewMemory()
	m.now = clock.now
	return m, clock
}

func TestMemoryTimeline(t *testing.T) {
	m, clock := newFakeMemory()
	l := Limit{PerMinute: 60, Burst: 2} // one request back per second
	type step struct {
		after      time.Duration // clock advance before the request
		allowed    bool
		remaining  int
		retryAfter time.Duration
		resetIn    time.Duration
	}
	steps := []step{
		{0, true, 1, 0, time.Second},
		{0, true, 0, 0, 2 * time.Second},
		{0, false, 0, time.Second, 2 * time.Second},
		// A refusal costs nothing: the wait shrinks as time passes.
		{600 * time.Millisecond, false, 0, 400 * time.Millisecond, 1400 * time.Millisecond},
		{300 * time.Millisecond, false, 0, 100 * time.Millisecond, 1100 * time.Millisecond},
		{100 * time.Millisecond, true, 0, 0, 2 * time.Second},
		{2 * time.Second, true, 1, 0, time.Second},
		// Idle far longer than a refill: never more than Burst.
		{time.Hour, true, 1, 0, time.Second},
	}
	for i, s := range steps {
		clock.advance(s.after)
		got, err := m.Allow(t.Context(), Key{Kind: "test", Name: "k"}, l)
		if err != nil {
			t.Fatal(err)
		}
		want := Result{Allowed: s.allowed, Limit: 60, Remaining: s.remaining, RetryAfter: s.retryAfter, Reset: clock.now().Add(s.resetIn)}
		if !near(got, want) {
			t.Errorf("step %d: got %+v\nwant %+v", i, got, want)
		}
	}
}

// near compares results allowing float rounding of a few nanoseconds.
func near(a, b Result) bool {
	d := func(x time.Duration) time.Duration { return max(x, -x) }
	return a.Allowed == b.Allowed && a.Limit == b.Limit && a.Remaining == b.Remaining &&
		d(a.RetryAfter-b.RetryAfter) < time.Microsecond && d(a.Reset.Sub(b.Reset)) < time.Microsecond
}

func TestMemoryPlanChangeKeepsLevel(t *testing.T) {
	m, clock := newFakeMemory()
	free, _ := PlanLimit("free")
	pro, _ := PlanLimit("pro")
	for range free.Burst {
		m.Allow(t.Context(), Key{Kind: "tenant", Name: "1"}, free)
	}
	// Upgrading does not hand out a fresh burst of 100 at once...
	if res, _ := m.Allow(t.Context(), Key{Kind: "tenant", Name: "1"}, pro); res.Allowed || res.Limit != 1000 {
		t.Fatalf("right after upgrade: %+v, want refused", res)
	}
	// ...but refills at the new rate (1000/min = one per 60ms).
	clock.advance(61 * time.Millisecond)
	if res, _ := m.Allow(t.Context(), Key{Kind: "tenant", Name: "1"}, pro); !res.Allowed {
		t.Fatalf("61ms after upgrade: %+v, want allowed", res)
	}
}

func TestMemoryEvictsFullBuckets(t *testing.T) {
	m, clock := newFakeMemory()
	free, _ := PlanLimit("free") // full again 10s after one request
	// 200 new client IPs per second for 5 minutes: 60,000 keys, of which
	// only the last 10s (2,000) can still be partly drained.
	for sec := range 300 {
		for i := range 200 {
			if _, err := m.Allow(t.Context(), Key{Kind: "ip", Name: fmt.Sprintf("%d.%d", sec, i)}, free); err != nil {
				t.Fatal(err)
			}
		}
		clock.advance(time.Second)
	}
	t.Logf("after the flood: %d buckets", m.size())
	// Sweeps run on doubling or after a minute, so allow some slack over
	// the live set plus each shard's sweep floor.
	if n, bound := m.size(), 2*2000+numShards*minSweepLen; n > bound {
		t.Errorf("holding %d buckets, want at most %d", n, bound)
	}
	// Once every bucket has refilled, a sweep empties the shards.
	clock.advance(sweepInterval)
	const late = 2048 // enough that every shard is touched and sweeps
	for i := range late {
		m.Allow(t.Context(), Key{Kind: "late", Name: strconv.Itoa(i)}, free)
	}
	if n := m.size(); n != late {
		t.Errorf("holding %d buckets after all refilled, want only the %d new ones", n, late)
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	team, _ := PlanLimit("team")
	b.Run("one key", func(b *testing.B) {
		m := NewMemory()
		for b.Loop() {
			m.Allow(b.Context(), Key{Kind: "tenant", Name: "1"}, team)
		}
	})
	b.Run("many keys parallel", func(b *testing.B) {
		m := NewMemory()
		keys := make([]Key, 4096)
		for i := range keys {
			keys[i] = Key{Kind: "ip", Name: fmt.Sprintf("10.0.%d.%d", i/256, i%256)}
		}
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				m.Allow(b.Context(), keys[i%len(keys)], team)
				i++
			}
		})
	})
}
