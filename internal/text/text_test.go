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

func TestValidValueAndUTF8Charset(t *testing.T) {
	values := []struct {
		v    any
		want bool
	}{
		{"ok", true}, {"a\x00", false}, {[]string{"a", "b"}, true}, {[]string{"a", "\xff"}, false}, {42, true}, {[]byte{0}, true},
	}
	for _, tt := range values {
		if got := ValidValue(tt.v); got != tt.want {
			t.Errorf("ValidValue(%#v) = %v, want %v", tt.v, got, tt.want)
		}
	}
	for cs, want := range map[string]bool{"": true, "utf-8": true, "UTF-8": true, "utf8": true, "latin1": false, "utf-16": false} {
		if got := UTF8Charset(cs); got != want {
			t.Errorf("UTF8Charset(%q) = %v, want %v", cs, got, want)
		}
	}
}
