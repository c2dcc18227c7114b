// Package audit appends an audit event for every audited write, in the
// same transaction as the write, and presents events' changes as the APIs
// show them (Presenter).
package audit

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"entgo.io/ent"

	gen "github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/customfields"
	"github.com/leadron/leadron/internal/diff"
	"github.com/leadron/leadron/internal/text"
	"github.com/leadron/leadron/internal/viewer"
)

// ErrNotInTransaction refuses an audited write outside a transaction: the
// event and the write must commit or roll back together.
var ErrNotInTransaction = errors.New("audit: audited writes must run in a transaction")

// hidden are fields never copied into the log: secrets, values derived from
// other fields, and bookkeeping.
var hidden = []string{"password_hash", "key_hash", "previous_key_hash", "email_normalized", "phone_normalized", "token_version", "updated_at", "created_at", "version", "last_used_at"}

// ResourceTypes are the resource types the log holds: every Hook's, so
// that a filter by type can refuse an unknown one.
var ResourceTypes = []string{"api_key", "duplicate_candidate", "lead", "user"}

// Hook returns the hook that appends an audit event for every create, update
// and delete of the resource type, in the transaction of the write.
func Hook(resource string) ent.Hook {
	if !slices.Contains(ResourceTypes, resource) {
		panic("audit: " + resource + " is not in ResourceTypes") // at init: a schema's mistake
	}
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			txm, ok := m.(interface{ Tx() (*gen.Tx, error) })
			if !ok {
				return nil, fmt.Errorf("audit: %T cannot be audited", m)
			}
			tx, err := txm.Tx()
			if err != nil {
				return nil, ErrNotInTransaction
			}
			changes, ids, err := before(ctx, m)
			if err != nil {
				return nil, err
			}
			if len(changes) == 0 && m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
				// Only bookkeeping changed (such as a key's last use).
				return next.Mutate(ctx, m)
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return nil, err
			}
			if m.Op().Is(ent.OpCreate) {
				id, _ := m.(interface{ ID() (int, bool) }).ID()
				ids = []int{id}
			}
			action := resource + "." + verb(m)
			if a, ok := ctx.Value(actionKey{}).(string); ok && strings.HasPrefix(a, resource+".") {
				action = a
			}
			for _, id := range ids {
				if err := record(ctx, tx, resource, action, id, changes); err != nil {
					return nil, err
				}
			}
			return v, nil
		})
	}
}

type actionKey struct{}

// WithAction returns a context in which the next audited write of the
// action's resource type ("lead" for "lead.status_forced") is logged under
// that action instead of the verb derived from its fields. Hooks that know
// more about a write than its fields (a forced status change, a merge) use
// it for the mutation they pass on.
func WithAction(ctx context.Context, action string) context.Context {
	return context.WithValue(ctx, actionKey{}, action)
}

// before collects what a mutation changes, with old values where ent can
// read them (single-row updates), and the IDs a bulk update or delete
// touches, before the write happens.
func before(ctx context.Context, m ent.Mutation) (map[string]diff.Change, []int, error) {
	changes := map[string]diff.Change{}
	oneRow := m.Op().Is(ent.OpUpdateOne | ent.OpDeleteOne)
	for _, f := range m.Fields() {
		if slices.Contains(hidden, f) {
			continue
		}
		nv, _ := m.Field(f)
		c := diff.Change{New: jsonable(nv)}
		if m.Op().Is(ent.OpUpdateOne) {
			ov, err := m.OldField(ctx, f)
			if err != nil {
				return nil, nil, err
			}
			if equal(ov, nv) {
				continue
			}
			c.Old = jsonable(ov)
		}
		changes[f] = c
	}
	for _, f := range m.ClearedFields() {
		if slices.Contains(hidden, f) {
			continue
		}
		c := diff.Change{}
		if m.Op().Is(ent.OpUpdateOne) {
			ov, err := m.OldField(ctx, f)
			if err != nil {
				return nil, nil, err
			}
			c.Old = jsonable(ov)
		}
		changes[f] = c
	}
	if m.Op().Is(ent.OpCreate) {
		return changes, nil, nil
	}
	if oneRow {
		id, _ := m.(interface{ ID() (int, bool) }).ID()
		return changes, []int{id}, nil
	}
	idm, ok := m.(interface {
		IDs(context.Context) ([]int, error)
	})
	if !ok {
		return nil, nil, fmt.Errorf("audit: %T cannot list its rows", m)
	}
	ids, err := idm.IDs(ctx)
	return changes, ids, err
}

// lifecycleVerbs name updates by the field that marks them, so the log
// reads "lead.archived" or "api_key.revoked" rather than "updated".
var lifecycleVerbs = []struct{ field, set, cleared string }{
	{"merged_into", "merged", ""}, // before archived_at: a merge also archives
	{"archived_at", "archived", "restored"},
	{"revoked_at", "revoked", ""},
	{"key_hash", "rolled", ""},
}

func verb(m ent.Mutation) string {
	switch {
	case m.Op().Is(ent.OpCreate):
		return "created"
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
		return "deleted"
	}
	for _, lv := range lifecycleVerbs {
		if _, ok := m.Field(lv.field); ok {
			return lv.set
		}
		if lv.cleared != "" && m.FieldCleared(lv.field) {
			return lv.cleared
		}
	}
	return "updated"
}

// record appends one event as the acting viewer. The platform viewer has no
// tenant to write in, so a tenant it creates is logged by that tenant's
// system viewer.
func record(ctx context.Context, tx *gen.Tx, resource, action string, id int, changes map[string]diff.Change) error {
	v := viewer.FromContext(ctx)
	if v != nil && v.Kind == viewer.KindPlatform && resource == "tenant" {
		ctx = viewer.NewContext(ctx, viewer.System(id, viewer.Live))
		v = viewer.FromContext(ctx)
	}
	if !v.TenantScoped() {
		return fmt.Errorf("audit: no tenant to log %s in", action)
	}
	c := tx.AuditEvent.Create().
		SetAction(action).SetResourceType(resource).SetResourceID(id).
		SetRequestID(v.Request.ID).SetIP(v.Request.IP).SetUserAgent(text.Clean(v.Request.UserAgent)).
		SetChanges(changes)
	actor, onBehalf := v.UserID, 0
	if v.KeyOwnerID != 0 {
		actor, onBehalf = v.KeyOwnerID, v.UserID
	}
	if actor != 0 {
		c.SetActorID(actor)
	}
	if onBehalf != 0 {
		c.SetOnBehalfOfID(onBehalf)
	}
	if v.APIKeyID != 0 {
		c.SetAPIKeyID(v.APIKeyID)
	}
	return c.Exec(ctx)
}

// jsonable turns ent values into what the log stores: enums as strings,
// times in UTC, and a lead's custom fields as their object (equal then
// compares them by value, whatever their text's key order).
func jsonable(v any) any {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		v = rv.Elem().Interface()
	}
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case customfields.Fields:
		if m, err := x.Map(); err == nil {
			return m
		}
		return x
	case fmt.Stringer:
		return x.String()
	}
	return v
}

func equal(a, b any) bool {
	return fmt.Sprintf("%#v", jsonable(a)) == fmt.Sprintf("%#v", jsonable(b))
}
