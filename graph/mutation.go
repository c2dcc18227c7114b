package graph

import (
	"context"
	"time"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/rule"
	"github.com/leadron/leadron/internal/viewer"
)

// actingViewer is the request's viewer. The Gate puts one in every request's
// context; without one, nothing is allowed.
func actingViewer(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if !v.TenantScoped() {
		return nil, rule.ErrNoViewer
	}
	return v, nil
}

// afterCommit runs fn once the operation's transaction has committed, and
// never if it rolls back: a key must leave the authenticator's cache only
// once its revocation is visible to the lookup that refills the cache.
func afterCommit(ctx context.Context, fn func()) {
	tx := ent.TxFromContext(ctx)
	if tx == nil {
		fn()
		return
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			fn()
			return nil
		})
	})
}

// rollGrace turns rollAPIKey's expiresInSeconds into a duration. Values far
// out of range are clamped before multiplying, so they cannot overflow into
// the allowed range; account.RollAPIKeyIn reports the range.
func rollGrace(seconds *int) time.Duration {
	if seconds == nil {
		return 0
	}
	n := min(max(*seconds, -1), int(account.MaxRollGrace/time.Second)+1)
	return time.Duration(n) * time.Second
}
