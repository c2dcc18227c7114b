package schema

import (
	"context"
	"slices"
	"strings"

	"entgo.io/ent"
	"github.com/nyaruka/phonenumbers"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/lifecycle"
	"github.com/leadron/leadron/internal/scope"
	"github.com/leadron/leadron/internal/viewer"
)

// normalizeUserEmail stores user emails trimmed and lowercase, so sign-in and
// the unique index are case-insensitive.
func normalizeUserEmail() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if v, ok := m.Field("email"); ok {
				if err := m.SetField("email", NormalizeEmail(v.(string))); err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// trimLeadEmail drops the whitespace around a lead's email before it is
// validated: a lead typed as " Jane@Acme.com " is stored as
// "Jane@Acme.com", and duplicate detection (case-insensitive) matches it
// with jane@acme.com.
func trimLeadEmail() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if v, ok := m.Field("email"); ok {
				if err := m.SetField("email", strings.TrimSpace(v.(string))); err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// normalizeLeadContact derives the indexed email_normalized and
// phone_normalized that duplicate detection matches on. A phone is read in
// the tenant's default region, so "(555) 0199" in a US tenant and
// "+1 555 0199" normalize alike.
func normalizeLeadContact() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if v, ok := m.Field("email"); ok {
				if err := m.SetField("email_normalized", NormalizeEmail(v.(string))); err != nil {
					return nil, err
				}
			}
			if v, ok := m.Field("phone"); ok {
				region, err := lifecycle.TenantRegion(ctx, m)
				if err != nil {
					return nil, err
				}
				if err := m.SetField("phone_normalized", NormalizePhoneIn(v.(string), region)); err != nil {
					return nil, err
				}
			}
			if m.FieldCleared("phone") {
				if err := m.ClearField("phone_normalized"); err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// bumpVersion increases a row's version on every update, so clients can use
// it as an ETag and detect concurrent changes.
func bumpVersion() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
				if err := m.AddField("version", 1); err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// endSessionsOnCredentialChange bumps a user's token version when the
// password or the role changes, so every access token issued before stops
// working (session.UserCacheTTL bounds how soon).
func endSessionsOnCredentialChange() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			_, pw := m.Field("password_hash")
			_, role := m.Field("role")
			if m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) && (pw || role) {
				if err := m.AddField("token_version", 1); err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// NormalizeEmail trims and lowercases an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// DefaultPhoneRegion is the region NormalizePhone reads numbers in; it is
// also a new tenant's default_region.
const DefaultPhoneRegion = "US"

// NormalizePhone is NormalizePhoneIn in DefaultPhoneRegion.
func NormalizePhone(s string) string { return NormalizePhoneIn(s, DefaultPhoneRegion) }

// NormalizePhoneIn writes a phone number in E.164 ("+15550199"), reading a
// number without a country code in region (ISO 3166 alpha-2, such as "US").
// A number the library cannot parse keeps its digits, and its leading + if
// any, so it still matches the same number written the same way.
func NormalizePhoneIn(s, region string) string {
	if n, err := phonenumbers.Parse(s, strings.ToUpper(region)); err == nil {
		if e := phonenumbers.Format(n, phonenumbers.E164); e != "" && e != "+0" {
			return e
		}
	}
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if r >= '0' && r <= '9' || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// validateKeyScopes checks a key's scopes against the scope list and bundles,
// refuses scopes beyond the rights of the viewer creating the key, stores
// each once, and refuses a blank name.
func validateKeyScopes() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if v, ok := m.Field("name"); ok && strings.TrimSpace(v.(string)) == "" {
				return nil, apperr.Invalid("name", apperr.FieldInvalid, "name must not be blank")
			}
			if v, ok := m.Field("scopes"); ok {
				names := v.([]string)
				set, err := scope.Parse(names)
				if err != nil {
					return nil, apperr.Invalid("scopes", apperr.FieldInvalid, err.Error())
				}
				if vw := viewer.FromContext(ctx); vw != nil && set&^vw.Scopes != 0 {
					return nil, apperr.Invalid("scopes", apperr.FieldInvalid, "a key cannot have scopes beyond your own: "+strings.Join((set&^vw.Scopes).Names(), ", "))
				}
				// Stored once each, in the order given.
				if unique := uniqueTrimmed(names); !slices.Equal(unique, names) {
					if sm, ok := m.(interface{ SetScopes([]string) }); ok {
						sm.SetScopes(unique)
					}
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// uniqueTrimmed is names without blanks around them and without repeats,
// in their first order.
func uniqueTrimmed(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = strings.TrimSpace(n); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
