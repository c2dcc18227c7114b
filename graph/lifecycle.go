package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"github.com/leadron/leadron/ent"
)

// newestFirst orders a lead's timeline as REST does: newest event first.
var newestFirst = &ent.AuditEventOrder{Direction: entgql.OrderDirectionDesc, Field: ent.AuditEventOrderFieldCreatedAt}

// reader is the client a field resolver reads through: the operation's
// transaction in a mutation (reading outside it would deadlock SQLite's one
// connection, or miss the mutation's writes), the root client otherwise.
func (r *Resolver) reader(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.client
}

// Lists without an orderBy are in creation order, on the
// (tenant, environment, created_at, id) index, so a page reads only its
// rows; `last: N` gives the newest N. entgql breaks ties by ID ascending
// whatever the order's direction, so a descending default would mix
// directions that no index serves, and every page would sort the tenant's
// whole table.
var (
	leadsInCreationOrder  = []*ent.LeadOrder{{Direction: entgql.OrderDirectionAsc, Field: ent.LeadOrderFieldCreatedAt}}
	eventsInCreationOrder = &ent.AuditEventOrder{Direction: entgql.OrderDirectionAsc, Field: ent.AuditEventOrderFieldCreatedAt}
)
