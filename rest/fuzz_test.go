package rest_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/testutil"
)

// fuzzWorld is one SQLite-backed server shared by a fuzz target's inputs.
func fuzzWorld(f *testing.F) *world {
	return newWorld(f, testutil.NewDB(f, dialect.SQLite))
}

// envelopeOnly is the fuzz invariant: never a 5xx or a panic, and always
// the documented envelope (apitest also checks the OpenAPI document).
func envelopeOnly(t *testing.T, res apitest.Response) {
	t.Helper()
	if res.Status >= 500 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	if res.Status == 204 {
		return
	}
	var env struct {
		Success *bool           `json:"success"`
		Status  int             `json:"status"`
		Meta    json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal([]byte(res.Body), &env); err != nil || env.Success == nil || env.Status != res.Status || env.Meta == nil {
		t.Fatalf("not the envelope (%v): %s", err, res.Body)
	}
}

func FuzzLeadBodies(f *testing.F) {
	w := fuzzWorld(f)
	for _, s := range []string{
		`{"email":"jane@acme.com","firstName":"Jane","lastName":"Doe"}`,
		`{"email":"x","score":1e400,"customFields":{"a":{"b":[1]}}}`,
		`{"customFields":{"k":null},"phone":null,"assignedTo":"AAAAAAAAAAAAAAAA"}`,
		`[]`, `null`, `{"email":"\u0000@x.y"}`, `{`, ``, `{"score":-0.0,"status":"new","source":"web"}`,
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body string, create bool) {
		req := apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full, Body: body}
		if create {
			req.Method, req.Path = "POST", "/v1/leads"
		}
		envelopeOnly(t, w.Do(t, req))
	})
}

func FuzzListQuery(f *testing.F) {
	w := fuzzWorld(f)
	for _, s := range []string{
		"limit=5&sort=-score", "after=eyJzIjoiLWNyZWF0ZWRBdCJ9", "q=%00%ff", "minScore=1e9", "createdAfter=2026-13-45T99:99:99Z",
		"status=new&status=new", "before=&after=", "sort=-", "limit=-1", "includeArchived=TRUE", "assignedTo=" + "zzzzzzzzzzzzzzzz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		u, err := url.Parse("/v1/leads?" + rawQuery)
		if err != nil || strings.IndexFunc(rawQuery, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
			t.Skip() // not a valid request target: net/http rejects it before Leadron sees it
		}
		envelopeOnly(t, w.Do(t, apitest.Request{Method: "GET", Path: u.String(), Key: w.keys.full}))
	})
}

func FuzzCredentials(f *testing.F) {
	w := fuzzWorld(f)
	for _, s := range []string{"ldr_live_sk_x", "Bearer ldr_live_sk_x", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30.", "bearer", "Basic Zm9vOmJhcg==", "", "\x00"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, apiKey, authorization string) {
		headers := map[string]string{}
		if apiKey != "" {
			headers["X-API-Key"] = apiKey
		}
		if authorization != "" {
			headers["Authorization"] = authorization
		}
		if !validHeaders(headers) {
			t.Skip() // net/http refuses to send it; no server sees it
		}
		res := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads?limit=1", Headers: headers})
		envelopeOnly(t, res)
		if res.Status == 200 && apiKey != w.keys.full && authorization != "Bearer "+w.keys.full {
			t.Fatalf("a made-up credential was accepted: %q / %q", apiKey, authorization)
		}
	})
}

// validHeaders reports whether net/http will send the values.
func validHeaders(h map[string]string) bool {
	for _, v := range h {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return false
			}
		}
	}
	return true
}
