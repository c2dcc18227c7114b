package ratelimit

import (
	"net/http"
	"testing"
	"time"
)

func TestPlanLimit(t *testing.T) {
	tests := []struct {
		plan   string
		want   Limit
		wantOK bool
	}{
		{"free", Limit{PerMinute: 60, Burst: 10}, true},
		{"starter", Limit{PerMinute: 300, Burst: 30}, true},
		{"pro", Limit{PerMinute: 1000, Burst: 100}, true},
		{"team", Limit{PerMinute: 5000, Burst: 500}, true},
		{"enterprise", Limit{}, false},
		{"", Limit{}, false},
		{"platinum", Limit{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			got, ok := PlanLimit(tt.plan)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("PlanLimit(%q) = %+v, %v; want %+v, %v", tt.plan, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestTighter(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	ok5 := Result{Allowed: true, Limit: 60, Remaining: 5, Reset: at}
	ok9 := Result{Allowed: true, Limit: 1000, Remaining: 9, Reset: at}
	no1s := Result{Limit: 60, Reset: at, RetryAfter: time.Second}
	no3s := Result{Limit: 1000, Reset: at, RetryAfter: 3 * time.Second}
	tests := []struct {
		name string
		a, b Result
		want Result
	}{
		{"fewer remaining first", ok5, ok9, ok5},
		{"fewer remaining second", ok9, ok5, ok5},
		{"equal remaining keeps first", ok5, ok5, ok5},
		{"refusal wins over more remaining", ok9, no1s, no1s},
		{"refusal first wins", no1s, ok5, no1s},
		{"both refused: longer wait", no1s, no3s, no3s},
		{"both refused: longer wait first", no3s, no1s, no3s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tighter(tt.a, tt.b); got != tt.want {
				t.Errorf("Tighter = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWriteHeaders(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		r    Result
		want map[string]string // "" means the header must be absent
	}{
		{
			name: "allowed",
			r:    Result{Allowed: true, Limit: 60, Remaining: 9, Reset: at},
			want: map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "9", "X-RateLimit-Reset": "1700000000", "Retry-After": ""},
		},
		{
			name: "reset rounds up",
			r:    Result{Allowed: true, Limit: 60, Remaining: 9, Reset: at.Add(time.Millisecond)},
			want: map[string]string{"X-RateLimit-Reset": "1700000001"},
		},
		{
			name: "refused under a second",
			r:    Result{Limit: 60, Reset: at.Add(10 * time.Second), RetryAfter: 300 * time.Millisecond},
			want: map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000010", "Retry-After": "1"},
		},
		{
			name: "refused retry rounds up",
			r:    Result{Limit: 300, Reset: at, RetryAfter: 2*time.Second + time.Nanosecond},
			want: map[string]string{"Retry-After": "3"},
		},
		{
			name: "refused exact seconds",
			r:    Result{Limit: 300, Reset: at, RetryAfter: 2 * time.Second},
			want: map[string]string{"Retry-After": "2"},
		},
		{
			name: "refused with no wait still says 1",
			r:    Result{Limit: 300, Reset: at},
			want: map[string]string{"Retry-After": "1"},
		},
		{
			name: "negative remaining clamps",
			r:    Result{Allowed: true, Limit: 5, Remaining: -3, Reset: at},
			want: map[string]string{"X-RateLimit-Remaining": "0"},
		},
		{
			name: "zero reset omitted",
			r:    Result{Allowed: true, Limit: 5, Remaining: 5},
			want: map[string]string{"X-RateLimit-Reset": "", "X-RateLimit-Limit": "5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			WriteHeaders(h, tt.r)
			for k, want := range tt.want {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q (headers %v)", k, got, want, h)
				}
			}
		})
	}
}
