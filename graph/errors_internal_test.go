package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/testutil"
)

// The presenter shows REST's codes and safe messages, and sends anything
// unexpected to the log only.
func TestPresentError(t *testing.T) {
	var logged bytes.Buffer
	present := presentError(slog.New(slog.NewTextHandler(&logged, nil)))
	fieldCtx := func() context.Context {
		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
		return graphql.WithFieldContext(ctx, &graphql.FieldContext{
			Field: graphql.CollectedField{Field: &ast.Field{Alias: "createLead", Position: &ast.Position{Line: 1, Column: 3}}},
		})
	}
	for _, tc := range []struct {
		name        string
		err         error
		code, field string
		message     string
		logs        bool
	}{
		{"a database error", errors.New(`pq: duplicate key value violates unique constraint "leads_pkey" SELECT * FROM leads`), "internal_error", "", "Internal server error", true},
		{"a panic", errPanic, "internal_error", "", "Internal server error", false},
		{"a validation error", apperr.Invalid("assignedTo", apperr.FieldInvalid, "must be the ID of a user in this tenant"), "validation_failed", "assigneeID", "must be the ID of a user in this tenant", false},
		{"not found", &ent.NotFoundError{}, "not_found", "", "Resource not found", false},
		{"a malformed ID", gqlerror.WrapPath(ast.Path{ast.PathName("createLead"), ast.PathName("id")}, ids.ErrInvalid), "not_found", "", "Resource not found", false},
		{"a bad scalar value", gqlerror.WrapPath(ast.Path{ast.PathName("createLead"), ast.PathName("input"), ast.PathName("customFields")}, fmt.Errorf("%T is not a map", 1)), "validation_failed", "customFields", "Invalid value for customFields", false},
		{"a parse error", &gqlerror.Error{Message: "Expected Name", Extensions: map[string]any{"code": "GRAPHQL_PARSE_FAILED"}}, CodeParseFailed, "", "Expected Name", false},
		{"a body gqlgen cannot decode", &gqlerror.Error{Message: "json request body could not be decoded: x body:secret"}, "invalid_json", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged.Reset()
			got := present(fieldCtx(), tc.err)
			if got.Extensions["code"] != tc.code || (tc.field != "" && got.Extensions["field"] != tc.field) {
				t.Errorf("extensions %v, want code %s field %s", got.Extensions, tc.code, tc.field)
			}
			if tc.message != "" && got.Message != tc.message {
				t.Errorf("message %q, want %q", got.Message, tc.message)
			}
			for _, leak := range []string{"pq:", "SELECT", "secret", "is not a map"} {
				if strings.Contains(got.Message, leak) {
					t.Errorf("message leaks %q: %s", leak, got.Message)
				}
			}
			if (logged.Len() > 0) != tc.logs {
				t.Errorf("logged %q, want logging %v", logged.String(), tc.logs)
			}
		})
	}
}

// A panic is logged with its stack, and the client learns nothing of it.
func TestRecoverPanic(t *testing.T) {
	var logged bytes.Buffer
	err := recoverPanic(slog.New(slog.NewTextHandler(&logged, nil)))(context.Background(), "boom at secret place")
	if !errors.Is(err, errPanic) || !strings.Contains(logged.String(), "boom at secret place") || !strings.Contains(logged.String(), "stack") {
		t.Errorf("err %v, log %q", err, logged.String())
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error carries the panic: %v", err)
	}
}

// When the database fails under a mutation, the client gets internal_error,
// never the database's text (entgql would put it in the message).
func TestMutationOnAFailedDatabase(t *testing.T) {
	db := testutil.NewDB(t, "sqlite3")
	tn := testutil.NewTenant(t, db, "acme")
	var logged bytes.Buffer
	h := systemHandler(t, db, tn, jsonPOST{}, &logged)
	db.SQL.Close()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(
		`{"query":"mutation { createLead(input: {email: \"a@b.co\", firstName: \"A\", lastName: \"B\"}) { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), `"code":"internal_error"`) || strings.Contains(string(body), "closed") || strings.Contains(string(body), "sql") {
		t.Errorf("%d %s", rec.Code, body)
	}
	if !strings.Contains(logged.String(), "closed") {
		t.Errorf("the database's error was not logged: %q", logged.String())
	}
}
