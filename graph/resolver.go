// Package graph is the GraphQL adapter for the dashboard: gqlgen resolvers
// over the ent client, generated from the ent schema by entgql, behind a
// hardened handler (NewHandler). Resolvers hold no rules of their own;
// privacy, validation and audit live in ent, and the semantics REST shares
// live in internal/leadops and internal/account.
package graph

import "github.com/leadron/leadron/ent"

// Resolver is the root resolver. Queries read through client; mutations
// write through the operation's transaction, ent.FromContext(ctx), which
// the transactioner opens (reading through client there would deadlock
// SQLite's one connection, or run outside the transaction on PostgreSQL).
type Resolver struct {
	client *ent.Client
	// forgetKey drops a revoked or rolled key from the REST
	// authenticator's cache once the change commits.
	forgetKey func(id int)
}

// NewResolver returns the root resolver over client. forgetKey, if not nil,
// is called with the ID of every API key revoked or rolled, after commit.
func NewResolver(client *ent.Client, forgetKey func(id int)) *Resolver {
	if forgetKey == nil {
		forgetKey = func(int) {}
	}
	return &Resolver{client: client, forgetKey: forgetKey}
}
