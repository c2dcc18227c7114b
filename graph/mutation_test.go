package graph_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/diff"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

const leadFields = `id email firstName lastName phone source status score customFields archivedAt assignee { id }`

// auditShape is what must match between REST's and GraphQL's events for
// the same change: everything but the resource's ID, the request and the
// time. Changed times are compared by presence only.
type auditShape struct {
	Action, ResourceType          string
	Actor, OnBehalfOf, APIKey     *int
	Changes                       map[string]diff.Change
	HasRequestID, HasIP, HasAgent bool
}

func auditTrail(t *testing.T, w *world, id int) []auditShape {
	t.Helper()
	evs, err := w.db.Client.AuditEvent.Query().
		Where(auditevent.ResourceID(id)).Order(ent.Asc(auditevent.FieldID)).All(w.acme.System(live))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]auditShape, len(evs))
	for i, e := range evs {
		changes := maps.Clone(e.Changes)
		for f, c := range changes {
			if strings.HasSuffix(f, "_at") {
				changes[f] = diff.Change{Old: c.Old != nil, New: c.New != nil}
			}
		}
		out[i] = auditShape{
			Action: e.Action, ResourceType: e.ResourceType,
			Actor: e.ActorID, OnBehalfOf: e.OnBehalfOfID, APIKey: e.APIKeyID, Changes: changes,
			HasRequestID: e.RequestID != "", HasIP: e.IP != "", HasAgent: e.UserAgent != "",
		}
	}
	return out
}

