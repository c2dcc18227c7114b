package main

import "testing"

func TestSelected(t *testing.T) {
	tests := []struct {
		name, only string
		want       bool
	}{
		{"rest-get", "", true},
		{"rest-get", "rest-", true},
		{"rest-list-deep", "rest-list", true},
		{"gql-leads", "rest-", false},
		{"gql-leads", "rest-get,gql-leads", true},
		{"rest-post", "rest-get,gql-leads", false},
		{"rest-post", ",", false},
		{"rest-post", "rest-get,", false},
	}
	for _, tt := range tests {
		if got := selected(tt.name, tt.only); got != tt.want {
			t.Errorf("selected(%q, %q) = %v, want %v", tt.name, tt.only, got, tt.want)
		}
	}
}

// The deep/first target compares Leadron's deep page with the first page
// run beside it, and notes the baseline's own deep/first ratio so that a
// miss the database shows too reads as the database's.
func TestDeepPageTarget(t *testing.T) {
	run := func(sc, target string, rps float64) runResult {
		return runResult{DB: "sqlite", Scenario: sc, Conns: 16, Target: target, RPS: rps, Requests: 1, WallSeconds: 1}
	}
	tests := []struct {
		name     string
		runs     []runResult
		measured float64
		pass     bool
		note     string
	}{
		{"met, with the baseline's ratio", []runResult{
			run("rest-list", "leadron", 2000), run("rest-list", "baseline", 2200),
			run("rest-list-deep", "leadron-paired", 2000), run("rest-list-deep", "leadron", 1900), run("rest-list-deep", "baseline", 1980),
		}, 0.95, true, "baseline's deep/first page 0.90"},
		{"missed as the baseline's", []runResult{
			run("rest-list", "leadron", 2000), run("rest-list", "baseline", 2200),
			run("rest-list-deep", "leadron-paired", 2000), run("rest-list-deep", "leadron", 1740), run("rest-list-deep", "baseline", 1914),
		}, 0.87, false, "baseline's deep/first page 0.87"},
		{"no first-page scenario: no note", []runResult{
			run("rest-list-deep", "leadron-paired", 2000), run("rest-list-deep", "leadron", 1900), run("rest-list-deep", "baseline", 1980),
		}, 0.95, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &report{Runs: tt.runs}
			summarize(rep)
			var got *targetResult
			for i := range rep.Targets {
				if rep.Targets[i].Target == "REST list deep/first page, sqlite, c=16" {
					got = &rep.Targets[i]
				}
			}
			if got == nil {
				t.Fatalf("no deep/first target in %+v", rep.Targets)
			}
			if diff := got.Measured - tt.measured; diff > 0.005 || diff < -0.005 || got.Pass != tt.pass || got.Note != tt.note {
				t.Errorf("got %.3f pass=%v note %q, want %.2f pass=%v note %q", got.Measured, got.Pass, got.Note, tt.measured, tt.pass, tt.note)
			}
		})
	}
}
