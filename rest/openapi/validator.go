package openapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks real responses against the document. It is safe for
// concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// NewValidator loads and validates the document and prepares its routes.
//
// The validator's copy of the document has its servers rewritten to their
// paths alone (https://api.leadron.io/v1 becomes /v1, the health checks'
// server roots become /), so that any host matches: tests run httptest
// servers on random ports.
func NewValidator() (*Validator, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	doc.Servers = pathOnly(doc.Servers)
	for _, item := range doc.Paths.Map() {
		if len(item.Servers) != 0 {
			item.Servers = pathOnly(item.Servers)
		}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: routes: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Load parses the document and validates it as OpenAPI 3.1.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(JSON())
	if err != nil {
		return nil, fmt.Errorf("openapi: loading the document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	return doc, nil
}

// pathOnly keeps the path of the first server, which every server of a list
// shares (production and development differ by host only).
func pathOnly(servers openapi3.Servers) openapi3.Servers {
	path := "/"
	if len(servers) != 0 {
		if u, err := url.Parse(servers[0].URL); err == nil && u.Path != "" {
			path = u.Path
		}
	}
	return openapi3.Servers{{URL: path}}
}

// ValidateResponse checks one real response against the document: the route
// (method+path) must exist, the status must be documented for it, the headers
// documented as required must be present (and every documented header that
// is present must match its schema), and the JSON body must match the
// schema. A response documented without a body must have none. The request's
// host is ignored; its path is the real one, such as /v1/leads/Ab12Cd34Ef56Gh78.
// The request itself is not validated.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, pathParams, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("openapi: %s %s: no such route in the document: %w", req.Method, req.URL.Path, err)
	}
	where := fmt.Sprintf("%s %s (%s %s): %d", req.Method, req.URL.Path, route.Operation.OperationID, route.Path, status)

	response := route.Operation.Responses.Status(status)
	if response == nil {
		return fmt.Errorf("openapi: %s: status not documented", where)
	}
	if response.Value != nil && len(response.Value.Content) == 0 && len(bytes.TrimSpace(body)) != 0 {
		return fmt.Errorf("openapi: %s: documented without a body, got %d bytes", where, len(body))
	}

	if header == nil {
		header = http.Header{}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("openapi: %s: %w", where, err)
	}
	return nil
}

// Document returns the validator's copy of the document (with its servers
// rewritten), for tests that inspect it. It must not be modified.
func (v *Validator) Document() *openapi3.T { return v.doc }
