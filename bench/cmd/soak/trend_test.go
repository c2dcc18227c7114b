package main

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// series returns n windows 10 s apart with f(i) as the value.
func series(n int, f func(i int) float64) (t, v []float64) {
	for i := range n {
		t = append(t, float64(60+10*i))
		v = append(v, f(i))
	}
	return t, v
}

func noise(seed uint64, amp float64) func() float64 {
	r := rand.New(rand.NewPCG(seed, seed))
	return func() float64 { return (r.Float64()*2 - 1) * amp }
}

func TestJudge(t *testing.T) {
	n := noise(1, 5)
	pn := noise(2, 4)
	for _, tc := range []struct {
		name, signal string
		f            func(i int) float64
		leak         bool
	}{
		{"flat RSS", "rss", func(int) float64 { return 60 }, false},
		{"noisy flat RSS (±5 MB)", "rss", func(int) float64 { return 60 + n() }, false},
		{"steady RSS leak (+1 MB a window)", "rss", func(i int) float64 { return 60 + float64(i) }, true},
		{"slow RSS growth within tolerance (+0.3 MB a window)", "rss", func(i int) float64 { return 60 + 0.3*float64(i) }, false},
		{"single RSS spike", "rss", func(i int) float64 { return map[bool]float64{true: 200, false: 60}[i == 12] }, false},
		{"RSS spikes in the last two windows", "rss", func(i int) float64 { return map[bool]float64{true: 150, false: 60}[i >= 28] }, false},
		{"RSS step up that stays (+30 MB halfway)", "rss", func(i int) float64 { return map[bool]float64{true: 90, false: 60}[i >= 15] }, true},
		{"RSS going down", "rss", func(i int) float64 { return 90 - float64(i) }, false},
		{"flat goroutines", "goroutines", func(int) float64 { return 40 }, false},
		{"goroutine leak (+2 a window)", "goroutines", func(i int) float64 { return 40 + 2*float64(i) }, true},
		{"goroutines +1 a window, at the tolerance", "goroutines", func(i int) float64 { return 40 + float64(i) }, false},
		{"noisy flat p99 (8 ± 4 ms)", "p99", func(int) float64 { return 8 + pn() }, false},
		{"single p99 spike (300 ms)", "p99", func(i int) float64 { return map[bool]float64{true: 300, false: 8}[i == 5] }, false},
		{"p99 climbing (8 → 45 ms)", "p99", func(i int) float64 { return 8 + 1.3*float64(i) }, true},
		{"flat connections", "connections", func(int) float64 { return 10 }, false},
		{"connections climbing (4 → 10)", "connections", func(i int) float64 { return 4 + float64(i)/5 }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, v := series(30, tc.f)
			tr := judge(tc.signal, "u", ts, v)
			if tr.Leak != tc.leak {
				t.Errorf("leak %v, want %v: %+v", tr.Leak, tc.leak, tr)
			}
			if tr.Leak && !strings.HasPrefix(tr.Reason, tc.signal+" trends upward") {
				t.Errorf("reason %q", tr.Reason)
			}
		})
	}
}

func TestConnectionsAboveThePoolMaximum(t *testing.T) {
	ts, v := series(10, func(i int) float64 { return map[bool]float64{true: 11, false: 10}[i == 4] })
	if tr := judgeConnections(ts, v, 10); !tr.Leak || !strings.Contains(tr.Reason, "above the pool's maximum of 10") {
		t.Errorf("one window above the maximum: %+v", tr)
	}
	ts, v = series(10, func(int) float64 { return 10 })
	if tr := judgeConnections(ts, v, 10); tr.Leak {
		t.Errorf("a full pool is not a leak: %+v", tr)
	}
}

func TestVerdict(t *testing.T) {
	var ws []window
	for i := range 12 {
		ws = append(ws, window{T: float64(10 * (i + 1)), Warmup: i < 6, RSSMB: 60 + 20*float64(i), Goroutines: 40, DBConns: 1, DBMaxConns: 1, P99ms: 5})
	}
	trends, failures := verdict(ws, 60)
	if len(trends) != 4 || len(failures) != 1 || !strings.HasPrefix(failures[0], "rss trends upward") {
		t.Fatalf("trends %+v\nfailures %q", trends, failures)
	}
	if trends[0].First != 60+20*6 {
		t.Errorf("the warm-up was not excluded: first RSS %v", trends[0].First)
	}
	if _, failures := verdict(ws[:8], 60); len(failures) != 1 || !strings.Contains(failures[0], "only 2 windows") {
		t.Errorf("too few windows: %q", failures)
	}
}
