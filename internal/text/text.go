// Package text says what text Leadron stores: valid UTF-8 without NUL
// characters, which PostgreSQL refuses in every text column and parameter
// (SQLite would keep them, so both databases are held to the stricter one).
package text

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Valid reports whether s is UTF-8 without NUL characters.
func Valid(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// ValidValue reports whether a field's value holds only valid text: a
// string, or each string of a list. Other values hold no text to check.
func ValidValue(v any) bool {
	switch v := v.(type) {
	case string:
		return Valid(v)
	case []string:
		return !slices.ContainsFunc(v, func(s string) bool { return !Valid(s) })
	}
	return true
}

// UTF8Charset reports whether a Content-Type's charset parameter (empty:
// none given) names UTF-8, the only encoding of JSON (RFC 8259).
func UTF8Charset(cs string) bool {
	return cs == "" || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}

// Clean makes s valid: invalid bytes become U+FFFD and NULs are dropped.
// It is for text a client does not choose to send as data, such as a
// User-Agent recorded in the audit log, which must never fail a write.
func Clean(s string) string {
	if Valid(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}