// The same changes made through REST and through GraphQL leave the same
// leads and the same audit trail: both go through the data layer's
// validation, hooks and audit, and share leadops' semantics.
func TestMutationsMatchREST(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		member := w.Codec.Encode(w.member.ID)
		create := `{"email":"twin@acme.test","firstName":"Twin","lastName":"Lead","phone":"+1 555 0100","source":"web","score":40,"assignedTo":"` + member + `","customFields":{"company":"Acme","role":"VP","seats":10}}`
		patch := `{"status":"contacted","score":70,"phone":null,"customFields":{"role":null,"seats":25,"vip":true}}`

		// REST, step by step.
		res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full, Body: create})
		if res.Status != http.StatusCreated {
			t.Fatalf("REST create: %d %s", res.Status, res.Body)
		}
		restID := str(res.Data(t)["id"])
		for _, req := range []apitest.Request{
			{Method: "PATCH", Path: "/v1/leads/" + restID, Body: patch},
			{Method: "DELETE", Path: "/v1/leads/" + restID},
			{Method: "DELETE", Path: "/v1/leads/" + restID},
			{Method: "POST", Path: "/v1/leads/" + restID + "/restore"},
		} {
			req.Key = w.keys.full
			if res := w.Do(t, req); res.Status >= 300 {
				t.Fatalf("REST %s %s: %d %s", req.Method, req.Path, res.Status, res.Body)
			}
		}
		restLead := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads/" + restID, Key: w.keys.full}).Data(t)

		// GraphQL, the same steps with the same inputs.
		var in, upd map[string]any
		_ = json.Unmarshal([]byte(create), &in)
		_ = json.Unmarshal([]byte(patch), &upd)
		in["assigneeID"] = in["assignedTo"]
		delete(in, "assignedTo")
		upd["clearPhone"] = true
		delete(upd, "phone")
		gql := w.as(t, w.keys.full, `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`, map[string]any{"in": in})
		gqlID := str(dig(gql.Data, "createLead", "id"))
		if gqlID == "" {
			t.Fatalf("GraphQL create: %s", gql.Body)
		}
		var last gqlResponse
		for _, step := range []struct {
			q    string
			vars map[string]any
		}{
			{`mutation($id: ID!, $in: UpdateLeadInput!) { updateLead(id: $id, input: $in) { id } }`, map[string]any{"id": gqlID, "in": upd}},
			{`mutation($id: ID!) { archiveLead(id: $id) { id } }`, map[string]any{"id": gqlID}},
			{`mutation($id: ID!) { archiveLead(id: $id) { id } }`, map[string]any{"id": gqlID}},
			{`mutation($id: ID!) { restoreLead(id: $id) { ` + leadFields + ` } }`, map[string]any{"id": gqlID}},
		} {
			if last = w.as(t, w.keys.full, step.q, step.vars); len(last.Errors) > 0 {
				t.Fatalf("GraphQL %s: %s", step.q, last.Body)
			}
		}
		gqlLead := dig(last.Data, "restoreLead").(map[string]any)

		// The same lead, field for field.
		for _, f := range []string{"email", "firstName", "lastName", "phone", "source", "status", "score", "customFields"} {
			if !reflect.DeepEqual(restLead[f], gqlLead[f]) {
				t.Errorf("%s: REST %v, GraphQL %v", f, restLead[f], gqlLead[f])
			}
		}
		if want := map[string]any{"company": "Acme", "seats": float64(25), "vip": true}; !reflect.DeepEqual(gqlLead["customFields"], want) {
			t.Errorf("customFields %v, want the merge %v", gqlLead["customFields"], want)
		}
		if str(restLead["assignedTo"]) != member || str(dig(gqlLead, "assignee", "id")) != member {
			t.Errorf("assignee: REST %v, GraphQL %v, want %s", restLead["assignedTo"], gqlLead["assignee"], member)
		}

		// The same audit trail, event for event.
		restIDn, _ := w.Codec.Decode(restID)
		gqlIDn, _ := w.Codec.Decode(gqlID)
		restTrail, gqlTrail := auditTrail(t, w, restIDn), auditTrail(t, w, gqlIDn)
		var actions []string
		for _, e := range gqlTrail {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, ","); got != "lead.created,lead.updated,lead.archived,lead.restored" {
			t.Errorf("GraphQL actions %s", got)
		}
		if !reflect.DeepEqual(restTrail, gqlTrail) {
			t.Errorf("audit trails differ\nREST    %+v\nGraphQL %+v", restTrail, gqlTrail)
		}
		if len(gqlTrail) > 0 && (gqlTrail[0].Actor == nil || *gqlTrail[0].Actor != w.acme.OwnerID || gqlTrail[0].APIKey == nil) {
			t.Errorf("the event does not name the owner and the key: %+v", gqlTrail[0])
		}

		// The log reads back in GraphQL with the API's IDs, never raw ones.
		log := w.as(t, w.keys.full, `query($id: ID!) {
			auditEvents(first: 10, where: {resourceID: $id}, orderBy: {field: CREATED_AT, direction: ASC}) {
				edges { node { action resourceType resourceID actorID apiKeyID onBehalfOfID requestID changes } }
			}
		}`, map[string]any{"id": gqlID})
		events, _ := dig(log.Data, "auditEvents", "edges").([]any)
		if len(events) != 4 || str(dig(events, 3, "node", "action")) != "lead.restored" {
			t.Fatalf("auditEvents: %s", log.Body)
		}
		owner := w.Codec.Encode(w.acme.OwnerID)
		for _, e := range events {
			n := dig(e, "node")
			if str(dig(n, "resourceID")) != gqlID || str(dig(n, "actorID")) != owner || len(str(dig(n, "apiKeyID"))) < 16 ||
				dig(n, "onBehalfOfID") != nil || str(dig(n, "requestID")) == "" {
				t.Errorf("audit event %v", n)
			}
		}

		// Each event's changes are REST's, but for the times' precision.
		rest := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/audit-events?sort=createdAt&resourceId=" + gqlID, Key: w.keys.full})
		restEvents, _ := rest.JSON(t)["data"].([]any)
		if len(restEvents) != len(events) {
			t.Fatalf("REST lists %d events, GraphQL %d", len(restEvents), len(events))
		}
		for i, e := range events {
			gqlChanges, _ := dig(e, "node", "changes").(map[string]any)
			restChanges, _ := dig(restEvents, i, "changes").(map[string]any)
			if len(gqlChanges) == 0 || !reflect.DeepEqual(slices.Sorted(maps.Keys(gqlChanges)), slices.Sorted(maps.Keys(restChanges))) {
				t.Errorf("event %d: GraphQL changes %v, REST %v", i, gqlChanges, restChanges)
				continue
			}
			for field, c := range gqlChanges {
				if !strings.HasSuffix(field, "At") && !reflect.DeepEqual(c, restChanges[field]) {
					t.Errorf("event %d, %s: GraphQL %v, REST %v", i, field, c, restChanges[field])
				}
			}
		}
		if got := dig(events, 0, "node", "changes", "tenantId", "new"); got != "acme" {
			t.Errorf("the created event's tenantId is %v, want the slug", got)
		}
	})
}

