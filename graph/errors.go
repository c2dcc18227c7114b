package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/viewer"
)

// Codes for errors in the GraphQL document itself, which REST has no
// counterpart for. Every other error carries REST's code (apperr.Code).
const (
	CodeParseFailed      = "graphql_parse_failed"
	CodeValidationFailed = "graphql_validation_failed"
	CodeTooComplex       = "query_too_complex"
)

// errPanic is what a recovered panic becomes; the panic itself is logged.
var errPanic = errors.New("graph: panic in a resolver")

// inputNames are the GraphQL names of input fields that the data layer's
// errors name as REST does.
var inputNames = map[string]string{"assignedTo": "assigneeID", "duplicateIds": "duplicateIDs"}

// presentError turns every error into what a client may see: REST's code in
// extensions.code, the offending input field in extensions.field, and a
// message written for people. Anything unexpected becomes internal_error;
// its text (SQL, driver messages) goes to the log with the request ID,
// never to the client.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr, ok := errors.AsType[*gqlerror.Error](err)
		if !ok {
			gerr = gqlerror.WrapPath(graphql.GetPath(ctx), err)
		}
		out := &gqlerror.Error{Path: gerr.Path, Locations: gerr.Locations}
		code, _ := gerr.Extensions["code"].(string)
		switch {
		case errors.Is(err, errPanic):
			return internal(out)
		case errors.Is(err, ids.ErrInvalid):
			// A malformed ID answers exactly like another tenant's: at the
			// field, not at its argument.
			return fromApp(atField(ctx, out), apperr.New(apperr.NotFound, "Resource not found"))
		case code == "NOT_FOUND":
			return fromApp(out, apperr.New(apperr.NotFound, "Resource not found"))
		}
		field, isInput := "", false
		if gerr.Err != nil {
			field, isInput = inputField(ctx, gerr)
		}
		// A scalar's decoder may fail with io.ErrUnexpectedEOF on a cut-off
		// value (a cursor): at an argument that is bad input, not an outage.
		if e, ok := errmap.Classify(err); ok && !(isInput && e.Code == apperr.ServiceUnavailable) {
			return fromApp(out, e)
		}
		if gerr.Err == nil {
			// Built as a client-facing error: by the parser, the
			// validator, the limits below, or a library.
			return document(ctx, log, out, gerr, code)
		}
		if isInput {
			// A scalar refused an argument or input value (a bad cursor,
			// time or map). Its text may be a decoder's, so it is replaced.
			return fromApp(atField(ctx, out), apperr.Invalid(field, apperr.FieldInvalid, "Invalid value for "+field))
		}
		if err.Error() == "introspection disabled" {
			return with(out, string(apperr.Forbidden), "Introspection is disabled on this server")
		}
		log.ErrorContext(ctx, "graphql request failed", "request_id", requestID(ctx), "path", gerr.Path.String(), "err", err)
		return internal(out)
	}
}

// document presents an error that has no underlying cause.
func document(ctx context.Context, log *slog.Logger, out, gerr *gqlerror.Error, code string) *gqlerror.Error {
	if c, ok := gerr.Extensions[clientCodeKey].(string); ok {
		// Refused by the limits, already in the client's form.
		out.Message = gerr.Message
		out.Extensions = map[string]any{"code": c}
		if f, ok := gerr.Extensions["field"]; ok {
			out.Extensions["field"] = f
		}
		return out
	}
	switch {
	case code == errcode.ParseFailed && strings.HasPrefix(gerr.Message, "exceeded token limit"):
		// The parser's limit is one of the limits, so it answers as they do.
		return with(out, CodeTooComplex, fmt.Sprintf("The operation has more than %d tokens", MaxTokens))
	case code == errcode.ParseFailed:
		return with(out, CodeParseFailed, gerr.Message)
	case code == errcode.ValidationFailed:
		return with(out, CodeValidationFailed, gerr.Message)
	case strings.HasPrefix(gerr.Message, "json request body could not be decoded"):
		// gqlgen's message would echo the body back.
		return with(out, string(apperr.InvalidJSON), `The body must be a JSON object: {"query": "…", "variables": {…}, "operationName": "…"}`)
	case len(gerr.Path) > 0:
		// A library's message for the client, such as entgql's
		// pagination errors.
		return with(out, string(apperr.Validation), gerr.Message)
	}
	log.ErrorContext(ctx, "graphql request failed", "request_id", requestID(ctx), "err", gerr.Message)
	return internal(out)
}

// inputField reports whether gerr is about an argument or input value of
// the field being resolved, rather than the field's own failure: its path
// goes past the field's, into the argument. It returns the innermost
// argument or input field name.
func inputField(ctx context.Context, gerr *gqlerror.Error) (string, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return "", false
	}
	fieldPath := fc.Path()
	if len(gerr.Path) <= len(fieldPath) {
		return "", false
	}
	for i := len(gerr.Path) - 1; i >= len(fieldPath); i-- {
		if name, ok := gerr.Path[i].(ast.PathName); ok {
			return string(name), true
		}
	}
	return "", false
}

// atField points an error about an argument at the field that takes it,
// as the field's own errors point.
func atField(ctx context.Context, out *gqlerror.Error) *gqlerror.Error {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(out.Path) <= len(fc.Path()) {
		return out
	}
	out.Path = fc.Path()
	if pos := fc.Field.Position; pos != nil {
		out.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	return out
}

// fromApp presents an apperr.Error. A validation error names its first
// field in extensions.field, and lists every field in extensions.fields,
// since the data layer reports all bad fields at once.
func fromApp(out *gqlerror.Error, e *apperr.Error) *gqlerror.Error {
	if len(e.Fields) == 0 {
		return with(out, string(e.Code), e.Message)
	}
	fields := make([]map[string]any, len(e.Fields))
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		name := f.Field
		if n, ok := inputNames[name]; ok {
			name = n
		}
		fields[i] = map[string]any{"field": name, "message": f.Message, "code": f.Code}
		msgs[i] = f.Message
	}
	with(out, string(e.Code), strings.Join(msgs, "; "))
	out.Extensions["field"] = fields[0]["field"]
	out.Extensions["fields"] = fields
	return out
}

func with(out *gqlerror.Error, code, message string) *gqlerror.Error {
	out.Message = message
	out.Extensions = map[string]any{"code": code}
	return out
}

func internal(out *gqlerror.Error) *gqlerror.Error {
	return with(out, string(apperr.Internal), "Internal server error")
}

// recoverPanic logs a resolver's panic with its stack; the client sees only
// internal_error.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql panic", "request_id", requestID(ctx), "panic", p, "stack", string(debug.Stack()))
		return errPanic
	}
}

// requestID is the request's ID for logs; the Gate copies it into the viewer.
func requestID(ctx context.Context) string {
	if v := viewer.FromContext(ctx); v != nil {
		return v.Request.ID
	}
	return ""
}
