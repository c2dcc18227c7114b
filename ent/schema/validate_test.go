package schema_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/schema"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

func TestValidateEmail(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"jane@acme.com", true},
		{"jane.doe+crm@mail.acme.co.uk", true},
		{"Jane <jane@acme.com>", false},
		{" jane@acme.com", false},
		{"jane@localhost", false},
		{"jane", false},
		{"", false},
	} {
		if err := schema.ValidateEmail(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidateEmail(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestValidatePhone(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"+1-555-0199", true},
		{"(030) 123 456.78", true},
		{"555", false},
		{"+1 555 0199 ext 2", false},
		{"1+5550199", false},
		{strings.Repeat("1", 16), false},
	} {
		if err := schema.ValidatePhone(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidatePhone(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestValidateCustomFields(t *testing.T) {
	tooMany := map[string]any{}
	for i := range schema.MaxCustomFields + 1 {
		tooMany[strings.Repeat("k", i%40+1)+string(rune('a'+i%26))+strings.Repeat("x", i/26)] = i
	}
	for _, tc := range []struct {
		name string
		in   map[string]any
		ok   bool
	}{
		{"scalars", map[string]any{"company": "Acme", "seats": 12.0, "vip": true, "old": nil}, true},
		{"too many keys", tooMany, false},
		{"long key", map[string]any{strings.Repeat("k", 41): "v"}, false},
		{"empty key", map[string]any{"": "v"}, false},
		{"long value", map[string]any{"k": strings.Repeat("v", 501)}, false},
		{"nested object", map[string]any{"k": map[string]any{"a": 1}}, false},
		{"array", map[string]any{"k": []any{1}}, false},
		{"NUL in a value", map[string]any{"k": "a\x00b"}, false},
		{"other control characters in a value", map[string]any{"k": "a\tb\nc"}, true},
	} {
		if err := schema.ValidateCustomFields(tc.in); (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// The Lead's rules run in the data layer, so every adapter gets them, and
// every bad field is reported at once.
func TestLeadValidationReportsEveryField(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		a := testutil.NewTenant(t, db, "acme")
		ctx := a.System(viewer.Live)
		cases := []struct {
			name   string
			create func(c *ent.Client) error
			fields []string
		}{
			{"missing required", func(c *ent.Client) error { return c.Lead.Create().Exec(ctx) },
				[]string{"email", "firstName", "lastName"}},
			{"bad values", func(c *ent.Client) error {
				return c.Lead.Create().SetEmail("nope").SetFirstName(" ").SetLastName("Doe").
					SetPhone("call me").SetScore(101).SetCustomFields(customfields.MustFromMap(map[string]any{"k": []any{}})).Exec(ctx)
			}, []string{"email", "firstName", "phone", "score", "customFields"}},
			{"custom field number beyond float64", func(c *ent.Client) error {
				return c.Lead.Create().SetEmail("n@acme.test").SetFirstName("N").SetLastName("Doe").
					SetCustomFields(customfields.MustFromMap(map[string]any{"n": json.Number("1e400")})).Exec(ctx)
			}, []string{"customFields"}},
		}
		for _, tc := range cases {
			err := store.InTx(ctx, db.Client, tc.create)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Validation {
				t.Fatalf("%s: got %v, want a validation error", tc.name, err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("%s: fields %v, want %v", tc.name, got, tc.fields)
			}
		}
		if n := db.Client.Lead.Query().CountX(ctx); n != 0 {
			t.Errorf("%d invalid leads were written", n)
		}
	})
}