// A mutation request is one transaction: when any of its fields fails,
// none of its writes or audit events remain.
func TestMutationRequestIsOneTransaction(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		res := w.as(t, w.keys.full, `mutation($id: ID!) {
			a: createLead(input: {email: "first@acme.test", firstName: "F", lastName: "S"}) { id }
			b: archiveLead(id: $id) { id }
			c: createLead(input: {email: "not an email", firstName: "S", lastName: "S"}) { id }
		}`, map[string]any{"id": w.mine})
		if strings.Join(res.codes(), ",") != "validation_failed" || res.Data != nil {
			t.Fatalf("%s", res.Body)
		}
		ctx := w.acme.System(live)
		mine, _ := w.Codec.Decode(w.mine)
		if n := db.Client.Lead.Query().CountX(ctx); n != 1 {
			t.Errorf("%d leads, want only the fixture", n)
		}
		if l := db.Client.Lead.GetX(ctx, mine); l.ArchivedAt != nil {
			t.Error("the archive was kept")
		}
		if n := db.Client.AuditEvent.Query().Where(auditevent.RequestIDNEQ("")).CountX(ctx); n != 0 {
			t.Errorf("%d audit events kept", n)
		}
	})
}

// Status changes follow the lifecycle, as on REST; force is for owners and
// admins, and is audited as forced.
func TestUpdateLeadForce(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		memberKey := w.Key(t, w.acme, w.member.ID, live, "full_access")
		const q = `mutation($id: ID!, $force: Boolean) { updateLead(id: $id, input: {status: qualified}, force: $force) { status } }`
		for _, tc := range []struct {
			name        string
			key         string
			force       any
			code, field string
		}{
			{"skipping a step", w.keys.full, nil, "validation_failed", "status"},
			{"forced by a member", memberKey, true, "forbidden", ""},
			{"forced by the owner", w.keys.full, true, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := w.as(t, tc.key, q, map[string]any{"id": w.mine, "force": tc.force})
				if tc.code == "" {
					if str(dig(res.Data, "updateLead", "status")) != "qualified" {
						t.Fatalf("%s", res.Body)
					}
					return
				}
				if len(res.Errors) != 1 || res.Errors[0].code() != tc.code || res.Errors[0].field() != tc.field {
					t.Errorf("want %s %s: %s", tc.code, tc.field, res.Body)
				}
			})
		}
		mine, _ := w.Codec.Decode(w.mine)
		trail := auditTrail(t, w, mine)
		if last := trail[len(trail)-1]; last.Action != "lead.status_forced" {
			t.Errorf("the forced change is logged as %s", last.Action)
		}
	})
}

// One object has one ID and the same times, whichever API made it and
// whichever reads it; a time read from REST filters exactly in GraphQL.
func TestSameIDsAsREST(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		res := w.Do(t, apitest.Request{Method: "POST", Path: "/v1/leads", Key: w.keys.full,
			Body: `{"email":"rest@acme.test","firstName":"R","lastName":"E"}`})
		restID, restCreated := str(res.Data(t)["id"]), str(res.Data(t)["createdAt"])
		gql := w.as(t, w.keys.full, `query($id: ID!, $at: Time!) {
			node(id: $id) { id ... on Lead { createdAt updatedAt } }
			leads(first: 5, where: {email: "rest@acme.test"}) { edges { node { id } } }
			atOrAfter: leads(first: 5, where: {email: "rest@acme.test", createdAtGTE: $at}) { totalCount }
			after: leads(first: 5, where: {email: "rest@acme.test", createdAtGT: $at}) { totalCount }
		}`, map[string]any{"id": restID, "at": restCreated})
		if str(dig(gql.Data, "node", "id")) != restID || str(dig(gql.Data, "leads", "edges", 0, "node", "id")) != restID {
			t.Errorf("REST made %s; GraphQL shows %s", restID, gql.Body)
		}
		if got := str(dig(gql.Data, "node", "createdAt")); got != restCreated || str(dig(gql.Data, "node", "updatedAt")) != str(res.Data(t)["updatedAt"]) {
			t.Errorf("REST shows createdAt %s; GraphQL %s", restCreated, gql.Body)
		}
		if dig(gql.Data, "atOrAfter", "totalCount") != 1.0 || dig(gql.Data, "after", "totalCount") != 0.0 {
			t.Errorf("filtering by REST's createdAt %s: %s, want the lead at or after it and none after it", restCreated, gql.Body)
		}

		gql = w.as(t, w.keys.full, `mutation { createLead(input: {email: "gql@acme.test", firstName: "G", lastName: "Q"}) { id } }`, nil)
		gqlID := str(dig(gql.Data, "createLead", "id"))
		res = w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads/" + gqlID, Key: w.keys.full})
		if res.Status != http.StatusOK || str(res.Data(t)["id"]) != gqlID {
			t.Errorf("GraphQL made %s; REST answers %d %s", gqlID, res.Status, res.Body)
		}
		if len(gqlID) < 16 || len(gqlID) > 17 {
			t.Errorf("ID %q is not 16–17 characters", gqlID)
		}
	})
}

