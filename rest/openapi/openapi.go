// Package openapi holds Leadron's OpenAPI 3.1 document and a validator that
// checks real responses against it.
//
// The document (openapi.json) is the contract of the REST API v1: it is
// served at GET /v1/openapi.json by Handler, and tests of the handlers check
// their responses against it with a Validator.
package openapi

import (
	"bytes"
	_ "embed"
	"net/http"
	"strconv"
)

//go:embed openapi.json
var document []byte

// JSON returns the document as served at GET /v1/openapi.json. The slice is
// the caller's own copy.
func JSON() []byte { return bytes.Clone(document) }

// Handler serves the document with Content-Type application/json. It is
// meant to be mounted on GET (the router answers HEAD for it too); clients
// may cache it for five minutes.
func Handler() http.Handler {
	length := strconv.Itoa(len(document))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", length)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(document)
		}
	})
}
