package schema

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/customfields"
)

// Limits on Lead.custom_fields, from the brief.
const (
	MaxCustomFields      = 50
	MaxCustomFieldKeyLen = 40
	MaxCustomFieldValLen = 500
)

// ValidateEmail accepts a bare address ("jane@acme.com"): no display name,
// no surrounding spaces.
func ValidateEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("Invalid email format")
	}
	if at := strings.LastIndexByte(s, '@'); !strings.Contains(s[at+1:], ".") {
		return errors.New("Invalid email format")
	}
	return nil
}

// ValidatePhone accepts what people type for a phone number: digits with an
// optional leading +, and spaces, dots, dashes and parentheses as separators.
func ValidatePhone(s string) error {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return errors.New("Invalid phone number: use digits, an optional leading +, and separators")
		}
	}
	if digits < 4 || digits > 15 {
		return errors.New("Invalid phone number: it must have 4 to 15 digits")
	}
	return nil
}

// ValidateCustomFields enforces the custom-field limits: at most 50 keys of at
// most 40 characters, each value a string of at most 500 characters, a
// number, a boolean, or null.
func ValidateCustomFields(m map[string]any) error {
	if len(m) > MaxCustomFields {
		return fmt.Errorf("at most %d custom fields are allowed", MaxCustomFields)
	}
	for k, v := range m {
		if k == "" || utf8.RuneCountInString(k) > MaxCustomFieldKeyLen {
			return fmt.Errorf("custom field key %q must be 1 to %d characters", truncate(k), MaxCustomFieldKeyLen)
		}
		if strings.IndexFunc(k, unicode.IsControl) >= 0 {
			return fmt.Errorf("custom field key %q has control characters", truncate(k))
		}
		switch v := v.(type) {
		case nil, bool, float64, float32, int, int64, int32:
		case string:
			if utf8.RuneCountInString(v) > MaxCustomFieldValLen {
				return fmt.Errorf("custom field %q is longer than %d characters", k, MaxCustomFieldValLen)
			}
			// PostgreSQL's jsonb, which held custom fields before, refused
			// NUL, and still refuses it where the column is converted back.
			if strings.IndexByte(v, 0) >= 0 {
				return fmt.Errorf("custom field %q has a NUL character", k)
			}
		default:
			return fmt.Errorf("custom field %q must be a string, number, boolean or null", k)
		}
	}
	return nil
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) > 50 {
		return string([]rune(s)[:50]) + "…"
	}
	return s
}

// codedError is a check's failure with a field code more precise than
// "invalid": too_long or out_of_range.
type codedError struct{ code, msg string }

func (e codedError) Error() string { return e.msg }

// fieldCheck validates one field of a mutation; name is the stored field,
// api the name clients use.
type fieldCheck struct {
	name, api string
	check     func(v any) error
}

// validateFields checks every field a mutation sets, and on create that the
// required ones are present, and reports all failures at once, so a client
// learns of every bad field in one response. ent's own per-field checks stay
// as a backstop behind it.
func validateFields(required []string, checks []fieldCheck) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			var errs []apperr.FieldError
			for _, c := range checks {
				v, set := m.Field(c.name)
				switch {
				case set:
					if err := c.check(v); err != nil {
						code := apperr.FieldInvalid
						if ce, ok := errors.AsType[codedError](err); ok {
							code = ce.code
						}
						errs = append(errs, apperr.FieldError{Field: c.api, Message: err.Error(), Code: code})
					}
				case m.Op().Is(ent.OpCreate) && slices.Contains(required, c.name):
					errs = append(errs, apperr.FieldError{Field: c.api, Message: c.api + " is required", Code: apperr.FieldRequired})
				case m.FieldCleared(c.name) && slices.Contains(required, c.name):
					errs = append(errs, apperr.FieldError{Field: c.api, Message: c.api + " cannot be null", Code: apperr.FieldRequired})
				}
			}
			if len(errs) > 0 {
				return nil, &apperr.Error{Code: apperr.Validation, Message: "Validation failed", Fields: errs}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// text checks a string field: not blank unless optional, at most max
// characters, then the extra checks.
func text(api string, max int, blankOK bool, extra ...func(string) error) func(any) error {
	return func(v any) error {
		s := fmt.Sprint(v)
		if !blankOK && strings.TrimSpace(s) == "" {
			return fmt.Errorf("%s must not be empty", api)
		}
		if utf8.RuneCountInString(s) > max {
			return codedError{apperr.FieldTooLong, fmt.Sprintf("%s must be at most %d characters", api, max)}
		}
		for _, f := range extra {
			if err := f(s); err != nil {
				return err
			}
		}
		return nil
	}
}

// oneOf checks an enum field against its values.
func oneOf(api string, values []string) func(any) error {
	return func(v any) error {
		if !slices.Contains(values, fmt.Sprint(v)) {
			return fmt.Errorf("%s must be one of: %s", api, strings.Join(values, ", "))
		}
		return nil
	}
}

// between checks an int field's range.
func between(api string, lo, hi int) func(any) error {
	return func(v any) error {
		if n, ok := v.(int); !ok || n < lo || n > hi {
			return codedError{apperr.FieldRange, fmt.Sprintf("%s must be between %d and %d", api, lo, hi)}
		}
		return nil
	}
}

// leadChecks are the Lead's field rules, as the API documents them.
var leadChecks = []fieldCheck{
	{"email", "email", text("email", 254, false, ValidateEmail)},
	{"first_name", "firstName", text("firstName", 100, false)},
	{"last_name", "lastName", text("lastName", 100, false)},
	{"phone", "phone", text("phone", 40, true, ValidatePhone)},
	{"source", "source", oneOf("source", LeadSources)},
	{"status", "status", oneOf("status", LeadStatuses)},
	{"score", "score", between("score", 0, 100)},
	{"custom_fields", "customFields", func(v any) error {
		m, err := v.(customfields.Fields).Map()
		if err != nil { // a number beyond float64's range: GraphQL's decoding keeps it
			return errors.New("custom field values must be strings, numbers within ±1.8e308, booleans or null")
		}
		return ValidateCustomFields(m)
	}},
}
