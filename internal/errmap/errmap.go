// Package errmap turns errors from the data layer into *apperr.Error, the
// one form that the REST, GraphQL and CLI adapters show. It is the single
// place where ent's and the privacy layer's errors get client-facing codes.
package errmap

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"entgo.io/ent/privacy"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/schema"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/pgxdriver"
	"github.com/leadron/leadron/internal/rule"
)

// Classify returns the client-facing form of err, and false when err is
// unexpected, in which case callers show a generic internal error and log err.
func Classify(err error) (*apperr.Error, bool) {
	if e, ok := apperr.As(err); ok {
		return e, true
	}
	var scopeErr *rule.ScopeError
	var verr *ent.ValidationError
	switch {
	case errors.As(err, &scopeErr):
		return apperr.New(apperr.InsufficientScope, "This endpoint requires the '"+scopeErr.Scope.String()+"' scope"), true
	case errors.As(err, &verr):
		return Validation(verr), true
	case ent.IsNotFound(err):
		return apperr.New(apperr.NotFound, "Resource not found"), true
	case ent.IsConstraintError(err), violatesConstraint(err):
		return apperr.New(apperr.Conflict, "The request conflicts with an existing resource"), true
	case errors.Is(err, privacy.Deny):
		return apperr.New(apperr.Forbidden, "You are not allowed to do this"), true
	case badText(err):
		// The adapters and rule.ValidText name the field where they can;
		// this is the net under a filter or header they did not check.
		return apperr.New(apperr.Validation, "Text must be UTF-8 without NUL characters"), true
	case Unavailable(err):
		return apperr.New(apperr.ServiceUnavailable, "The service is temporarily unavailable; retry shortly"), true
	}
	return nil, false
}

// Unavailable reports whether err means the database could not be reached
// or did not answer in time: the client should retry, and it is not a bug.
func Unavailable(err error) bool {
	var netErr net.Error
	var connErr *pgconn.ConnectError
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed),
		pgconn.SafeToRetry(err),
		errors.As(err, &connErr),
		errors.As(err, &netErr):
		return true
	}
	return pgconn.Timeout(err)
}

// violatesConstraint reports whether an insert pgxdriver queued
// (PreallocateIDs) failed on a unique, foreign-key or check constraint,
// the violations ent reports as a ConstraintError: it fails with the
// statement it went with, or with the commit, after ent's create returned,
// so ent has not wrapped its error.
func violatesConstraint(err error) bool {
	if _, queued := errors.AsType[*pgxdriver.QueuedError](err); !queued {
		return false
	}
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pgErr.Code == "23505" || pgErr.Code == "23503" || pgErr.Code == "23514")
}

// badText reports whether PostgreSQL refused text it was sent: a NUL
// character or bytes that are not UTF-8 (SQLSTATE 22021), or a character
// the database's encoding lacks (22P05).
func badText(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pgErr.Code == "22021" || pgErr.Code == "22P05")
}

// Validation converts an ent validation error into a field error named as
// the API names the field.
func Validation(verr *ent.ValidationError) *apperr.Error {
	field := apperr.CamelCase(verr.Name)
	msg := verr.Error()
	code := apperr.FieldInvalid
	if strings.Contains(msg, "missing required field") {
		return apperr.Invalid(field, apperr.FieldRequired, field+" is required")
	}
	for name, values := range enums {
		if strings.Contains(msg, `"`+name+`"`) && strings.Contains(msg, "invalid enum value") {
			return apperr.Invalid(field, apperr.FieldInvalid, field+" must be one of: "+strings.Join(values, ", "))
		}
	}
	// ent wraps validator errors as `validator failed for field "T.f": <err>`;
	// the innermost error is the message written for people.
	inner := verr.Unwrap()
	for next := errors.Unwrap(inner); next != nil; next = errors.Unwrap(inner) {
		inner = next
	}
	if inner != nil {
		msg = inner.Error()
	}
	return apperr.Invalid(field, code, humanize(field, msg))
}

// enums lists the allowed values of each enum field, by ent's "Type.field".
var enums = map[string][]string{
	"Tenant.plan": schema.Plans,
	"User.role":   schema.Roles,
	"Lead.source": schema.LeadSources,
	"Lead.status": schema.LeadStatuses,
}

// humanize rewrites ent's built-in validator messages.
func humanize(field, msg string) string {
	switch {
	case strings.Contains(msg, "value is empty"):
		return field + " must not be empty"
	case strings.Contains(msg, "value is less than the required length"):
		return field + " is too short"
	case strings.Contains(msg, "value is greater than the required length"):
		return field + " is too long"
	case strings.Contains(msg, "value out of range"):
		return field + " is out of range"
	case strings.Contains(msg, "does not match validation"):
		return field + " has an invalid format"
	case strings.Contains(msg, "invalid enum value"):
		return field + " has an invalid value"
	}
	return msg
}