// Errors carry REST's codes and the GraphQL name of the field at fault,
// and never the database's or a decoder's text.
func TestErrors(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		theirUser := w.Codec.Encode(w.globex.OwnerID)
		createQ := `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`
		lead := func(extra map[string]any) map[string]any {
			in := map[string]any{"email": "e@acme.test", "firstName": "E", "lastName": "R"}
			maps.Copy(in, extra)
			return map[string]any{"in": in}
		}
		for _, tc := range []struct {
			name, key, query string
			vars             map[string]any
			status           int
			code, field      string
		}{
			{"bad email", w.keys.full, createQ, lead(map[string]any{"email": "nope"}), 200, "validation_failed", "email"},
			{"score over 100", w.keys.full, createQ, lead(map[string]any{"score": 101}), 200, "validation_failed", "score"},
			{"blank first name", w.keys.full, createQ, lead(map[string]any{"firstName": "  "}), 200, "validation_failed", "firstName"},
			{"nested custom field", w.keys.full, createQ, lead(map[string]any{"customFields": map[string]any{"a": map[string]any{"b": 1}}}), 200, "validation_failed", "customFields"},
			{"custom fields not a map", w.keys.full, createQ, lead(map[string]any{"customFields": "x"}), 200, "validation_failed", "customFields"},
			{"custom field number beyond float64", w.keys.full, createQ, lead(map[string]any{"customFields": map[string]any{"n": json.Number("1e400")}}), 200, "validation_failed", "customFields"},
			{"update with a custom field number beyond float64", w.keys.full, `mutation($id: ID!, $in: UpdateLeadInput!) { updateLead(id: $id, input: $in) { id } }`,
				map[string]any{"id": w.mine, "in": map[string]any{"customFields": map[string]any{"n": json.Number("-1e400")}}}, 200, "validation_failed", "customFields"},
			{"NUL in a custom field", w.keys.full, createQ, lead(map[string]any{"customFields": map[string]any{"note": "a\x00b"}}), 200, "validation_failed", "customFields"},
			{"another tenant's assignee", w.keys.full, createQ, lead(map[string]any{"assigneeID": theirUser}), 200, "validation_failed", "assigneeID"},
			{"malformed assignee", w.keys.full, createQ, lead(map[string]any{"assigneeID": "garbage"}), 200, "validation_failed", "assigneeID"},
			{"unknown source", w.keys.full, createQ, lead(map[string]any{"source": "fax"}), 422, "graphql_validation_failed", ""},
			// Filtering leads by their assignee's fields would reveal users'
			// emails and roles to a key without users:read.
			{"filter by the assignee's email", w.keys.full, `{ leads(first: 1, where: {hasAssigneeWith: {emailHasPrefix: "own"}}) { totalCount } }`, nil, 422, "graphql_validation_failed", ""},
			{"missing last name", w.keys.full, createQ, map[string]any{"in": map[string]any{"email": "e@acme.test", "firstName": "E"}}, 422, "graphql_validation_failed", ""},
			{"update another tenant's lead", w.keys.full, `mutation($id: ID!) { updateLead(id: $id, input: {score: 1}) { id } }`, map[string]any{"id": w.theirs}, 200, "not_found", ""},
			{"update with a malformed ID", w.keys.full, `mutation { updateLead(id: "x", input: {score: 1}) { id } }`, nil, 200, "not_found", ""},
			{"update with a user's ID", w.keys.full, `mutation($id: ID!) { updateLead(id: $id, input: {score: 1}) { id } }`, map[string]any{"id": w.Codec.Encode(w.member.ID)}, 200, "not_found", ""},
			{"set and clear the phone", w.keys.full, `mutation($id: ID!) { updateLead(id: $id, input: {phone: "+1 555 0199", clearPhone: true}) { id } }`, map[string]any{"id": w.mine}, 200, "validation_failed", "phone"},
			{"set and clear the assignee", w.keys.full, `mutation($id: ID!, $u: ID!) { updateLead(id: $id, input: {assigneeID: $u, clearAssignee: true}) { id } }`,
				map[string]any{"id": w.mine, "u": w.Codec.Encode(w.member.ID)}, 200, "validation_failed", "assigneeID"},
			{"clear the email", w.keys.full, `mutation($id: ID!) { updateLead(id: $id, input: {email: ""}) { id } }`, map[string]any{"id": w.mine}, 200, "validation_failed", "email"},
			{"create without leads:write", w.keys.readOnly, createQ, lead(nil), 200, "insufficient_scope", ""},
			{"archive without leads:delete", w.keys.writer, `mutation($id: ID!) { archiveLead(id: $id) { id } }`, map[string]any{"id": w.mine}, 200, "insufficient_scope", ""},
			{"restore an active lead without leads:delete", w.keys.writer, `mutation($id: ID!) { restoreLead(id: $id) { id } }`, map[string]any{"id": w.mine}, 200, "insufficient_scope", ""},
			{"list keys without api_keys:read", w.keys.writer, `{ apiKeys(first: 5) { totalCount } }`, nil, 200, "insufficient_scope", ""},
			{"create a key without api_keys:write", w.keys.writer, `mutation { createAPIKey(input: {name: "k", scopes: ["leads:read"]}) { key } }`, nil, 200, "insufficient_scope", ""},
			{"unknown scope", w.keys.full, `mutation { createAPIKey(input: {name: "k", scopes: ["leads:fly"]}) { key } }`, nil, 200, "validation_failed", "scopes"},
			{"expiry in the past", w.keys.full, `mutation { createAPIKey(input: {name: "k", scopes: ["leads:read"], expiresAt: "2020-01-01T00:00:00Z"}) { key } }`, nil, 200, "validation_failed", "expiresAt"},
			{"bad time", w.keys.full, `mutation { createAPIKey(input: {name: "k", scopes: ["leads:read"], expiresAt: "soon"}) { key } }`, nil, 200, "validation_failed", "expiresAt"},
			{"roll grace too long", w.keys.full, `mutation($id: ID!) { rollAPIKey(id: $id, expiresInSeconds: 999999999) { key } }`, nil, 200, "validation_failed", "expiresInSeconds"},
			{"bad cursor", w.keys.full, `{ leads(first: 1, after: "bm90IGEgY3Vyc29y") { totalCount } }`, nil, 200, "validation_failed", "after"},
			// "garbage" decodes to a cut-off value: the decoder's unexpected
			// EOF is the client's, not a lost database connection.
			{"cursor that ends early", w.keys.full, `{ leads(first: 1, after: "garbage") { totalCount } }`, nil, 200, "validation_failed", "after"},
			{"NUL in a name", w.keys.full, createQ, lead(map[string]any{"firstName": "a\x00b"}), 200, "validation_failed", "firstName"},
			{"NUL in an update", w.keys.full, `mutation($id: ID!) { updateLead(id: $id, input: {lastName: "x\u0000"}) { id } }`, map[string]any{"id": w.mine}, 200, "validation_failed", "lastName"},
			{"NUL in a key's name", w.keys.full, `mutation { createAPIKey(input: {name: "k\u0000", scopes: ["leads:read"]}) { key } }`, nil, 200, "validation_failed", "name"},
			{"cursor that ends early, backwards", w.keys.full, `{ leads(last: 1, before: "garbage") { totalCount } }`, nil, 200, "validation_failed", "before"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.vars == nil && strings.Contains(tc.query, "$id") {
					keys, _ := w.db.Client.APIKey.Query().IDs(w.acme.System(live))
					tc.vars = map[string]any{"id": w.Codec.Encode(keys[0])}
				}
				res := w.as(t, tc.key, tc.query, tc.vars)
				if res.Status != tc.status || len(res.Errors) == 0 {
					t.Fatalf("want %d with an error: %d %s", tc.status, res.Status, res.Body)
				}
				if e := res.Errors[0]; e.code() != tc.code || e.field() != tc.field {
					t.Errorf("code %q field %q, want %q %q: %s", e.code(), e.field(), tc.code, tc.field, res.Body)
				}
				for _, leak := range []string{"SELECT", "INSERT", "UPDATE ", "sql", "ent:", "msgpack", "base64", "constraint", "privacy", "Could not resolve"} {
					if strings.Contains(res.Body, leak) {
						t.Errorf("the error leaks %q: %s", leak, res.Body)
					}
				}
			})
		}
		if n := w.db.Client.Lead.Query().CountX(w.acme.System(live)); n != 1 {
			t.Errorf("%d leads after only failed writes, want 1", n)
		}
	})
}

// A filter with a NUL character reaches the database (no input check
// names it): PostgreSQL refuses the text, and that is the client's bad
// input, never an internal error. SQLite matches nothing.
func TestFilterWithNULIsBadInput(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		res := w.as(t, w.keys.full, `{ leads(first: 1, where: {emailContains: "a\u0000"}) { totalCount } }`, nil)
		want := ""
		if db.Dialect == dialect.Postgres {
			want = "validation_failed"
		}
		if got := strings.Join(res.codes(), ","); got != want {
			t.Errorf("codes %q, want %q: %s", got, want, res.Body)
		}
	})
}
