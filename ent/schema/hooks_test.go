package schema_test

import (
	"testing"

	"github.com/leadron/leadron/ent/schema"
)

func TestNormalizePhoneIn(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"+1 555 0199", "US", "+15550199"},
		{"(555) 0199", "US", "+15550199"},
		{"555.0199", "us", "+15550199"},
		{"+1-555-0199", "GB", "+15550199"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"+44 20 7946 0958", "US", "+442079460958"},
		{"0044 20 7946 0958", "DE", "+442079460958"},
		{"030 123456", "DE", "+4930123456"},
		// Not parseable: the digits (and a leading +) are kept.
		{"+0 12", "US", "+012"},
		{"12", "ZZ", "12"},
	} {
		if got := schema.NormalizePhoneIn(tc.in, tc.region); got != tc.want {
			t.Errorf("NormalizePhoneIn(%q, %s) = %q, want %q", tc.in, tc.region, got, tc.want)
		}
	}
	if got := schema.NormalizePhone("(555) 0199"); got != "+15550199" {
		t.Errorf("NormalizePhone reads in %s: got %q", schema.DefaultPhoneRegion, got)
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got := schema.NormalizeEmail("  Jane.Doe@Example.COM "); got != "jane.doe@example.com" {
		t.Errorf("NormalizeEmail = %q", got)
	}
}
