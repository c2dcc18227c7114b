package text

import "testing"

func TestValidAndClean(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
		clean string
	}{
		{"", true, ""},
		{"Jane Doe", true, "Jane Doe"},
		{"Zoë, 東京", true, "Zoë, 東京"},
		{"a\x00b", false, "ab"},
		{"caf\xe9", false, "caf\uFFFD"},
		{"\xff\x00\xfe", false, "\uFFFD"},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.valid {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.valid)
		}
		if got := Clean(tt.in); got != tt.clean || !Valid(got) {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.clean)
		}
	}
}
