// Package graph is the GraphQL adapter for the dashboard: gqlgen resolvers
// over the ent client, generated from the ent schema by entgql. Resolvers
// hold no rules of their own; privacy, validation and audit live in ent.
package graph

import "github.com/leadron/leadron/ent"

// Resolver is the root resolver.
type Resolver struct{ client *ent.Client }

// NewResolver returns the root resolver over client.
func NewResolver(client *ent.Client) *Resolver { return &Resolver{client: client} }
