package rest_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

// TestConstraintFailingAtCommit: on PostgreSQL a lead's insert is queued
// (pgxdriver.PreallocateIDs) and fails only with the commit. The client
// still gets the 409 an ent ConstraintError gets, on REST and on GraphQL,
// and nothing of the create stays: no lead, no audit event, no job.
func TestConstraintFailingAtCommit(t *testing.T) {
	db := testutil.NewDB(t, dialect.Postgres)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE leads ADD CONSTRAINT leads_not_blocked CHECK (email <> 'blocked@acme.test')`); err != nil {
		t.Fatal(err)
	}
	env := apitest.New(t, db)
	tn := testutil.NewTenantOnPlan(t, db, "acme", "team")
	key := env.Key(t, tn, tn.OwnerID, viewer.Live, "leads:write", "leads:read")
	tests := []struct {
		name string
		req  apitest.Request
		code func(apitest.Response) (status int, code any)
	}{
		{"REST", apitest.Request{Method: "POST", Path: "/v1/leads", Key: key,
			Body: `{"email":"blocked@acme.test","firstName":"B","lastName":"L"}`},
			func(res apitest.Response) (int, any) {
				return res.Status, res.JSON(t)["code"]
			}},
		{"GraphQL", apitest.Request{Method: "POST", Path: "/graphql", Key: key, OffContract: true,
			Body: `{"query":"mutation { createLead(input: {email: \"blocked@acme.test\", firstName: \"B\", lastName: \"L\"}) { id } }"}`},
			func(res apitest.Response) (int, any) {
				errs, _ := res.JSON(t)["errors"].([]any)
				if len(errs) != 1 {
					t.Fatalf("errors %v, want one", errs)
				}
				ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
				return res.Status, ext["code"]
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.Do(t, tt.req)
			wantStatus := map[string]int{"REST": 409, "GraphQL": 200}[tt.name]
			if status, code := tt.code(res); status != wantStatus || code != "conflict" {
				t.Errorf("status %d, code %v; want %d, conflict: %s", status, code, wantStatus, res.Body)
			}
			sys := tn.System(viewer.Live)
			if n := db.Client.Lead.Query().Where(lead.Email("blocked@acme.test")).CountX(sys); n != 0 {
				t.Errorf("%d leads stayed", n)
			}
			if n := db.Client.AuditEvent.Query().Where(auditevent.Action("lead.created")).CountX(sys); n != 0 {
				t.Errorf("%d lead.created events stayed", n)
			}
			queued, err := db.Jobs.Jobs(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(queued) != 0 {
				t.Errorf("%d jobs stayed", len(queued))
			}
		})
	}
}
