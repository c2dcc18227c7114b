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
