// Package apperr is Leadron's one error type. The data layer returns it for
// rule violations; the REST and GraphQL adapters answer with its Code's
// status (HTTPStatus) and show its Message and Fields. Anything that is not an *Error reaches clients
// only as "internal error".
package apperr

import (
	"errors"
	"strings"
)

// Code is a stable, documented error code.
type Code string

// The error codes of the API (see docs/api.md#errors).
const (
	Validation        Code = "validation_failed"
	NotFound          Code = "not_found"
	Conflict          Code = "conflict"
	Forbidden         Code = "forbidden"
	InsufficientScope Code = "insufficient_scope"
	InvalidAPIKey     Code = "invalid_api_key"
	InvalidJSON       Code = "invalid_json"
	RateLimited       Code = "rate_limited"
	Internal          Code = "internal_error"

	InvalidOnBehalfOf    Code = "invalid_on_behalf_of"
	InvalidCredentials   Code = "invalid_credentials"
	BadRequest           Code = "bad_request"
	MethodNotAllowed     Code = "method_not_allowed"
	PayloadTooLarge      Code = "payload_too_large"
	UnsupportedMediaType Code = "unsupported_media_type"
	IdempotencyReused    Code = "idempotency_key_reused"
	PreconditionFailed   Code = "precondition_failed"
	ServiceUnavailable   Code = "service_unavailable"
)

// FieldError says what is wrong with one input field. Field is the name the
// client used (camelCase in JSON); Code is stable, Message is for humans.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

// Field codes used in FieldError.Code.
const (
	FieldRequired = "required"
	FieldInvalid  = "invalid"
	FieldUnknown  = "unknown_field"
	FieldTooLong  = "too_long"
	FieldRange    = "out_of_range"
)

// Error is an error the client may see.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return string(e.Code) + ": " + e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return string(e.Code) + ": " + strings.Join(parts, "; ")
}

// New returns an error with a code and message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Invalid returns a validation error for one field.
func Invalid(field, code, message string) *Error {
	return &Error{Code: Validation, Message: "Validation failed", Fields: []FieldError{{Field: field, Message: message, Code: code}}}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	if e, ok := err.(*Error); ok { // the usual case, without errors.As's allocation
		return e, true
	}
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CamelCase turns a stored field name (assigned_to) into its API name
// (assignedTo).
func CamelCase(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		switch {
		case r == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
