package rest

import (
	"context"
	"net/http"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/ids"
)

// The hooks below expose unexported hot paths to the benchmarks in
// bench_test.go (package rest_test) and nothing else.

// OKForBench writes a lead in the success envelope, as GET does.
func OKForBench(w http.ResponseWriter, r *http.Request, l *Lead) { okLead(w, r, http.StatusOK, l) }

// PageForBench writes one page of leads in the envelope, as the list does.
func PageForBench(w http.ResponseWriter, r *http.Request, leads []Lead, p Pagination) {
	pageLeads(w, r, leads, p)
}

// LeadForBench converts a stored lead to its API form.
func LeadForBench(ctx context.Context, codec *ids.Codec, l *ent.Lead) Lead {
	return (&api{codec: codec}).lead(ctx, l)
}

// AppendLeadForBench appends l's JSON as responses write it.
func AppendLeadForBench(dst []byte, l *Lead) ([]byte, error) { return l.appendJSON(dst) }

// DecodeLeadForBench decodes a lead body as POST and PATCH do.
func DecodeLeadForBench(codec *ids.Codec, r *http.Request) error {
	_, _, err := (&api{codec: codec}).decodeLead(r)
	return err
}
