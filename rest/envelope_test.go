package rest_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/rest"
)

// HEAD answers wherever GET does, with GET's status and headers and no
// body, behind the same credentials.
func TestHead(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		get := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads/" + w.mine, Key: w.keys.full})
		w.Run(t, []apitest.Scenario{
			{Name: "a lead", Request: apitest.Request{Method: "HEAD", Path: "/v1/leads/" + w.mine, Key: w.keys.full, OffContract: true}, Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					if res.Body != "" || res.Header.Get("Etag") != get.Header.Get("Etag") || res.Header.Get("X-Ratelimit-Limit") == "" {
						t.Errorf("body %q, ETag %q (GET's %q), X-RateLimit-Limit %q", res.Body, res.Header.Get("Etag"), get.Header.Get("Etag"), res.Header.Get("X-Ratelimit-Limit"))
					}
				}},
			{Name: "a list", Request: apitest.Request{Method: "HEAD", Path: "/v1/leads?limit=1", Key: w.keys.full, OffContract: true}, Status: 200},
			{Name: "another tenant's lead", Request: apitest.Request{Method: "HEAD", Path: "/v1/leads/" + w.theirs, Key: w.keys.full, OffContract: true}, Status: 404},
			{Name: "without a key", Request: apitest.Request{Method: "HEAD", Path: "/v1/leads/" + w.mine, OffContract: true}, Status: 401},
		})
	})
}

func TestEnvelopeOnEveryError(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		envelope := []string{`"success":false`, `"errors":[{`, `"meta":{"timestamp":"`, `"version":"v1"`, `"requestId":"`}
		w.Run(t, []apitest.Scenario{
			{Name: "unknown route under /v1", Request: apitest.Request{Method: "GET", Path: "/v1/nope", Key: w.keys.full, OffContract: true}, Status: 404,
				Contains: append(envelope, `"code":"not_found"`)},
			{Name: "unknown route at the root", Request: apitest.Request{Method: "GET", Path: "/nope", OffContract: true}, Status: 404,
				Contains: append(envelope, `"code":"not_found"`)},
			{Name: "method not allowed", Request: apitest.Request{Method: "PUT", Path: "/v1/leads", Key: w.keys.full, OffContract: true}, Status: 405,
				Contains: append(envelope, `"code":"method_not_allowed"`),
				Check: func(t *testing.T, res apitest.Response) {
					if got := res.Header.Get("Allow"); got != "GET, POST" {
						t.Errorf("Allow: %q, want GET, POST", got)
					}
				}},
			{Name: "the OpenAPI document, without a key", Request: apitest.Request{Method: "GET", Path: "/v1/openapi.json"}, Status: 200,
				Contains: []string{`"openapi": "3.1.0"`, `"/leads/{id}"`, `"ApiKeyAuth"`}},
			{Name: "insane request ID is replaced", Request: apitest.Request{Method: "GET", Path: "/v1/leads", Key: w.keys.full,
				Headers: map[string]string{"X-Request-Id": "bad id\twith spaces"}}, Status: 200,
				Check: func(t *testing.T, res apitest.Response) {
					if id := res.Header.Get("X-Request-Id"); !strings.HasPrefix(id, "req_") {
						t.Errorf("X-Request-Id %q, want a generated one", id)
					}
				}},
		})
	})
}

// A body announced as over 1 MiB is refused before it is read.
func TestTooLargeByContentLength(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		// Send only the headers: the answer must come without the body.
		conn, err := net.Dial("tcp", strings.TrimPrefix(w.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/leads HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", w.keys.full, rest.MaxBodyBytes+1)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no response before the body was sent: %v", err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != 413 || !strings.Contains(string(raw), `"code":"payload_too_large"`) {
			t.Errorf("got %d %s", res.StatusCode, raw)
		}
	})
}

// A panicking handler becomes a 500 in the envelope, with nothing of the
// panic in the response.
func TestPanicBecomesInternalError(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		auth := rest.NewAuthenticator(db.Client, w.Codec, testutil.Logger(t), "")
		gate := rest.NewGate(auth, ratelimit.NewMemory(), rest.DefaultRateLimits, testutil.Logger(t))
		v1 := rest.NewRouterForTest(rest.Deps{Client: db.Client, Codec: w.Codec, Logger: testutil.Logger(t), Auth: auth, Gate: gate}, func(r chi.Router) {
			r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("secret internals: db password is hunter2") })
		})
		root := chi.NewRouter()
		root.Use(rest.RequestID, rest.Observe(testutil.Logger(t)))
		root.Mount("/v1", v1)
		srv := httptest.NewServer(root)
		defer srv.Close()
		defer auth.Wait()
		req, _ := http.NewRequest("GET", srv.URL+"/v1/boom", nil)
		req.Header.Set("X-API-Key", w.keys.full)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		body := string(raw)
		if res.StatusCode != 500 || !strings.Contains(body, `"code":"internal_error"`) || !strings.Contains(body, `"requestId":"req_`) {
			t.Errorf("got %d %s", res.StatusCode, body)
		}
		if strings.Contains(body, "hunter2") || strings.Contains(body, "secret") {
			t.Errorf("the panic leaked: %s", body)
		}
	})
}
