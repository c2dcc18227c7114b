package rest

import (
	"context"
	"net/http"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/ids"
)

// The hooks below expose unexported hot paths to the benchmarks in
// bench_test.go (package rest_test) and nothing else.

// OKForBench writes data in the success envelope, as handlers do.
func OKForBench(w http.ResponseWriter, r *http.Request, data any) { ok(w, r, http.StatusOK, data) }

// PageForBench writes one page of a list in the envelope.
func PageForBench(w http.ResponseWriter, r *http.Request, data any, p Pagination) {
	page(w, r, data, p)
}

// LeadForBench converts a stored lead to its API form.
func LeadForBench(ctx context.Context, codec *ids.Codec, l *ent.Lead) Lead {
	return (&api{codec: codec}).lead(ctx, l)
}

// DecodeLeadForBench decodes a lead body as POST and PATCH do.
func DecodeLeadForBench(codec *ids.Codec, r *http.Request) error {
	_, _, err := (&api{codec: codec}).decodeLead(r)
	return err
}
