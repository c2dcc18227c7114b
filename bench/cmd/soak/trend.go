package main

import (
	"fmt"
	"math"
	"slices"
)

// The leak rule. Each signal (RSS, goroutines, open database connections,
// p99 latency) is judged on the windows after the warm-up. It trends upward
// when both hold:
//
//  1. the Theil–Sen slope (the median of the slopes between every pair of
//     windows) times the measured span exceeds the signal's tolerance, and
//  2. the median of the last third of the windows exceeds the median of
//     the first third by more than the tolerance.
//
// Both are medians, so one spike, or a few, moves neither; a steady climb
// or a step up that stays moves both. The tolerance is set from the first
// measured window's value (see tolerance). Open connections also fail on
// their own in any window above the pool's maximum.

// minWindows is the least number of measured windows a verdict needs.
const minWindows = 3

// trend is the verdict on one signal.
type trend struct {
	Signal    string  `json:"signal"`
	Unit      string  `json:"unit"`
	First     float64 `json:"first"`     // the first measured window's value
	Tolerance float64 `json:"tolerance"` // the rise allowed over the run
	// Rise is the Theil–Sen slope projected over the measured span.
	Rise float64 `json:"projectedRise"`
	// ThirdsRise is the last third's median minus the first third's.
	ThirdsRise float64 `json:"thirdsRise"`
	Leak       bool    `json:"leak"`
	Reason     string  `json:"reason,omitempty"` // why it failed, one line
}

// tolerance is the rise allowed for a signal whose first measured window
// is first:
//
//	rss:         15 % or 16 MB, whichever is larger
//	goroutines:  20 % or 20, whichever is larger
//	connections: 25 % or 1, whichever is larger
//	p99:         the first value again (2×), and at least 20 ms
func tolerance(signal string, first float64) float64 {
	switch signal {
	case "rss":
		return max(0.15*first, 16)
	case "goroutines":
		return max(0.20*first, 20)
	case "connections":
		return max(0.25*first, 1)
	case "p99":
		return max(first, 20)
	}
	panic("unknown signal " + signal)
}

// verdict judges the four signals on the windows that end after the
// warm-up (seconds into the load). It returns one line per failing signal;
// too few windows to judge is a failure too.
func verdict(ws []window, warmup float64) ([]trend, []string) {
	var t, rss, gor, conns, p99 []float64
	most := 0.0
	for _, w := range ws {
		if w.Warmup {
			continue
		}
		t = append(t, w.T)
		rss = append(rss, w.RSSMB)
		gor = append(gor, float64(w.Goroutines))
		conns = append(conns, float64(w.DBConns))
		p99 = append(p99, w.P99ms)
		most = max(most, float64(w.DBMaxConns))
	}
	if len(t) < minWindows {
		return nil, []string{fmt.Sprintf("only %d windows after the %.0fs warm-up, need %d to judge trends: run longer", len(t), warmup, minWindows)}
	}
	trends := []trend{
		judge("rss", "MB", t, rss),
		judge("goroutines", "goroutines", t, gor),
		judgeConnections(t, conns, most),
		judge("p99", "ms", t, p99),
	}
	var failures []string
	for _, tr := range trends {
		if tr.Leak {
			failures = append(failures, tr.Reason)
		}
	}
	return trends, failures
}

// judge decides whether the series v, sampled at times t (seconds), trends
// upward by more than the signal's tolerance.
func judge(signal, unit string, t, v []float64) trend {
	tr := trend{Signal: signal, Unit: unit, First: v[0]}
	tr.Tolerance = tolerance(signal, v[0])
	tr.Rise = theilSen(t, v) * (t[len(t)-1] - t[0])
	k := len(v) / 3
	tr.ThirdsRise = median(v[len(v)-k:]) - median(v[:k])
	if tr.Rise > tr.Tolerance && tr.ThirdsRise > tr.Tolerance {
		tr.Leak = true
		tr.Reason = fmt.Sprintf("%s trends upward: +%.1f %s over the run (Theil–Sen), last third's median %.1f %s above the first's; tolerance %.1f %s",
			signal, tr.Rise, unit, tr.ThirdsRise, unit, tr.Tolerance, unit)
	}
	return tr
}

// judgeConnections is judge for the open connections, which also fail in
// any window above the pool's maximum (most; 0 when unlimited or unknown).
func judgeConnections(t, v []float64, most float64) trend {
	tr := judge("connections", "conns", t, v)
	if most <= 0 || tr.Leak {
		return tr
	}
	if peak := slices.Max(v); peak > most {
		tr.Leak = true
		tr.Reason = fmt.Sprintf("connections: %.0f open, above the pool's maximum of %.0f", peak, most)
	}
	return tr
}

// theilSen is the median of the slopes between every pair of points.
func theilSen(t, v []float64) float64 {
	var slopes []float64
	for i := range v {
		for j := i + 1; j < len(v); j++ {
			if dt := t[j] - t[i]; dt > 0 {
				slopes = append(slopes, (v[j]-v[i])/dt)
			}
		}
	}
	return median(slopes)
}

// median of v (NaN when empty); v is not modified.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
