package store

import (
	"context"

	"github.com/leadron/leadron/ent"
)

// WithTx runs fn in a transaction, committing on success and rolling back on
// error or panic, so a failed write leaves nothing behind.
func WithTx(ctx context.Context, client *ent.Client, fn func(*ent.Tx) error) (err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// InTx runs fn with a client bound to a new transaction. Audited writes must
// run in one, so the audit event commits or rolls back with the write.
func InTx(ctx context.Context, client *ent.Client, fn func(*ent.Client) error) error {
	return WithTx(ctx, client, func(tx *ent.Tx) error { return fn(tx.Client()) })
}
