package openapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/leadron/leadron/internal/audit"
)

func TestDocumentLoadsAndValidates(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	if want := []string{"https://api.leadron.io/v1", "http://localhost:8000/v1"}; !slices.Equal(urls, want) {
		t.Errorf("servers = %v, want %v", urls, want)
	}
	for name, want := range map[string]string{"ApiKeyAuth": "apiKey", "BearerAuth": "http"} {
		s := doc.Components.SecuritySchemes[name]
		if s == nil || s.Value.Type != want {
			t.Errorf("security scheme %s: %+v, want type %s", name, s, want)
		}
	}
	if s := doc.Components.SecuritySchemes["ApiKeyAuth"].Value; s.In != "header" || s.Name != "X-API-Key" {
		t.Errorf("ApiKeyAuth: in %q name %q", s.In, s.Name)
	}
	for _, name := range []string{"Unauthorized", "Forbidden", "NotFound", "ValidationFailed", "BadRequest",
		"Conflict", "PayloadTooLarge", "RateLimited", "InternalError", "UnsupportedMediaType"} {
		if doc.Components.Responses[name] == nil {
			t.Errorf("components/responses/%s is missing", name)
		}
	}
}

// The document expresses nullability the OpenAPI 3.1 way, with "null" in a
// type array or an anyOf branch: kin-openapi's 3.1 validation ignores the
// 3.0 `nullable` keyword, so a `nullable: true` would silently reject null.
func TestDocumentHasNoNullableKeyword(t *testing.T) {
	var raw any
	if err := json.Unmarshal(JSON(), &raw); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "nullable" {
					t.Errorf("%s uses the OpenAPI 3.0 keyword nullable", path)
				}
				walk(path+"/"+k, child)
			}
		case []any:
			for _, child := range v {
				walk(path+"/[]", child)
			}
		}
	}
	walk("#", raw)
}

// operation is one operation of the document with its path and method.
type operation struct {
	path, method string
	op           *openapi3.Operation
}

func operations(doc *openapi3.T) []operation {
	var ops []operation
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for _, method := range slices.Sorted(maps.Keys(item.Operations())) {
			ops = append(ops, operation{path, method, item.Operations()[method]})
		}
	}
	return ops
}

func hasParam(op *openapi3.Operation, ref string) bool {
	return slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool { return p.Ref == ref })
}

func TestEveryOperation(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	ops := operations(doc)
	if len(ops) != 23 {
		t.Errorf("%d operations, want 23", len(ops))
	}
	public := map[string]bool{"POST /auth/login": true, "POST /auth/refresh": true,
		"GET /openapi.json": true, "GET /healthz": true, "GET /readyz": true}
	scopeless := map[string]bool{"GET /users/me": true, "POST /auth/logout": true}
	ids := map[string]string{}
	for _, o := range ops {
		name := o.method + " " + o.path
		op := o.op
		t.Run(name, func(t *testing.T) {
			if op.OperationID == "" {
				t.Error("no operationId")
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s is also %s", op.OperationID, other)
			}
			ids[op.OperationID] = name
			if op.Summary == "" || op.Description == "" || len(op.Tags) != 1 {
				t.Errorf("summary %q, description %q, tags %v", op.Summary, op.Description, op.Tags)
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			authenticated := len(security) != 0
			if authenticated == public[name] {
				t.Errorf("authenticated = %v", authenticated)
			}
			must := []string{"500"}
			if authenticated {
				must = append(must, "401", "403", "429")
				if !hasParam(op, "#/components/parameters/OnBehalfOf") || !hasParam(op, "#/components/parameters/Environment") {
					t.Error("X-On-Behalf-Of / X-Leadron-Environment parameters missing")
				}
				scope, _ := op.Extensions["x-required-scope"].(string)
				switch {
				case scopeless[name]:
					if scope != "" || !strings.Contains(op.Description, "no scope") {
						t.Errorf("scope-less route: x-required-scope %q, description %q", scope, op.Description)
					}
				case scope == "":
					t.Error("no x-required-scope")
				case !strings.Contains(op.Description, "Requires scope `"+scope+"`"):
					t.Errorf("description does not name scope %s", scope)
				}
				if o.method == http.MethodPost || o.method == http.MethodPatch {
					must = append(must, "409", "422")
					if !hasParam(op, "#/components/parameters/IdempotencyKey") {
						t.Error("no Idempotency-Key parameter")
					}
				}
			}
			if op.RequestBody != nil {
				must = append(must, "400", "413", "415", "422")
			}
			if strings.Contains(o.path, "{id}") {
				must = append(must, "404")
			}
			for _, status := range must {
				r := op.Responses.Value(status)
				if r == nil {
					t.Errorf("no %s response", status)
				} else if status != "500" || authenticated {
					if !strings.HasPrefix(r.Ref, "#/components/responses/") {
						t.Errorf("%s response is not a reference to components/responses", status)
					}
				}
			}
			for status, r := range op.Responses.Map() {
				h := r.Value.Headers["X-Request-Id"]
				if h == nil || !h.Value.Required {
					t.Errorf("%s response does not declare a required X-Request-Id", status)
				}
				if strings.HasPrefix(status, "2") && status != "204" && r.Value.Content.Get("application/json") == nil {
					t.Errorf("%s response has no JSON body", status)
				}
				if status == "204" && len(r.Value.Content) != 0 {
					t.Error("204 response has a body")
				}
			}
		})
	}
}

func TestHandler(t *testing.T) {
	v := newValidator(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil)
	Handler().ServeHTTP(rec, req)
	res := rec.Result()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" ||
		res.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	if !bytes.Equal(rec.Body.Bytes(), JSON()) {
		t.Error("the handler does not serve JSON()")
	}
	// The server's middleware adds the request ID.
	res.Header.Set("X-Request-Id", "req_abc12345")
	if err := v.ValidateResponse(req, res.StatusCode, res.Header, rec.Body.Bytes()); err != nil {
		t.Error(err)
	}
	// JSON returns a copy.
	b := JSON()
	b[0] = 'x'
	if JSON()[0] == 'x' {
		t.Error("JSON() returns the embedded document itself")
	}
}

// The examples of the component schemas are valid instances of them (the
// loader checks the examples of media types, not these).
func TestSchemaExamples(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, s := range doc.Components.Schemas {
		for i, example := range s.Value.Examples {
			n++
			if err := s.Value.VisitJSON(example, openapi3.EnableJSONSchema2020()); err != nil {
				t.Errorf("%s: example %d: %v", name, i, err)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d schema examples", n)
	}
}

// The audit log's resourceType filter lists exactly the types the log holds.
func TestAuditResourceTypesMatchTheLog(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	p := doc.Paths.Find("/audit-events").Get.Parameters.GetByInAndName("query", "resourceType")
	if p == nil {
		t.Fatal("no resourceType parameter on GET /audit-events")
	}
	var got []string
	for _, v := range p.Schema.Value.Enum {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, audit.ResourceTypes) {
		t.Errorf("resourceType enum %v, want audit.ResourceTypes %v", got, audit.ResourceTypes)
	}
}
