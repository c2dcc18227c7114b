package rest

import (
	"context"
	"net/http"

	"entgo.io/ent/dialect/sql"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/predicate"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/viewer"
)

// User is a user as the API shows it: never the password hash or the token
// version.
type User struct {
	ID        string `json:"id"`
	TenantID  string `json:"tenantId"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Role      string `json:"role"`
	CreatedAt Time   `json:"createdAt"`
	UpdatedAt Time   `json:"updatedAt"`
}

func (a *api) user(ctx context.Context, u *ent.User) User {
	return User{
		ID: a.codec.Encode(u.ID), TenantID: viewer.FromContext(ctx).TenantSlug,
		Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Role: u.Role.String(),
		CreatedAt: Time(u.CreatedAt), UpdatedAt: Time(u.UpdatedAt),
	}
}

var userSorts = map[string]string{"createdAt": user.FieldCreatedAt}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, "limit", "after", "before", "sort")
	pg := q.paging(a.codec, userSorts, "-createdAt")
	if err := q.err(); err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	rows, p, err := keysetPage(ctx, pg, func(where func(*sql.Selector), order []func(*sql.Selector), limit int) ([]*ent.User, error) {
		qq := a.client.User.Query().Limit(limit)
		if where != nil {
			qq.Where(predicate.User(where))
		}
		for _, o := range order {
			qq.Order(o)
		}
		return qq.All(ctx)
	}, func(u *ent.User) (any, int) { return u.CreatedAt, u.ID })
	if err != nil {
		fail(w, r, err)
		return
	}
	out := make([]User, len(rows))
	for i, u := range rows {
		out[i] = a.user(ctx, u)
	}
	page(w, r, out, p)
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, user.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	u, err := a.client.User.Get(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, a.user(r.Context(), u))
}

// currentUser is the user the request acts as. It is read as the tenant's
// system viewer, since the caller need not hold users:read to know itself.
func (a *api) currentUser(w http.ResponseWriter, r *http.Request) {
	v := viewer.FromContext(r.Context())
	sctx := viewer.NewContext(r.Context(), viewer.System(v.TenantID, v.Environment))
	u, err := a.client.User.Get(sctx, v.UserID)
	if err != nil {
		fail(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, a.user(r.Context(), u))
}
