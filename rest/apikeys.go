package rest

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/apikey"
	"github.com/leadron/leadron/ent/predicate"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/viewer"
)

// APIKey is an API key as the API shows it: never its hash or its secret.
type APIKey struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Environment string   `json:"environment"`
	Prefix      string   `json:"prefix"`
	Last4       string   `json:"last4"`
	Scopes      []string `json:"scopes"`
	CreatedBy   string   `json:"createdBy"`
	CreatedAt   Time     `json:"createdAt"`
	LastUsedAt  *Time    `json:"lastUsedAt"`
	ExpiresAt   *Time    `json:"expiresAt"`
	RevokedAt   *Time    `json:"revokedAt"`
}

// NewAPIKey is a created or rolled key with its plaintext: the only
// responses that ever carry it.
type NewAPIKey struct {
	APIKey
	Key string `json:"key"`
}

func (a *api) apiKey(k *ent.APIKey) APIKey {
	out := APIKey{
		ID: a.codec.Encode(k.ID), Name: k.Name, Environment: k.Environment,
		Prefix: k.Prefix, Last4: k.Last4, Scopes: k.Scopes, CreatedBy: a.codec.Encode(k.OwnerID),
		CreatedAt: Time(k.CreatedAt), LastUsedAt: timePtr(k.LastUsedAt),
		ExpiresAt: timePtr(k.ExpiresAt), RevokedAt: timePtr(k.RevokedAt),
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	return out
}

func (a *api) createAPIKey(w http.ResponseWriter, r *http.Request) {
	o, err := readObject(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	defer o.release()
	o.only("name", "environment", "scopes", "expiresAt")
	o.require("name", "environment", "scopes")
	name := notNull(o, "name", member[string](o, "name", "a string"))
	env := notNull(o, "environment", member[string](o, "environment", "live or sandbox"))
	scopes := notNull(o, "scopes", member[[]string](o, "scopes", "an array of scope names"))
	expires := member[time.Time](o, "expiresAt", "an RFC 3339 time")
	ctx := r.Context()
	v := viewer.FromContext(ctx)
	if env.Set && !viewer.Environment(env.V).Valid() {
		o.invalid("environment", "environment must be live or sandbox")
	}
	if err := o.err(); err != nil {
		// A body with field errors never opens the transaction.
		fail(w, r, err)
		return
	}
	in := account.KeyInput{Name: name.V, OwnerID: v.UserID, Scopes: scopes.V, Environment: viewer.Environment(env.V)}
	if expires.Set && !expires.Null {
		in.ExpiresAt = &expires.V
	}
	var res response
	err = store.InTx(ctx, a.client, func(c *ent.Client) error {
		k, plain, err := account.CreateAPIKeyIn(ctx, c, in)
		if err != nil {
			return err
		}
		withholdFromReplay(r)
		res, err = respondInTx(ctx, c, r, http.StatusCreated, "", NewAPIKey{APIKey: a.apiKey(k), Key: plain})
		return err
	})
	if err != nil {
		fail(w, r, err)
		return
	}
	res.write(w)
}

var apiKeySorts = map[string]string{"createdAt": apikey.FieldCreatedAt}

// listAPIKeys lists the keys of the caller's tenant and environment, revoked
// ones included.
func (a *api) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, "limit", "after", "before", "sort")
	pg := q.paging(a.codec, apiKeySorts, "-createdAt")
	if err := q.err(); err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	rows, p, err := keysetPage(ctx, pg, func(where func(*sql.Selector), order []func(*sql.Selector), limit int) ([]*ent.APIKey, error) {
		qq := a.client.APIKey.Query().Limit(limit)
		if where != nil {
			qq.Where(predicate.APIKey(where))
		}
		for _, o := range order {
			qq.Order(o)
		}
		return qq.All(ctx)
	}, func(k *ent.APIKey) (any, int) { return k.CreatedAt, k.ID })
	if err != nil {
		fail(w, r, err)
		return
	}
	out := make([]APIKey, len(rows))
	for i, k := range rows {
		out[i] = a.apiKey(k)
	}
	page(w, r, out, p)
}

// revokeAPIKey revokes a key, and forgets it on this instance at once;
// other instances refuse it within KeyCacheTTL.
func (a *api) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, apikey.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	if _, err := account.RevokeAPIKey(r.Context(), a.client, id); err != nil {
		fail(w, r, err)
		return
	}
	a.auth.ForgetKey(id)
	w.WriteHeader(http.StatusNoContent)
}

// rollAPIKey gives a key a new secret. The old one works on for the grace
// period the body asks for, none by default.
func (a *api) rollAPIKey(w http.ResponseWriter, r *http.Request) {
	id, err := a.pathID(r, apikey.Table)
	if err != nil {
		fail(w, r, err)
		return
	}
	grace, err := decodeRoll(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	ctx := r.Context()
	var res response
	err = store.InTx(ctx, a.client, func(c *ent.Client) error {
		k, plain, err := account.RollAPIKeyIn(ctx, c, id, grace)
		if err != nil {
			return err
		}
		withholdFromReplay(r)
		res, err = respondInTx(ctx, c, r, http.StatusOK, "", NewAPIKey{APIKey: a.apiKey(k), Key: plain})
		return err
	})
	if err != nil {
		fail(w, r, err)
		return
	}
	a.auth.ForgetKey(id)
	res.write(w)
}

// decodeRoll reads the optional roll body; an empty body is {}.
func decodeRoll(r *http.Request) (time.Duration, error) {
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return 0, nil
	}
	r.Body = io.NopCloser(br)
	o, err := readObject(r)
	if err != nil {
		return 0, err
	}
	defer o.release()
	o.only("expiresInSeconds")
	secs := notNull(o, "expiresInSeconds", member[int](o, "expiresInSeconds", "an integer"))
	if err := o.err(); err != nil {
		return 0, err
	}
	// Clamped before multiplying, so a huge value cannot overflow into the
	// allowed range; account.RollAPIKeyIn reports the range.
	n := min(max(secs.V, -1), int(account.MaxRollGrace/time.Second)+1)
	return time.Duration(n) * time.Second, nil
}
