// Package ratelimit enforces Leadron's API rate limits: a bucket per tenant
// sized by its plan (or by custom Enterprise limits) and a bucket per client
// IP. Buckets follow GCRA / token-bucket semantics: a bucket holds Burst
// requests and refills at PerMinute/60 requests per second.
//
// Memory keeps buckets in this process; Redis shares them between server
// processes through Redis and falls back to a Memory when Redis is down.
// WriteHeaders and Tighter turn results into X-RateLimit-* response headers.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Limit is a rate: PerMinute requests per minute with a bucket of Burst.
type Limit struct{ PerMinute, Burst int }

// ErrInvalidLimit is returned by Allow for a Limit with a non-positive
// PerMinute or Burst: such a limit is a configuration mistake (for example an
// Enterprise tenant without custom limits), not a request to block or to let
// everything through, so the caller decides what to do.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

func (l Limit) validate() error {
	if l.PerMinute <= 0 || l.Burst <= 0 {
		return fmt.Errorf("%w: %d/min burst %d", ErrInvalidLimit, l.PerMinute, l.Burst)
	}
	return nil
}

// perSecond is the refill rate in requests per second.
func (l Limit) perSecond() float64 { return float64(l.PerMinute) / 60 }

// planLimits is the product brief's table; Enterprise is absent on purpose
// because its limits are set per tenant.
var planLimits = map[string]Limit{
	"free":    {PerMinute: 60, Burst: 10},
	"starter": {PerMinute: 300, Burst: 30},
	"pro":     {PerMinute: 1000, Burst: 100},
	"team":    {PerMinute: 5000, Burst: 500},
}

// PlanLimit returns the limit of a plan (free, starter, pro or team, as stored
// in tenant.plan). It returns false for enterprise, whose limits are custom
// per tenant, and for unknown plans.
func PlanLimit(plan string) (Limit, bool) {
	l, ok := planLimits[plan]
	return l, ok
}

// Result of one check.
type Result struct {
	Allowed    bool
	Limit      int           // PerMinute of the bucket (for X-RateLimit-Limit)
	Remaining  int           // requests left right now (>=0)
	Reset      time.Time     // when the bucket is full again (for X-RateLimit-Reset, unix seconds)
	RetryAfter time.Duration // >0 only when refused: wait this long before the next request can pass
}

// Key names a bucket: what it counts (Kind: "ip", "authfail", "tenant") and
// whose it is (Name: the IP, the tenant's ID). It is two strings rather
// than "kind:name", so that a request need not build a string to be
// counted.
type Key struct{ Kind, Name string }

// String is the key as "kind:name", the name Redis keeps the bucket under.
func (k Key) String() string { return k.Kind + ":" + k.Name }

// Limiter checks requests against named buckets.
type Limiter interface {
	// Allow takes one request from the bucket named key.
	Allow(ctx context.Context, key Key, l Limit) (Result, error)
}

// Tighter returns the result clients should see in headers when a request
// was checked against two buckets (tenant and IP): a refusal wins (the longer
// wait if both refused); otherwise the one with fewer Remaining.
func Tighter(a, b Result) Result {
	switch {
	case a.Allowed != b.Allowed:
		if !a.Allowed {
			return a
		}
		return b
	case !a.Allowed:
		if b.RetryAfter > a.RetryAfter {
			return b
		}
		return a
	case b.Remaining < a.Remaining:
		return b
	default:
		return a
	}
}

// WriteHeaders sets X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (unix seconds) and, when r was refused, Retry-After
// (whole seconds). Times are rounded up so a client that waits as told is
// never refused for having come back a fraction of a second early.
func WriteHeaders(h http.Header, r Result) {
	// The names are the canonical forms of X-RateLimit-*, which net/http
	// writes anyway; assigning them directly spares Header.Set allocating
	// the canonical name for each header of every response. The numbers
	// are formatted into one string and the values share one slice: two
	// allocations for the three headers.
	var digits [3 * 20]byte
	b := strconv.AppendInt(digits[:0], int64(r.Limit), 10)
	limitEnd := len(b)
	b = strconv.AppendInt(b, int64(max(r.Remaining, 0)), 10)
	remainingEnd := len(b)
	if !r.Reset.IsZero() {
		reset := r.Reset.Unix()
		if r.Reset.Nanosecond() > 0 {
			reset++
		}
		b = strconv.AppendInt(b, reset, 10)
	}
	all := string(b)
	values := []string{all[:limitEnd], all[limitEnd:remainingEnd], all[remainingEnd:]}
	h["X-Ratelimit-Limit"] = values[0:1:1]
	h["X-Ratelimit-Remaining"] = values[1:2:2]
	if !r.Reset.IsZero() {
		h["X-Ratelimit-Reset"] = values[2:3:3]
	}
	if !r.Allowed {
		secs := int64((r.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
}
