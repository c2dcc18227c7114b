package graph

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
)

// errTx replaces a database error on begin or commit: entgql puts the error's
// text in the response, and database text never reaches clients.
var errTx = errors.New("the transaction failed")

// transactioner runs every mutation operation in one transaction, and its
// fields one at a time (entgql.Transactioner): resolvers write through
// ent.FromContext(ctx), any error rolls everything back, and the audit
// events commit with the writes. Around entgql's it
//   - passes through responses to requests that failed before they had an
//     operation (bad JSON, parse and validation errors), on which entgql's
//     panics with "missing operation context";
//   - logs a failure to begin or commit, and shows it as internal_error.
type transactioner struct {
	entgql.Transactioner
}

func newTransactioner(client *ent.Client, log *slog.Logger) transactioner {
	open := func(ctx context.Context) (context.Context, driver.Tx, error) {
		txCtx, tx, err := client.OpenTx(ctx)
		if err != nil {
			log.ErrorContext(ctx, "graphql: beginning a transaction", "request_id", requestID(ctx), "err", err)
			return nil, nil, errTx
		}
		failed, _ := ctx.Value(commitFailureKey{}).(*commitFailure)
		return txCtx, loggedTx{Tx: tx, ctx: ctx, log: log, failed: failed}, nil
	}
	return transactioner{entgql.Transactioner{TxOpener: entgql.TxOpenerFunc(open)}}
}

// InterceptResponse runs entgql's transactioner when the request has an
// operation.
func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	failed := &commitFailure{}
	resp := t.Transactioner.InterceptResponse(context.WithValue(ctx, commitFailureKey{}, failed), next)
	if resp == nil {
		return nil
	}
	// Every error that went through the presenter has a code; one without
	// is entgql's own report of a failed begin or commit.
	for i, e := range resp.Errors {
		if _, ok := e.Extensions["code"]; !ok {
			out := &gqlerror.Error{Path: e.Path, Locations: e.Locations}
			if failed.err != nil {
				resp.Errors[i] = fromApp(out, failed.err)
				continue
			}
			resp.Errors[i] = internal(out)
		}
	}
	return resp
}

// commitFailure is a failed commit's error, when it is the client's to see:
// a write the database refuses only at the commit, such as a lead insert
// pgxdriver queued that violates a constraint (errmap's conflict).
type commitFailure struct{ err *apperr.Error }

type commitFailureKey struct{}

// loggedTx logs a failed commit or rollback and hides its text.
type loggedTx struct {
	driver.Tx
	ctx    context.Context
	log    *slog.Logger
	failed *commitFailure // nil outside transactioner's InterceptResponse
}

func (t loggedTx) Commit() error {
	err := t.Tx.Commit()
	if err == nil {
		return nil
	}
	if e, ok := errmap.Classify(err); ok && t.failed != nil {
		t.failed.err = e
		t.log.WarnContext(t.ctx, "graphql: committing", "request_id", requestID(t.ctx), "code", string(e.Code), "err", err)
		return errTx
	}
	t.log.ErrorContext(t.ctx, "graphql: committing", "request_id", requestID(t.ctx), "err", err)
	return errTx
}

func (t loggedTx) Rollback() error {
	if err := t.Tx.Rollback(); err != nil {
		t.log.WarnContext(t.ctx, "graphql: rolling back", "request_id", requestID(t.ctx), "err", err)
		return errTx
	}
	return nil
}
