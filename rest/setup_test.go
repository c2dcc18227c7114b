package rest_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

const live, sandbox = viewer.Live, viewer.Sandbox

// world is two tenants with keys of every kind and a lead in each place.
type world struct {
	*apitest.Env
	acme, globex testutil.Tenant
	member, view *ent.User
	keys         struct{ full, sandbox, readOnly, writer, member, viewer, globex string }
	// lead IDs: acme live, acme sandbox, globex live
	mine, mineSandbox, theirs string
}

func newWorld(t testing.TB, db *store.DB, configure ...func(*server.Deps)) *world {
	t.Helper()
	w := &world{Env: apitest.New(t, db, configure...)}
	// The team plan's limits leave room for the busiest test.
	w.acme = testutil.NewTenantOnPlan(t, db, "acme", "team")
	w.globex = testutil.NewTenantOnPlan(t, db, "globex", "team")
	w.member = w.User(t, w.acme, "member@acme.test", "member")
	w.view = w.User(t, w.acme, "viewer@acme.test", "viewer")
	w.keys.full = w.Key(t, w.acme, w.acme.OwnerID, live, "full_access")
	w.keys.sandbox = w.Key(t, w.acme, w.acme.OwnerID, sandbox, "full_access")
	w.keys.readOnly = w.Key(t, w.acme, w.acme.OwnerID, live, "read_only")
	w.keys.writer = w.Key(t, w.acme, w.acme.OwnerID, live, "leads:read", "leads:write")
	w.keys.member = w.Key(t, w.acme, w.member.ID, live, "full_access")
	w.keys.viewer = w.Key(t, w.acme, w.view.ID, live, "full_access")
	w.keys.globex = w.Key(t, w.globex, w.globex.OwnerID, live, "full_access")
	w.mine = w.Codec.Encode(w.acme.NewLead(t, db.Client, live, "mine@acme.test").ID)
	w.mineSandbox = w.Codec.Encode(w.acme.NewLead(t, db.Client, sandbox, "sandbox@acme.test").ID)
	w.theirs = w.Codec.Encode(w.globex.NewLead(t, db.Client, live, "theirs@globex.test").ID)
	return w
}

// fieldsOf lists the fields named in an error response, in order.
func fieldsOf(t *testing.T, res apitest.Response) []string {
	t.Helper()
	var out []string
	for _, e := range res.JSON(t)["errors"].([]any) {
		if f, ok := e.(map[string]any)["field"].(string); ok {
			out = append(out, f)
		}
	}
	return out
}

// hasFields returns a check that the error names exactly these fields.
func hasFields(fields ...string) func(*testing.T, apitest.Response) {
	return func(t *testing.T, res apitest.Response) {
		t.Helper()
		got := fieldsOf(t, res)
		if !slices.Equal(got, fields) {
			t.Errorf("error fields %v, want %v\n%s", got, fields, res.Body)
		}
	}
}

// withoutMeta is the body with its meta (timestamp, request ID) removed,
// for comparing two responses that must be indistinguishable.
func withoutMeta(t *testing.T, res apitest.Response) string {
	t.Helper()
	m := res.JSON(t)
	delete(m, "meta")
	b, _ := json.Marshal(m)
	return string(b)
}

// secrets must never appear in any response.
var secrets = []string{"$argon2id$", "keyHash", "key_hash", "passwordHash", "password_hash"}

func body(parts ...string) string { return "{" + strings.Join(parts, ",") + "}" }
