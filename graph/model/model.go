// Package model holds the GraphQL types that are not ent entities: the
// viewer and the mutation payloads. gqlgen generates the rest of the package
// (models_gen.go) from graph/leadron.graphql.
package model

// Viewer is who the request acts as. Its user and tenant are resolved on
// demand, through the privacy layer like any other read.
type Viewer struct {
	UserID, TenantID int
	Environment      string
	Scopes           []string
}
